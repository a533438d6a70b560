package manager

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"testing"
	"time"
)

// errBody decodes an error envelope.
type errBody struct {
	Error struct {
		Code    string         `json:"code"`
		Message string         `json:"message"`
		Details map[string]any `json:"details"`
	} `json:"error"`
}

func (e *apiEnv) fail(token, method, path string, body any) (int, errBody) {
	e.t.Helper()
	st, b := e.send(e.request(token, method, path, body), nil)
	var eb errBody
	_ = json.Unmarshal(b, &eb)
	return st, eb
}

// watch collects change announcements.
func watch(t *testing.T, m *Manager) <-chan string {
	ch := make(chan string, 1000)
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	go m.WatchChanges(ctx, func(what string) { ch <- what })
	time.Sleep(200 * time.Millisecond) // let LISTEN start
	return ch
}

func expectAnnounce(t *testing.T, ch <-chan string, want string) {
	t.Helper()
	deadline := time.After(5 * time.Second)
	for {
		select {
		case got := <-ch:
			if got == want {
				return
			}
		case <-deadline:
			t.Fatalf("no %q announcement", want)
		}
	}
}

func TestAppsSlugHistoryAndDelete(t *testing.T) {
	e := newAPIEnv(t)
	tok := e.login("owner")
	var a App
	if st := e.do(tok, "POST", "/apps", map[string]string{"slug": "shop", "name": "Shop"}, &a); st != 201 {
		t.Fatalf("create: %d", st)
	}
	for _, tc := range []struct {
		name, slug, code string
		status           int
	}{
		{"uppercase", "Shop", "invalid_slug", 422},
		{"leading dash", "-x", "invalid_slug", 422},
		{"too long", strings.Repeat("a", 64), "invalid_slug", 422},
		{"taken", "shop", "app_exists", 409},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if st, eb := e.fail(tok, "POST", "/apps", map[string]string{"slug": tc.slug}); st != tc.status || eb.Error.Code != tc.code {
				t.Fatalf("%d %+v, want %d %s", st, eb, tc.status, tc.code)
			}
		})
	}
	if st := e.do(tok, "POST", "/apps", map[string]any{"slug": "x", "extra": 1}, nil); st != 400 {
		t.Fatalf("unknown field: %d, want 400", st)
	}

	// Rename: the old slug redirects permanently, path and query kept.
	if st := e.do(tok, "PATCH", "/apps/shop", map[string]string{"slug": "store"}, &a); st != 200 || a.Slug != "store" {
		t.Fatalf("rename: %d %+v", st, a)
	}
	resp, err := e.client.Do(e.request(tok, "GET", "/apps/shop/domains?x=1", nil))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusPermanentRedirect || resp.Header.Get("Location") != APIPrefix+"/apps/store/domains?x=1" {
		t.Fatalf("old slug: %d Location %q", resp.StatusCode, resp.Header.Get("Location"))
	}
	// Deploying with the old slug in a body still reaches the app.
	var d Deployed
	if st := e.do(tok, "POST", "/scripts", map[string]string{"app": "shop", "name": "cart", "source": "x"}, &d); st != 201 || d.App != "store" {
		t.Fatalf("deploy via old slug: %d %+v", st, d)
	}
	// Another app claiming the old slug ends the redirect.
	var other App
	if st := e.do(tok, "POST", "/apps", map[string]string{"slug": "shop"}, &other); st != 201 {
		t.Fatalf("claim old slug: %d", st)
	}
	if st := e.do(tok, "GET", "/apps/shop", nil, &a); st != 200 || a.ID != other.ID {
		t.Fatalf("old slug after claim: %d %+v", st, a)
	}

	// Delete: 409 with the script count, then force.
	st, eb := e.fail(tok, "DELETE", "/apps/store", nil)
	if st != 409 || eb.Error.Code != "app_has_scripts" || eb.Error.Details["scripts"] != float64(1) {
		t.Fatalf("delete with scripts: %d %+v", st, eb)
	}
	if st := e.do(tok, "DELETE", "/apps/store?force=true", nil, nil); st != 204 {
		t.Fatalf("force delete: %d", st)
	}
	if st := e.do(tok, "GET", "/apps/store", nil, nil); st != 404 {
		t.Fatalf("deleted app: %d", st)
	}
	if st := e.do(tok, "DELETE", "/apps/shop", nil, nil); st != 204 {
		t.Fatalf("delete empty app: %d", st)
	}
}

func TestDomains(t *testing.T) {
	e := newAPIEnv(t)
	tok := e.login("owner")
	e.app("one")
	e.app("two")
	changes := watch(t, e.m)
	var d Domain
	if st := e.do(tok, "POST", "/apps/one/domains", map[string]string{"pattern": "*.Example.com"}, &d); st != 201 || d.Pattern != "*.example.com" {
		t.Fatalf("claim: %d %+v", st, d)
	}
	expectAnnounce(t, changes, "routing")
	st, eb := e.fail(tok, "POST", "/apps/two/domains", map[string]string{"pattern": "{tenant}.example.com"})
	claim, _ := eb.Error.Details["conflicting_claim"].(map[string]any)
	if st != 409 || eb.Error.Code != "domain_conflict" || claim["id"] != d.ID || claim["app"] != "one" {
		t.Fatalf("shape collision: %d %+v", st, eb)
	}
	st, eb = e.fail(tok, "POST", "/apps/two/domains", map[string]string{"pattern": "{tenant.example.com"})
	if st != 422 || eb.Error.Code != "invalid_pattern" || !strings.Contains(eb.Error.Message, "unclosed '{'") || eb.Error.Details["position"] != float64(0) {
		t.Fatalf("bad pattern: %d %+v", st, eb)
	}
	if st := e.do(tok, "POST", "/apps/two/domains", map[string]string{"pattern": "api.example.com"}, nil); st != 201 {
		t.Fatalf("exact under a wildcard of another app: %d", st)
	}
	var list struct{ Domains []Domain }
	if st := e.do(tok, "GET", "/apps/one/domains", nil, &list); st != 200 || len(list.Domains) != 1 {
		t.Fatalf("list: %d %+v", st, list)
	}
	if st := e.do(tok, "DELETE", "/apps/two/domains/*.example.com", nil, nil); st != 404 {
		t.Fatalf("releasing another app's claim: %d, want 404", st)
	}
	if st := e.do(tok, "DELETE", "/apps/one/domains/*.example.com", nil, nil); st != 204 {
		t.Fatalf("release by pattern: %d", st)
	}
	if st := e.do(tok, "POST", "/apps/two/domains", map[string]string{"pattern": "{t}.example.com"}, nil); st != 201 {
		t.Fatalf("claim after release: %d", st)
	}
}

func TestRoutesCheckMatchAndAnnounce(t *testing.T) {
	e := newAPIEnv(t)
	tok := e.login("owner")
	a := e.app("web")
	e.deploy(a.ID, "users")
	e.deploy(a.ID, "files")
	if _, err := e.m.ClaimDomain(context.Background(), a.ID, "web.test"); err != nil {
		t.Fatal(err)
	}
	changes := watch(t, e.m)
	var r Route
	if st := e.do(tok, "POST", "/routes", map[string]string{"app": "web", "script": "users", "method": "get", "path": "/users/:id"}, &r); st != 201 || r.Method != "GET" || r.Dispatch != "sync" {
		t.Fatalf("create: %d %+v", st, r)
	}
	expectAnnounce(t, changes, "routing")
	for _, tc := range []struct {
		name   string
		body   map[string]string
		status int
		code   string
		msg    string
	}{
		{"conflicting param shape", map[string]string{"app": "web", "script": "files", "method": "GET", "path": "/users/:userId"}, 409, "route_conflict", r.ID},
		{"mid-segment colon", map[string]string{"app": "web", "script": "files", "path": "/a:b"}, 422, "invalid_pattern", "invalid path \"/a:b\""},
		{"reserved", map[string]string{"app": "web", "script": "files", "path": "/api/x"}, 422, "reserved_path", "/api/x"},
		{"bad method", map[string]string{"app": "web", "script": "files", "method": "G T", "path": "/x"}, 422, "invalid_pattern", "method"},
		{"unknown script", map[string]string{"app": "web", "script": "nope", "path": "/x"}, 422, "unknown_script", "nope"},
		{"bad dispatch", map[string]string{"app": "web", "script": "files", "path": "/x", "dispatch": "async"}, 422, "invalid_dispatch", "async"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			for _, ep := range []string{"/routes", "/routes/check"} {
				st, eb := e.fail(tok, "POST", ep, tc.body)
				if st != tc.status || eb.Error.Code != tc.code || !strings.Contains(eb.Error.Message, tc.msg) {
					t.Fatalf("%s: %d %+v", ep, st, eb)
				}
				if tc.code == "route_conflict" {
					cr, _ := eb.Error.Details["conflicting_route"].(map[string]any)
					if cr["id"] != r.ID || cr["script"] != "users" {
						t.Fatalf("%s: conflicting route %v", ep, cr)
					}
				}
			}
		})
	}
	var chk struct {
		OK bool
	}
	if st := e.do(tok, "POST", "/routes/check", map[string]string{"app": "web", "script": "files", "path": "/files/*rest"}, &chk); st != 200 || !chk.OK {
		t.Fatalf("check ok: %d", st)
	}
	var files Route
	if st := e.do(tok, "POST", "/routes", map[string]string{"app": "web", "script": "files", "path": "/files/*rest"}, &files); st != 201 {
		t.Fatalf("create prefix: %d", st)
	}
	var mt RouteMatch
	if st := e.do(tok, "POST", "/routes/match", map[string]string{"host": "web.test", "method": "GET", "path": "/users/42"}, &mt); st != 200 ||
		!mt.Matched || mt.Route.ID != r.ID || mt.Params["id"] != "42" || mt.App != "web" {
		t.Fatalf("match by host: %d %+v", st, mt)
	}
	if st := e.do(tok, "POST", "/routes/match", map[string]string{"app": "web", "method": "POST", "path": "/users/42"}, &mt); st != 200 || mt.Matched {
		t.Fatalf("method mismatch matched: %+v", mt)
	}
	// Updating a route into its own shape is no conflict; into another's is.
	if st := e.do(tok, "PATCH", "/routes/"+r.ID, map[string]string{"path": "/users/:uid"}, &r); st != 200 || r.Path != "/users/:uid" {
		t.Fatalf("update: %d %+v", st, r)
	}
	expectAnnounce(t, changes, "routing")
	if st, eb := e.fail(tok, "PATCH", "/routes/"+files.ID, map[string]string{"method": "GET", "path": "/users/:x"}); st != 409 || eb.Error.Code != "route_conflict" {
		t.Fatalf("update into conflict: %d %+v", st, eb)
	}
	if st := e.do(tok, "DELETE", "/routes/"+r.ID, nil, nil); st != 204 {
		t.Fatalf("delete: %d", st)
	}
	expectAnnounce(t, changes, "routing")
	var list struct{ Routes []Route }
	if st := e.do(tok, "GET", "/routes?app=web", nil, &list); st != 200 || len(list.Routes) != 1 || list.Routes[0].ID != files.ID {
		t.Fatalf("list: %d %+v", st, list)
	}
}

func TestVersionsRollbackAndDelete(t *testing.T) {
	e := newAPIEnv(t)
	tok := e.login("owner")
	e.app("ver")
	var d Deployed
	for i, src := range []string{"one", "two", "three"} {
		if st := e.do(tok, "POST", "/scripts", map[string]string{"app": "ver", "name": "s", "source": src, "message": "v" + src}, &d); st >= 300 || d.Version != i+1 {
			t.Fatalf("deploy %d: %d %+v", i, st, d)
		}
	}
	changes := watch(t, e.m)
	var vs struct{ Versions []Version }
	if st := e.do(tok, "GET", "/scripts/"+d.ID+"/versions", nil, &vs); st != 200 || len(vs.Versions) != 3 || vs.Versions[0].Version != 3 ||
		!vs.Versions[0].Current || vs.Versions[0].Author != "owner" || vs.Versions[0].Source != nil || vs.Versions[2].Message != "vone" {
		t.Fatalf("versions: %d %+v", st, vs)
	}
	var v Version
	if st := e.do(tok, "GET", "/scripts/"+d.ID+"/versions/1", nil, &v); st != 200 || v.Source == nil || *v.Source != "one" || v.Current {
		t.Fatalf("version 1: %d %+v", st, v)
	}
	// Versions are immutable, down to the database.
	if _, err := e.m.pool.Exec(context.Background(), `UPDATE script_versions SET source = 'changed' WHERE script_id = $1 AND version = 1`, d.ID); err == nil ||
		!strings.Contains(err.Error(), "immutable") {
		t.Fatalf("updating a stored version: %v, want refused", err)
	}
	if _, err := e.m.pool.Exec(context.Background(), `UPDATE script_versions SET author_id = NULL, message = 'x' WHERE script_id = $1 AND version = 1`, d.ID); err == nil {
		t.Fatal("a change beside the author's removal was let through")
	}
	for _, p := range []string{"/versions/9", "/versions/zero", "/versions/-1"} {
		if st := e.do(tok, "GET", "/scripts/"+d.ID+p, nil, nil); st != 404 {
			t.Fatalf("%s: %d", p, st)
		}
	}
	var s Script
	if st := e.do(tok, "POST", "/scripts/"+d.ID+"/rollback", map[string]int{"version": 1}, &s); st != 200 || s.Version != 1 {
		t.Fatalf("rollback: %d %+v", st, s)
	}
	expectAnnounce(t, changes, "script:"+d.ID)
	if got, _ := e.m.Script(context.Background(), d.ID); got.Code != "compiled:one" {
		t.Fatalf("current code after rollback: %q", got.Code)
	}
	if st := e.do(tok, "POST", "/scripts/"+d.ID+"/rollback", map[string]int{"version": 7}, nil); st != 404 {
		t.Fatalf("rollback to a missing version: %d", st)
	}
	// A deploy after a rollback gets the next free number, not 2.
	if st := e.do(tok, "POST", "/scripts", map[string]string{"app": "ver", "name": "s", "source": "four"}, &d); st != 200 || d.Version != 4 {
		t.Fatalf("deploy after rollback: %d %+v", st, d)
	}
	if st := e.do(tok, "DELETE", "/scripts/"+d.ID, nil, nil); st != 204 {
		t.Fatalf("delete: %d", st)
	}
	expectAnnounce(t, changes, "script:"+d.ID)
	if st := e.do(tok, "GET", "/scripts/"+d.ID, nil, nil); st != 404 {
		t.Fatalf("deleted script: %d", st)
	}
}

func TestUsersGuardsAndDeactivation(t *testing.T) {
	e := newAPIEnv(t)
	owner := e.login("owner")
	var admin User
	if st := e.do(owner, "POST", "/users", map[string]string{"username": "adm", "password": testPassword, "role": "admin"}, &admin); st != 201 {
		t.Fatalf("create admin: %d", st)
	}
	e.users["adm"] = admin
	adm := e.login("adm")
	if st, eb := e.fail(owner, "POST", "/users", map[string]string{"username": "weak", "password": "short"}); st != 422 || eb.Error.Code != "weak_password" {
		t.Fatalf("weak password: %d %+v", st, eb)
	}
	if st, eb := e.fail(owner, "POST", "/users", map[string]string{"username": "adm", "password": testPassword}); st != 409 || eb.Error.Code != "user_exists" {
		t.Fatalf("duplicate: %d %+v", st, eb)
	}
	// Admins cannot touch owners nor make one.
	ownerID := e.users["owner"].ID
	if st := e.do(adm, "PATCH", "/users/"+ownerID, map[string]bool{"active": false}, nil); st != 403 {
		t.Fatalf("admin deactivating owner: %d", st)
	}
	if st := e.do(adm, "POST", "/users", map[string]string{"username": "o2", "password": testPassword, "role": "owner"}, nil); st != 403 {
		t.Fatalf("admin creating owner: %d", st)
	}
	// The last owner can be neither demoted, deactivated nor deleted.
	for _, tc := range []struct {
		method string
		body   any
	}{{"PATCH", map[string]string{"role": "admin"}}, {"PATCH", map[string]bool{"active": false}}, {"DELETE", nil}} {
		if st, eb := e.fail(owner, tc.method, "/users/owner", tc.body); st != 409 || eb.Error.Code != "last_owner" {
			t.Fatalf("%s last owner %v: %d %+v", tc.method, tc.body, st, eb)
		}
	}
	if u, _ := e.m.User(context.Background(), "owner"); u.Role != RoleOwner || !u.Active {
		t.Fatalf("owner changed by a refused request: %+v", u)
	}

	// Deactivation wipes sessions and keys; reactivation does not bring
	// them back.
	var k NewAPIKey
	if st := e.do(adm, "POST", "/keys", map[string]any{"scopes": []string{"app:read"}}, &k); st != 201 {
		t.Fatalf("key: %d", st)
	}
	if st := e.do(k.Key, "GET", "/auth/me", nil, nil); st != 200 {
		t.Fatalf("key works: %d", st)
	}
	if st := e.do(owner, "PATCH", "/users/adm", map[string]bool{"active": false}, nil); st != 200 {
		t.Fatalf("deactivate: %d", st)
	}
	if st := e.do(owner, "PATCH", "/users/adm", map[string]bool{"active": true}, nil); st != 200 {
		t.Fatalf("reactivate: %d", st)
	}
	for _, tok := range []string{adm, k.Key} {
		if st := e.do(tok, "GET", "/auth/me", nil, nil); st != 401 {
			t.Fatalf("credential after deactivation: %d", st)
		}
	}

	// Setting a password ends the user's sessions; changing one's own keeps
	// the current session and ends the others.
	adm = e.login("adm")
	if st := e.do(owner, "PUT", "/users/adm/password", map[string]string{"password": "new-password-1"}, nil); st != 204 {
		t.Fatalf("set password: %d", st)
	}
	if st := e.do(adm, "GET", "/auth/me", nil, nil); st != 401 {
		t.Fatalf("session after password set: %d", st)
	}
	other := e.login("owner")
	if st, eb := e.fail(owner, "POST", "/auth/password", map[string]string{"current_password": "wrong", "new_password": "whatever-1"}); st != 422 || eb.Error.Code != "wrong_password" {
		t.Fatalf("wrong current password: %d %+v", st, eb)
	}
	if st := e.do(owner, "POST", "/auth/password", map[string]string{"current_password": testPassword, "new_password": "owner-password-2"}, nil); st != 204 {
		t.Fatalf("change own password: %d", st)
	}
	if st := e.do(owner, "GET", "/auth/me", nil, nil); st != 200 {
		t.Fatalf("own session after change: %d", st)
	}
	if st := e.do(other, "GET", "/auth/me", nil, nil); st != 401 {
		t.Fatalf("other session after change: %d", st)
	}

	// With a second owner, the first may step down.
	if st := e.do(owner, "PATCH", "/users/adm", map[string]string{"role": "owner"}, nil); st != 200 {
		t.Fatalf("promote: %d", st)
	}
	if st := e.do(owner, "PATCH", "/users/owner", map[string]string{"role": "member"}, nil); st != 200 {
		t.Fatalf("step down: %d", st)
	}
}

var keyFormat = regexp.MustCompile(`^pic_[a-z2-7]{52}$`)

func TestAPIKeys(t *testing.T) {
	e := newAPIEnv(t)
	tok := e.login("owner")
	a := e.app("keyed")
	e.app("other")
	var k NewAPIKey
	if st := e.do(tok, "POST", "/keys", map[string]any{"name": "ci", "scopes": []string{"script:write"}, "app": "keyed", "expires_in": "1h"}, &k); st != 201 {
		t.Fatalf("create: %d", st)
	}
	if !keyFormat.MatchString(k.Key) || k.Prefix != k.Key[4:12] || k.AppID != a.ID || k.ExpiresAt == nil {
		t.Fatalf("key = %+v", k)
	}
	var clear, hashed int
	if err := e.m.pool.QueryRow(context.Background(), `
		SELECT count(*) FILTER (WHERE key_hash = $1::bytea), count(*) FILTER (WHERE key_hash = $2) FROM api_keys`,
		[]byte(k.Key), hashToken(k.Key)).Scan(&clear, &hashed); err != nil || clear != 0 || hashed != 1 {
		t.Fatalf("stored clear %d hashed %d (%v)", clear, hashed, err)
	}
	var list struct{ Keys []json.RawMessage }
	if st := e.do(tok, "GET", "/keys", nil, &list); st != 200 || len(list.Keys) != 1 || strings.Contains(string(list.Keys[0]), k.Key) {
		t.Fatalf("list: %d %s", st, list.Keys)
	}
	// The key works on its app only, and never on the instance.
	if st := e.do(k.Key, "POST", "/scripts", map[string]string{"app": "keyed", "name": "s", "source": "x"}, nil); st != 201 {
		t.Fatalf("deploy with key: %d", st)
	}
	if st := e.do(k.Key, "GET", "/scripts?app=other", nil, nil); st != 404 {
		t.Fatalf("other app with key: %d", st)
	}
	if st := e.do(k.Key, "GET", "/users", nil, nil); st != 403 {
		t.Fatalf("instance with key: %d", st)
	}
	for _, tc := range []struct {
		name string
		body map[string]any
		code string
	}{
		{"bound instance key", map[string]any{"scopes": []string{"instance:*"}, "app": "keyed"}, "invalid_scopes"},
		{"unknown scope", map[string]any{"scopes": []string{"root"}}, "invalid_scopes"},
		{"no scope", map[string]any{"scopes": []string{}}, "invalid_scopes"},
		{"past expiry", map[string]any{"scopes": []string{"app:read"}, "expires_at": time.Now().Add(-time.Hour)}, "invalid_expiry"},
	} {
		if st, eb := e.fail(tok, "POST", "/keys", tc.body); st != 422 || eb.Error.Code != tc.code {
			t.Errorf("%s: %d %+v", tc.name, st, eb)
		}
	}
	// An expired key is refused.
	if _, err := e.m.pool.Exec(context.Background(), `UPDATE api_keys SET expires_at = now() - interval '1 second' WHERE id = $1`, k.ID); err != nil {
		t.Fatal(err)
	}
	if st := e.do(k.Key, "GET", "/auth/me", nil, nil); st != 401 {
		t.Fatalf("expired key: %d", st)
	}
	// A key cannot mint keys unless it holds instance:*.
	var inst NewAPIKey
	if st := e.do(tok, "POST", "/keys", map[string]any{"scopes": []string{"app:admin"}}, &inst); st != 201 {
		t.Fatal(st)
	}
	if st := e.do(inst.Key, "POST", "/keys", map[string]any{"scopes": []string{"instance:*"}}, nil); st != 403 {
		t.Fatalf("key minting a key: %d", st)
	}
}

func TestCookieAuthAndCSRF(t *testing.T) {
	e := newAPIEnv(t)
	e.app("c")
	resp, err := e.client.Do(e.request("", "POST", "/auth/login", map[string]string{"username": "owner", "password": testPassword}))
	if err != nil {
		t.Fatal(err)
	}
	var login struct {
		CSRFToken string `json:"csrf_token"`
	}
	_ = json.NewDecoder(resp.Body).Decode(&login)
	resp.Body.Close()
	var session *http.Cookie
	for _, c := range resp.Cookies() {
		if c.Name == sessionCookie {
			session = c
		}
	}
	if session == nil || !session.HttpOnly || session.SameSite != http.SameSiteStrictMode || session.Secure || login.CSRFToken == "" {
		t.Fatalf("session cookie over HTTP %+v, csrf %q", session, login.CSRFToken)
	}
	// Over HTTPS both cookies are Secure.
	tlsReq := httptest.NewRequest("POST", "https://picloud.test"+APIPrefix+"/auth/login",
		strings.NewReader(`{"username": "owner", "password": "`+testPassword+`"}`))
	tlsReq.Header.Set("Content-Type", "application/json")
	rec := httptest.NewRecorder()
	e.m.Handler().ServeHTTP(rec, tlsReq)
	if cs := rec.Result().Cookies(); rec.Code != 200 || len(cs) != 2 {
		t.Fatalf("login over HTTPS: %d, cookies %v", rec.Code, cs)
	} else {
		for _, c := range cs {
			if !c.Secure || c.SameSite != http.SameSiteStrictMode || c.HttpOnly != (c.Name == sessionCookie) {
				t.Errorf("cookie over HTTPS: %+v", c)
			}
		}
	}
	req := func(method, path string, body any, hdr map[string]string) int {
		r := e.request("", method, path, body)
		r.AddCookie(&http.Cookie{Name: sessionCookie, Value: session.Value})
		for k, v := range hdr {
			r.Header.Set(k, v)
		}
		st, _ := e.send(r, nil)
		return st
	}
	host := strings.TrimPrefix(e.srv.URL, "http://")
	for _, tc := range []struct {
		name   string
		method string
		hdr    map[string]string
		want   int
	}{
		{"read needs no token", "GET", nil, 200},
		{"write without token", "PATCH", nil, 403},
		{"write with wrong token", "PATCH", map[string]string{csrfHeader: "x"}, 403},
		{"write with token", "PATCH", map[string]string{csrfHeader: login.CSRFToken}, 200},
		{"write from another origin", "PATCH", map[string]string{csrfHeader: login.CSRFToken, "Origin": "https://evil.example"}, 403},
		{"write from the same origin", "PATCH", map[string]string{csrfHeader: login.CSRFToken, "Origin": "http://" + host}, 200},
		{"cross-site fetch", "PATCH", map[string]string{csrfHeader: login.CSRFToken, "Sec-Fetch-Site": "cross-site"}, 403},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var body any
			if tc.method == "PATCH" {
				body = map[string]string{"name": "C"}
			}
			if got := req(tc.method, "/apps/c", body, tc.hdr); got != tc.want {
				t.Fatalf("%d, want %d", got, tc.want)
			}
		})
	}
	// A bearer token needs no CSRF token (no browser sends it by itself).
	bearer := e.login("owner")
	if st := e.do(bearer, "PATCH", "/apps/c", map[string]string{"name": "D"}, nil); st != 200 {
		t.Fatalf("bearer write: %d", st)
	}
}

func TestLoginRateLimit(t *testing.T) {
	e := newAPIEnv(t)
	e.m.limiter = newLoginLimiter(time.Minute, 3, 5)
	e.user("alice", RoleMember)
	e.user("bob", RoleMember)
	bad := func(user string) (int, *http.Response) {
		resp, err := e.client.Do(e.request("", "POST", "/auth/login", map[string]string{"username": user, "password": "wrong-password"}))
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode, resp
	}
	for i := range 3 {
		if st, _ := bad("alice"); st != 401 {
			t.Fatalf("failure %d: %d", i, st)
		}
	}
	st, resp := bad("alice")
	if st != 429 || resp.Header.Get("Retry-After") == "" {
		t.Fatalf("4th failure: %d Retry-After %q", st, resp.Header.Get("Retry-After"))
	}
	// Even the right password is refused while the account is throttled.
	if st := e.do("", "POST", "/auth/login", map[string]string{"username": "alice", "password": testPassword}, nil); st != 429 {
		t.Fatalf("right password while throttled: %d", st)
	}
	// The address limit (5) catches spraying across accounts.
	for i := range 2 {
		if st, _ := bad("bob"); st != 401 {
			t.Fatalf("bob %d: %d", i, st)
		}
	}
	if st, _ := bad("bob"); st != 429 {
		t.Fatalf("address limit: %d", st)
	}
	// When the window has slid by, logins work again.
	e.m.now = func() time.Time { return time.Now().Add(2 * time.Minute) }
	if st := e.do("", "POST", "/auth/login", map[string]string{"username": "alice", "password": testPassword}, nil); st != 200 {
		t.Fatalf("after the window: %d", st)
	}
}

func TestSessionSlidingTTL(t *testing.T) {
	e := newAPIEnv(t)
	e.m.sessionTTL = time.Hour
	tok := e.login("owner")
	expiry := func() time.Time {
		var t0 time.Time
		if err := e.m.pool.QueryRow(context.Background(), `SELECT expires_at FROM sessions WHERE token_hash = $1`, hashToken(tok)).Scan(&t0); err != nil {
			t.Fatal(err)
		}
		return t0
	}
	first := expiry()
	e.m.now = func() time.Time { return time.Now().Add(30 * time.Minute) }
	if st := e.do(tok, "GET", "/auth/me", nil, nil); st != 200 {
		t.Fatal(st)
	}
	if slid := expiry().Sub(first); slid < 29*time.Minute {
		t.Fatalf("expiry slid by %v, want about 30m", slid)
	}
}

func TestErrorEnvelopeEverywhere(t *testing.T) {
	e := newAPIEnv(t)
	tok := e.login("owner")
	e.app("default")
	big := map[string]string{"slug": strings.Repeat("x", maxRequestBody)}
	for _, tc := range []struct {
		name, method, path string
		body               any
		status             int
		code               string
	}{
		{"unknown path", "GET", "/nope", nil, 404, "not_found"},
		{"wrong method", "PUT", "/apps", nil, 405, "method_not_allowed"},
		{"unknown field", "POST", "/apps", map[string]any{"slug": "a", "owner": "me"}, 400, "invalid_json"},
		{"trailing data", "POST", "/apps", json.RawMessage(`{"slug":"a"}{"slug":"b"}`), 400, "invalid_json"},
		{"too large", "POST", "/apps", big, 413, "body_too_large"},
		{"bad force", "DELETE", "/apps/default?force=maybe", nil, 400, "invalid_query"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			req := e.request(tok, tc.method, tc.path, nil)
			if raw, ok := tc.body.(json.RawMessage); ok {
				req = e.request(tok, tc.method, tc.path, nil)
				req.Body = io.NopCloser(bytes.NewReader(raw))
			} else if tc.body != nil {
				req = e.request(tok, tc.method, tc.path, tc.body)
			}
			st, b := e.send(req, nil)
			var eb errBody
			_ = json.Unmarshal(b, &eb)
			if st != tc.status || eb.Error.Code != tc.code {
				t.Fatalf("%d %s, want %d %s", st, b, tc.status, tc.code)
			}
		})
	}
	// The cookie session learns its CSRF token from /auth/me.
	req := e.request("", "GET", "/auth/me", nil)
	req.AddCookie(&http.Cookie{Name: sessionCookie, Value: tok})
	var me struct {
		CSRFToken string `json:"csrf_token"`
		Auth      string `json:"auth"`
	}
	if st, _ := e.send(req, &me); st != 200 || me.CSRFToken != csrfToken(tok) || me.Auth != "session" {
		t.Fatalf("me via cookie: %d %+v", st, me)
	}
}

func TestAppMembers(t *testing.T) {
	e := newAPIEnv(t)
	owner := e.login("owner")
	e.app("team")
	e.deploy("team", "s")
	e.user("carol", RoleMember)
	carol := e.login("carol")
	// Not a member: the app is invisible.
	if st := e.do(carol, "GET", "/apps/team", nil, nil); st != 404 {
		t.Fatalf("non-member sees the app: %d", st)
	}
	for _, tc := range []struct {
		name, path string
		body       any
		status     int
		code       string
	}{
		{"bad role", "/apps/team/members/carol", map[string]string{"role": "owner"}, 422, "invalid_role"},
		{"no role", "/apps/team/members/carol", map[string]string{}, 422, "invalid_role"},
		{"unknown user", "/apps/team/members/nobody", map[string]string{"role": "viewer"}, 404, "not_found"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if st, eb := e.fail(owner, "PUT", tc.path, tc.body); st != tc.status || eb.Error.Code != tc.code {
				t.Fatalf("%d %+v, want %d %s", st, eb, tc.status, tc.code)
			}
		})
	}
	var mb Member
	if st := e.do(owner, "PUT", "/apps/team/members/carol", map[string]string{"role": "viewer"}, &mb); st != 200 || mb.Role != "viewer" || mb.Username != "carol" {
		t.Fatalf("set viewer: %d %+v", st, mb)
	}
	// Roles take effect on the next request of an existing session.
	if st := e.do(carol, "GET", "/scripts?app=team", nil, nil); st != 200 {
		t.Fatalf("viewer reads scripts: %d", st)
	}
	if st := e.do(carol, "POST", "/scripts", map[string]string{"app": "team", "name": "s", "source": "x"}, nil); st != 403 {
		t.Fatalf("viewer deploys: %d", st)
	}
	if st := e.do(owner, "PUT", "/apps/team/members/"+e.users["carol"].ID, map[string]string{"role": "editor"}, &mb); st != 200 || mb.Role != "editor" {
		t.Fatalf("set editor by id: %d %+v", st, mb)
	}
	if st := e.do(carol, "POST", "/scripts", map[string]string{"app": "team", "name": "s", "source": "x"}, nil); st != 200 {
		t.Fatalf("editor deploys: %d", st)
	}
	if st := e.do(carol, "PUT", "/apps/team/members/carol", map[string]string{"role": "app_admin"}, nil); st != 403 {
		t.Fatalf("editor promotes itself: %d", st)
	}
	var list struct{ Members []Member }
	if st := e.do(carol, "GET", "/apps/team/members", nil, &list); st != 200 || len(list.Members) != 1 || list.Members[0].Role != "editor" {
		t.Fatalf("members: %d %+v", st, list)
	}
	if st := e.do(owner, "DELETE", "/apps/team/members/carol", nil, nil); st != 204 {
		t.Fatalf("remove: %d", st)
	}
	if st := e.do(owner, "DELETE", "/apps/team/members/carol", nil, nil); st != 404 {
		t.Fatalf("remove again: %d", st)
	}
	if st := e.do(carol, "GET", "/apps/team", nil, nil); st != 404 {
		t.Fatalf("removed member sees the app: %d", st)
	}
}

// TestDeleteAuthorKeepsVersions: deleting a user who deployed leaves its
// versions, unchanged but for the author, despite versions being
// immutable.
func TestDeleteAuthorKeepsVersions(t *testing.T) {
	e := newAPIEnv(t)
	owner := e.login("owner")
	e.app("auth")
	e.user("dev", RoleAdmin)
	var d Deployed
	if st := e.do(e.login("dev"), "POST", "/scripts", map[string]string{"app": "auth", "name": "s", "source": "one", "message": "by dev"}, &d); st != 201 {
		t.Fatalf("deploy: %d", st)
	}
	if st := e.do(owner, "DELETE", "/users/dev", nil, nil); st != 204 {
		t.Fatalf("delete author: %d", st)
	}
	var v Version
	if st := e.do(owner, "GET", "/scripts/"+d.ID+"/versions/1", nil, &v); st != 200 || v.Author != "" || v.Message != "by dev" || *v.Source != "one" {
		t.Fatalf("version after its author's deletion: %d %+v", st, v)
	}
}
