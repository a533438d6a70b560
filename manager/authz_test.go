package manager

import (
	"context"
	"fmt"
	"maps"
	"net/http"
	"sort"
	"strings"
	"testing"
)

// class is what an endpoint demands of its caller.
type class int

const (
	clsPublic      class = iota // no credentials needed
	clsAuthed                   // any valid credentials
	clsAccount                  // CapAccount (own password, own keys)
	clsInstance                 // instance-level (apps:create, users)
	clsAppRead                  // CapAppRead on the target app
	clsAppAdmin                 // CapAppAdmin on the target app
	clsScriptRead               // CapScriptRead on the target app
	clsScriptWrite              // CapScriptWrite on the target app
)

var classCap = map[class]Capability{clsAppRead: CapAppRead, clsAppAdmin: CapAppAdmin, clsScriptRead: CapScriptRead, clsScriptWrite: CapScriptWrite}

// caller is one row of the matrix, with what the test expects it may do
// (written out here, independently of the gate's own tables).
type caller struct {
	name     string
	user     string // whose password the caller knows
	token    string
	valid    bool
	account  bool
	instance bool
	onA      []Capability // capabilities on app A
	onFresh  []Capability // capabilities on an app created for the request
}

// reqCtx is what a request builder gets: the caller, the app to act on,
// and a way to get an app the request may destroy.
type reqCtx struct {
	e      *apiEnv
	who    *caller
	app    App
	script Deployed // the app's script "main"
	fresh  func() App
}

type endpoint struct {
	class class
	ok    int
	fresh bool // acts on an app made by rc.fresh, not on rc.app
	build func(rc *reqCtx) (path string, body any)
}

func static(path string, body any) func(*reqCtx) (string, any) {
	return func(*reqCtx) (string, any) { return path, body }
}

// endpoints maps every route of the admin API ("METHOD pattern") to how to
// call it and what it demands. TestAuthorizationMatrix fails when the
// router and this table disagree.
func endpoints() map[string]endpoint {
	appPath := func(suffix string) func(rc *reqCtx) (string, any) {
		return func(rc *reqCtx) (string, any) { return "/apps/" + rc.app.Slug + suffix, nil }
	}
	return map[string]endpoint{
		"GET /openapi.json": {clsPublic, 200, false, static("/openapi.json", nil)},
		"POST /auth/login": {clsPublic, 200, false, static("/auth/login",
			map[string]string{"username": "owner", "password": testPassword})},
		// An owner exists in the fixture: setup is over for everyone.
		"GET /setup": {clsPublic, 200, false, static("/setup", nil)},
		"POST /setup": {clsPublic, 409, false, static("/setup",
			map[string]string{"token": "x", "username": "someone", "password": testPassword})},
		"POST /auth/logout": {clsAuthed, 204, false, static("/auth/logout", nil)},
		"GET /auth/me":      {clsAuthed, 200, false, static("/auth/me", nil)},
		"POST /auth/password": {clsAccount, 204, false, func(rc *reqCtx) (string, any) {
			return "/auth/password", map[string]string{"current_password": testPassword, "new_password": testPassword}
		}},

		"GET /apps": {clsAuthed, 200, false, static("/apps", nil)},
		"POST /apps": {clsInstance, 201, false, func(rc *reqCtx) (string, any) {
			return "/apps", map[string]string{"slug": fmt.Sprintf("new-%d", rc.e.seq())}
		}},
		"GET /apps/:app": {clsAppRead, 200, false, appPath("")},
		"PATCH /apps/:app": {clsAppAdmin, 200, false, func(rc *reqCtx) (string, any) {
			return "/apps/" + rc.app.Slug, map[string]string{"name": "renamed"}
		}},
		"DELETE /apps/:app": {clsAppAdmin, 204, true, func(rc *reqCtx) (string, any) {
			return "/apps/" + rc.fresh().Slug + "?force=true", nil
		}},
		"GET /apps/:app/domains": {clsAppRead, 200, false, appPath("/domains")},
		"POST /apps/:app/domains": {clsAppAdmin, 201, false, func(rc *reqCtx) (string, any) {
			return "/apps/" + rc.app.Slug + "/domains", map[string]string{"pattern": fmt.Sprintf("d%d.%s.test", rc.e.seq(), rc.app.Slug)}
		}},
		"DELETE /apps/:app/domains/:domain": {clsAppAdmin, 204, false, func(rc *reqCtx) (string, any) {
			d, err := rc.e.m.ClaimDomain(context.Background(), rc.app.ID, fmt.Sprintf("r%d.%s.test", rc.e.seq(), rc.app.Slug))
			if err != nil {
				rc.e.t.Fatal(err)
			}
			return "/apps/" + rc.app.Slug + "/domains/" + d.ID, nil
		}},
		"GET /apps/:app/members": {clsAppRead, 200, false, appPath("/members")},
		"PUT /apps/:app/members/:user": {clsAppAdmin, 200, false, func(rc *reqCtx) (string, any) {
			return "/apps/" + rc.app.Slug + "/members/" + rc.e.freshUser().Username, map[string]string{"role": "viewer"}
		}},
		"DELETE /apps/:app/members/:user": {clsAppAdmin, 204, false, func(rc *reqCtx) (string, any) {
			u := rc.e.freshUser()
			if _, err := rc.e.m.SetMember(context.Background(), rc.app.ID, u.ID, AppRoleViewer); err != nil {
				rc.e.t.Fatal(err)
			}
			return "/apps/" + rc.app.Slug + "/members/" + u.Username, nil
		}},

		"POST /scripts": {clsScriptWrite, 200, false, func(rc *reqCtx) (string, any) {
			return "/scripts", map[string]string{"app": rc.app.Slug, "name": "main", "source": "export default {}"}
		}},
		"GET /scripts":     {clsScriptRead, 200, false, func(rc *reqCtx) (string, any) { return "/scripts?app=" + rc.app.Slug, nil }},
		"GET /scripts/:id": {clsScriptRead, 200, false, func(rc *reqCtx) (string, any) { return "/scripts/" + rc.script.ID, nil }},
		"DELETE /scripts/:id": {clsScriptWrite, 204, false, func(rc *reqCtx) (string, any) {
			return "/scripts/" + rc.e.deploy(rc.app.ID, fmt.Sprintf("tmp%d", rc.e.seq())).ID, nil
		}},
		"GET /scripts/:id/versions": {clsScriptRead, 200, false, func(rc *reqCtx) (string, any) {
			return "/scripts/" + rc.script.ID + "/versions", nil
		}},
		"GET /scripts/:id/versions/:version": {clsScriptRead, 200, false, func(rc *reqCtx) (string, any) {
			return "/scripts/" + rc.script.ID + "/versions/1", nil
		}},
		"POST /scripts/:id/rollback": {clsScriptWrite, 200, false, func(rc *reqCtx) (string, any) {
			return "/scripts/" + rc.script.ID + "/rollback", map[string]int{"version": 1}
		}},
		"GET /scripts/:id/crons": {clsScriptRead, 200, false, func(rc *reqCtx) (string, any) {
			return "/scripts/" + rc.script.ID + "/crons", nil
		}},
		"PUT /scripts/:id/crons": {clsScriptWrite, 200, false, func(rc *reqCtx) (string, any) {
			return "/scripts/" + rc.script.ID + "/crons", map[string]any{"crons": []map[string]string{{"schedule": "0 0 * * *"}}}
		}},

		"GET /routes": {clsScriptRead, 200, false, func(rc *reqCtx) (string, any) { return "/routes?app=" + rc.app.Slug, nil }},
		"POST /routes": {clsScriptWrite, 201, false, func(rc *reqCtx) (string, any) {
			return "/routes", map[string]string{"app": rc.app.Slug, "script": "main", "method": "GET", "path": fmt.Sprintf("/n%d", rc.e.seq())}
		}},
		"POST /routes/check": {clsScriptRead, 200, false, func(rc *reqCtx) (string, any) {
			return "/routes/check", map[string]string{"app": rc.app.Slug, "script": "main", "path": "/check/:id"}
		}},
		"POST /routes/match": {clsScriptRead, 200, false, func(rc *reqCtx) (string, any) {
			return "/routes/match", map[string]string{"app": rc.app.Slug, "method": "GET", "path": "/main"}
		}},
		"GET /routes/:id": {clsScriptRead, 200, false, func(rc *reqCtx) (string, any) {
			rs, _ := rc.e.m.Routes(context.Background(), rc.app.ID)
			return "/routes/" + rs[0].ID, nil
		}},
		"PATCH /routes/:id": {clsScriptWrite, 200, false, func(rc *reqCtx) (string, any) {
			r := rc.e.route(rc.app.ID, "main", fmt.Sprintf("/p%d", rc.e.seq()))
			return "/routes/" + r.ID, map[string]string{"path": fmt.Sprintf("/q%d", rc.e.seq())}
		}},
		"DELETE /routes/:id": {clsScriptWrite, 204, false, func(rc *reqCtx) (string, any) {
			return "/routes/" + rc.e.route(rc.app.ID, "main", fmt.Sprintf("/d%d", rc.e.seq())).ID, nil
		}},

		"GET /users": {clsInstance, 200, false, static("/users", nil)},
		"POST /users": {clsInstance, 201, false, func(rc *reqCtx) (string, any) {
			return "/users", map[string]string{"username": fmt.Sprintf("made%d", rc.e.seq()), "password": testPassword, "role": "member"}
		}},
		"GET /users/:user": {clsInstance, 200, false, func(rc *reqCtx) (string, any) { return "/users/" + rc.e.freshUser().Username, nil }},
		"PATCH /users/:user": {clsInstance, 200, false, func(rc *reqCtx) (string, any) {
			return "/users/" + rc.e.freshUser().ID, map[string]bool{"active": false}
		}},
		"DELETE /users/:user": {clsInstance, 204, false, func(rc *reqCtx) (string, any) { return "/users/" + rc.e.freshUser().ID, nil }},
		"PUT /users/:user/password": {clsInstance, 204, false, func(rc *reqCtx) (string, any) {
			return "/users/" + rc.e.freshUser().ID + "/password", map[string]string{"password": "another-password"}
		}},

		"GET /keys":  {clsAccount, 200, false, static("/keys", nil)},
		"POST /keys": {clsAccount, 201, false, static("/keys", map[string]any{"name": "ci", "scopes": []string{"script:read"}})},
		"DELETE /keys/:id": {clsAccount, 204, false, func(rc *reqCtx) (string, any) {
			owner := rc.who.user
			if owner == "" {
				owner = "owner"
			}
			return "/keys/" + rc.e.key(owner, []string{"script:read"}, "").ID, nil
		}},

		"GET /apps/:app/kv":                        {clsScriptRead, 200, false, appPath("/kv")},
		"GET /apps/:app/kv/:namespace/keys":        {clsScriptRead, 200, false, appPath("/kv/store/keys?prefix=k")},
		"GET /apps/:app/kv/:namespace/values/*key": {clsScriptRead, 200, false, appPath("/kv/store/values/k")},
		"PUT /apps/:app/kv/:namespace/values/*key": {clsScriptWrite, 204, false, func(rc *reqCtx) (string, any) {
			return fmt.Sprintf("/apps/%s/kv/store/values/w/%d", rc.app.Slug, rc.e.seq()), "v"
		}},
		"DELETE /apps/:app/kv/:namespace/values/*key": {clsScriptWrite, 204, false, func(rc *reqCtx) (string, any) {
			key := fmt.Sprintf("d%d", rc.e.seq())
			if err := rc.e.m.KVPut(context.Background(), rc.app.ID, "store", key, []byte("x"), KVPutOptions{}); err != nil {
				rc.e.t.Fatal(err)
			}
			return "/apps/" + rc.app.Slug + "/kv/store/values/" + key, nil
		}},
		"PUT /apps/:app/kv/:namespace/bulk": {clsScriptWrite, 200, false, func(rc *reqCtx) (string, any) {
			return "/apps/" + rc.app.Slug + "/kv/store/bulk", []KVBulkEntry{{Key: fmt.Sprintf("b%d", rc.e.seq()), Value: "v"}}
		}},
		"POST /apps/:app/kv/:namespace/bulk/delete": {clsScriptWrite, 200, false, func(rc *reqCtx) (string, any) {
			return "/apps/" + rc.app.Slug + "/kv/store/bulk/delete", []string{"gone"}
		}},
		// Metrics read the execution log: logs:read, which every role and
		// scope granting script:read grants too.
		"GET /metrics": {clsScriptRead, 200, false, func(rc *reqCtx) (string, any) { return "/metrics?app=" + rc.app.Slug, nil }},

		"GET /apps/:app/secrets": {clsScriptRead, 200, false, appPath("/secrets")},
		"PUT /apps/:app/secrets/:name": {clsScriptWrite, 200, false, func(rc *reqCtx) (string, any) {
			return fmt.Sprintf("/apps/%s/secrets/S%d", rc.app.Slug, rc.e.seq()), map[string]string{"value": "shh"}
		}},
		"DELETE /apps/:app/secrets/:name": {clsScriptWrite, 204, false, func(rc *reqCtx) (string, any) {
			name := fmt.Sprintf("D%d", rc.e.seq())
			if _, err := rc.e.m.PutSecret(context.Background(), rc.app.ID, name, []byte("x")); err != nil {
				rc.e.t.Fatal(err)
			}
			return "/apps/" + rc.app.Slug + "/secrets/" + name, nil
		}},
	}
}

func (w *caller) expect(ep endpoint) int {
	if ep.class == clsPublic {
		return ep.ok
	}
	if !w.valid {
		return http.StatusUnauthorized
	}
	has := func(cs []Capability, c Capability) bool {
		for _, x := range cs {
			if x == c {
				return true
			}
		}
		return false
	}
	switch ep.class {
	case clsAuthed:
		return ep.ok
	case clsAccount:
		if w.account {
			return ep.ok
		}
		return http.StatusForbidden
	case clsInstance:
		if w.instance {
			return ep.ok
		}
		return http.StatusForbidden
	}
	caps := w.onA
	if ep.fresh {
		caps = w.onFresh
	}
	if !has(caps, CapAppRead) {
		return http.StatusNotFound
	}
	if !has(caps, classCap[ep.class]) {
		return http.StatusForbidden
	}
	return ep.ok
}

var (
	allAppCaps    = []Capability{CapAppRead, CapAppAdmin, CapScriptRead, CapScriptWrite}
	editorCaps    = []Capability{CapAppRead, CapScriptRead, CapScriptWrite}
	viewerCaps    = []Capability{CapAppRead, CapScriptRead}
	appMemberRole = map[string]string{"appadmin": AppRoleAdmin, "editor": AppRoleEditor, "viewer": AppRoleViewer}
)

// matrixFixture creates app A (with a script "main" routed at /main), app
// B, users of every role and a caller for each row of the matrix.
func matrixFixture(t *testing.T) (e *apiEnv, a, b App, callers []*caller) {
	e = newAPIEnv(t)
	ctx := context.Background()
	a, b = e.app("app-a"), e.app("app-b")
	for _, app := range []App{a, b} {
		e.deploy(app.ID, "main")
		e.deploy(app.ID, "main")
		e.route(app.ID, "main", "/main")
		if _, err := e.m.ClaimDomain(ctx, app.ID, app.Slug+".test"); err != nil {
			t.Fatal(err)
		}
		if err := e.m.KVPut(ctx, app.ID, "store", "k", []byte("value of "+app.Slug), KVPutOptions{}); err != nil {
			t.Fatal(err)
		}
		if _, err := e.m.PutSecret(ctx, app.ID, "TOKEN", []byte("secret of "+app.Slug)); err != nil {
			t.Fatal(err)
		}
	}
	e.user("admin", RoleAdmin)
	e.user("outsider", RoleMember)
	for name, role := range appMemberRole {
		e.user(name, RoleMember)
		if _, err := e.m.SetMember(ctx, a.ID, name, role); err != nil {
			t.Fatal(err)
		}
	}
	expired := e.login("owner")
	if _, err := e.m.pool.Exec(ctx, `UPDATE sessions SET expires_at = now() - interval '1 minute' WHERE token_hash = $1`, hashToken(expired)); err != nil {
		t.Fatal(err)
	}
	revoked := e.key("owner", []string{ScopeInstance}, "")
	if st := e.do(e.login("owner"), "DELETE", "/keys/"+revoked.ID, nil, nil); st != 204 {
		t.Fatalf("revoking key: %d", st)
	}
	callers = []*caller{
		{name: "owner", user: "owner", token: e.login("owner"), valid: true, account: true, instance: true, onA: allAppCaps, onFresh: allAppCaps},
		{name: "admin", user: "admin", token: e.login("admin"), valid: true, account: true, instance: true, onA: allAppCaps, onFresh: allAppCaps},
		{name: "app_admin of A", user: "appadmin", token: e.login("appadmin"), valid: true, account: true, onA: allAppCaps, onFresh: allAppCaps},
		{name: "editor of A", user: "editor", token: e.login("editor"), valid: true, account: true, onA: editorCaps, onFresh: editorCaps},
		{name: "viewer of A", user: "viewer", token: e.login("viewer"), valid: true, account: true, onA: viewerCaps, onFresh: viewerCaps},
		{name: "member without apps", user: "outsider", token: e.login("outsider"), valid: true, account: true},
		{name: "no credentials"},
		{name: "garbage token", token: "not-a-token"},
		{name: "expired session", token: expired},
		{name: "revoked key", token: revoked.Key},
		{name: "owner key scoped script:read", user: "owner", token: e.key("owner", []string{ScopeScriptRead}, "").Key, valid: true,
			onA: viewerCaps, onFresh: viewerCaps},
		{name: "owner key bound to app B", user: "owner", token: e.key("owner", []string{ScopeAppAdmin}, b.ID).Key, valid: true},
		{name: "editor key bound to app A", user: "editor", token: e.key("editor", []string{ScopeScriptWrite}, a.ID).Key, valid: true,
			onA: editorCaps},
	}
	return e, a, b, callers
}

// freshApp makes an app like A: the same members, a script "main".
func (e *apiEnv) freshApp() App {
	a := e.app(fmt.Sprintf("fresh-%d", e.seq()))
	for name, role := range appMemberRole {
		if _, err := e.m.SetMember(context.Background(), a.ID, name, role); err != nil {
			e.t.Fatal(err)
		}
	}
	e.deploy(a.ID, "main")
	return a
}

// orderedRoutes lists the router's routes, logout last (it ends the
// caller's session).
func orderedRoutes(m *Manager) []string {
	var keys []string
	for _, r := range m.router().Routes() {
		keys = append(keys, r.Method+" "+strings.TrimPrefix(r.Path, APIPrefix))
	}
	sort.Slice(keys, func(i, j int) bool {
		li, lj := keys[i] == "POST /auth/logout", keys[j] == "POST /auth/logout"
		if li != lj {
			return lj
		}
		return keys[i] < keys[j]
	})
	return keys
}

func TestAuthorizationMatrix(t *testing.T) {
	e, a, _, callers := matrixFixture(t)
	eps := endpoints()
	maps.Copy(eps, logEndpoints())
	routes := orderedRoutes(e.m)
	seen := map[string]bool{}
	for _, k := range routes {
		seen[k] = true
		if _, ok := eps[k]; !ok {
			t.Errorf("route %s is missing from the authorization matrix", k)
		}
	}
	for k := range eps {
		if !seen[k] {
			t.Errorf("matrix entry %s has no route", k)
		}
	}
	mainA, err := e.m.Scripts(context.Background(), a.ID)
	if err != nil || len(mainA) != 1 {
		t.Fatal(mainA, err)
	}
	checked := 0
	for _, k := range routes {
		ep, ok := eps[k]
		if !ok {
			continue
		}
		method, _, _ := strings.Cut(k, " ")
		for _, w := range callers {
			rc := &reqCtx{e: e, who: w, app: a, script: Deployed{ID: mainA[0].ID}, fresh: e.freshApp}
			path, body := ep.build(rc)
			want := w.expect(ep)
			got, resp := e.send(e.request(w.token, method, path, body), nil)
			if got != want {
				t.Errorf("%s as %s: status %d, want %d (%s)", k, w.name, got, want, resp)
			}
			checked++
		}
	}
	t.Logf("checked %d endpoint × caller pairs (%d endpoints, %d callers)", checked, len(routes), len(callers))
}
