package manager

import (
	"context"
	"maps"
	"strings"
	"testing"
)

// appSnapshot renders everything stored about one app.
func appSnapshot(t *testing.T, e *apiEnv, appID string) string {
	t.Helper()
	var s string
	err := e.m.pool.QueryRow(context.Background(), `
		SELECT concat_ws('|',
			(SELECT slug || name FROM apps WHERE id = $1),
			(SELECT string_agg(id || ':' || name || ':' || current_version, ',' ORDER BY id) FROM scripts WHERE app_id = $1),
			(SELECT count(*)::text FROM script_versions WHERE app_id = $1),
			(SELECT string_agg(id || method || host || path || script_id, ',' ORDER BY id) FROM routes WHERE app_id = $1),
			(SELECT string_agg(pattern, ',' ORDER BY pattern) FROM domains WHERE app_id = $1),
			(SELECT string_agg(user_id || role, ',' ORDER BY user_id) FROM app_members WHERE app_id = $1),
			(SELECT string_agg(namespace || '/' || key || ':' || md5(value) || coalesce(metadata::text, '') || coalesce(expires_at::text, ''), ',' ORDER BY namespace, key) FROM kv_entries WHERE app_id = $1),
			(SELECT string_agg(name || ':' || md5(ciphertext), ',' ORDER BY name) FROM secrets WHERE app_id = $1))`, appID).Scan(&s)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// TestCrossAppIsolation: the members of app A (and a key bound to A) can
// neither read nor change anything of app B through any app endpoint: each
// answers 404, as if B did not exist, and B is left exactly as it was.
func TestCrossAppIsolation(t *testing.T) {
	e, a, b, callers := matrixFixture(t)
	ctx := context.Background()
	bScripts, err := e.m.Scripts(ctx, b.ID)
	if err != nil {
		t.Fatal(err)
	}
	var members []*caller
	for _, w := range callers {
		if w.valid && !w.instance && w.user != "owner" && len(w.onA) > 0 {
			members = append(members, w)
		}
	}
	if len(members) != 4 {
		t.Fatalf("expected 4 callers confined to app A, got %d", len(members))
	}
	eps := endpoints()
	maps.Copy(eps, logEndpoints())
	n := 0
	for _, k := range orderedRoutes(e.m) {
		ep, ok := eps[k]
		if !ok {
			t.Fatalf("%s is not in the matrix", k)
		}
		if ep.class < clsAppRead {
			continue
		}
		method, _, _ := strings.Cut(k, " ")
		for _, w := range members {
			rc := &reqCtx{e: e, who: w, app: b, script: Deployed{ID: bScripts[0].ID}, fresh: func() App { return b }}
			path, body := ep.build(rc)
			before := appSnapshot(t, e, b.ID)
			if got, resp := e.send(e.request(w.token, method, path, body), nil); got != 404 {
				t.Errorf("%s on app B as %s: status %d, want 404 (%s)", k, w.name, got, resp)
			}
			if after := appSnapshot(t, e, b.ID); after != before {
				t.Errorf("%s as %s changed app B:\n%s\n%s", k, w.name, before, after)
			}
			n++
		}
	}
	// The builders above added fixtures to B as the owner; what the members
	// themselves tried must not have touched B's original script.
	if s, err := e.m.Script(ctx, bScripts[0].ID); err != nil || s.Version != bScripts[0].Version {
		t.Errorf("B's script = %+v, %v; want version %d untouched", s, err, bScripts[0].Version)
	}

	for _, w := range members {
		var list struct{ Apps []App }
		if st := e.do(w.token, "GET", "/apps", nil, &list); st != 200 {
			t.Fatalf("list apps as %s: %d", w.name, st)
		}
		if len(list.Apps) != 1 || list.Apps[0].ID != a.ID {
			t.Errorf("apps listed to %s = %+v, want only A", w.name, list.Apps)
		}
		var mt RouteMatch
		if st := e.do(w.token, "POST", "/routes/match", map[string]string{"host": "app-b.test", "path": "/main"}, &mt); st != 200 || mt.Matched {
			t.Errorf("match on B's host as %s: %d %+v, want no match", w.name, st, mt)
		}
		if st := e.do(w.token, "GET", "/scripts?app="+b.ID, nil, nil); st != 404 {
			t.Errorf("scripts of B by id as %s: %d, want 404", w.name, st)
		}
	}
	t.Logf("checked %d endpoint × member pairs against app B", n)
}
