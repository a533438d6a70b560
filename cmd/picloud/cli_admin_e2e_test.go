package main

import (
	"encoding/json"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/picloud/picloud/internal/testnet"
)

// newCLIEnv is a client with its own config dir (its own stored login)
// and no PICLOUD_ variables from the test's environment.
// startAliceNode runs `picloud dev` on a fresh data directory with the
// bootstrap admin alice (password s3cret-pass) and its own Postgres.
func startAliceNode(t *testing.T, bin, dirPrefix string) (string, *runningNode) {
	t.Helper()
	dataDir := nodeDataDir(t, dirPrefix)
	addr := testnet.FreeAddr(t)
	base := "http://" + addr
	return base, startNode(t, bin, append(os.Environ(),
		"PICLOUD_BIND="+addr, "PICLOUD_DATA_DIR="+filepath.Join(dataDir, "picloud"),
		"PICLOUD_ADMIN_USER=alice", "PICLOUD_ADMIN_PASSWORD=s3cret-pass", "DATABASE_URL=",
	), base)
}

// newCLIEnv is a client with its own home (stored logins) and no
// PICLOUD_* variables from the test's environment.
func newCLIEnv(t *testing.T, bin string) *cliEnv {
	home := t.TempDir()
	var clean []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "PICLOUD_") && !strings.HasPrefix(kv, "HOME=") && !strings.HasPrefix(kv, "XDG_CONFIG_HOME=") {
			clean = append(clean, kv)
		}
	}
	return &cliEnv{t: t, bin: bin, home: home, env: append(clean, "HOME="+home, "XDG_CONFIG_HOME="+filepath.Join(home, ".config"))}
}

// runOK runs a command with stdin that must succeed.
func (c *cliEnv) runOK(stdin string, args ...string) string {
	c.t.Helper()
	out, errOut, code := c.run(stdin, nil, args...)
	if code != 0 {
		c.t.Fatalf("picloud %s: exit %d\nstdout: %s\nstderr: %s", strings.Join(args, " "), code, out, errOut)
	}
	return out
}

// runFails runs a command with stdin that must exit with code and mention
// want on stderr.
func (c *cliEnv) runFails(stdin string, code int, want string, args ...string) {
	c.t.Helper()
	out, errOut, got := c.run(stdin, nil, args...)
	if got != code || !strings.Contains(errOut, want) {
		c.t.Fatalf("picloud %s: exit %d (want %d)\nstdout: %s\nstderr: %s (want it to mention %q)", strings.Join(args, " "), got, code, out, errOut, want)
	}
}

// contains fails unless out holds every one of want.
func contains(t *testing.T, what, out string, want ...string) {
	t.Helper()
	for _, w := range want {
		if !strings.Contains(out, w) {
			t.Fatalf("%s: output lacks %q:\n%s", what, w, out)
		}
	}
}

// TestCLIAdminEndToEnd drives the control-plane commands of the CLI
// against a real `picloud dev`: users (create, roles, deactivation,
// passwords, guards), app members, app settings and renames with their
// redirects, script details and sources, sandbox limits on deploy, route
// check/match/set, log filters, and login throttling; two users, each
// with its own stored login.
func TestCLIAdminEndToEnd(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the real binary")
	}
	bin := buildPicloud(t)
	base, node := startAliceNode(t, bin, "picloud-cli-admin-e2e-")
	defer node.stop(t)

	alice, bob := newCLIEnv(t, bin), newCLIEnv(t, bin)
	alice.runOK("s3cret-pass\n", "login", base, "--username", "alice", "--password-stdin")
	work := t.TempDir()
	write := func(name, src string) string {
		p := filepath.Join(work, name)
		if err := os.WriteFile(p, []byte(src), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	script := func(name, text string) string {
		return write(name, "export default { fetch(request) { console.log('"+text+"'); return new Response('"+text+"'); } };\n")
	}

	// Users: a generated password is shown once and works.
	out := alice.must("users", "create", "bob")
	contains(t, "users create", out, "Created user bob (member", "shown only now", "picloud members set bob")
	var bobPass string
	for _, l := range strings.Split(out, "\n") {
		if p, ok := strings.CutPrefix(strings.TrimSpace(l), "password: "); ok {
			bobPass = p
		}
	}
	if len(bobPass) != 20 {
		t.Fatalf("no generated password in:\n%s", out)
	}
	alice.runFails("another-pass\n", 5, "user_exists", "users", "create", "bob", "--password-stdin")
	alice.runFails("short\n", 5, "weak_password", "users", "create", "carl", "--password-stdin")
	alice.runFails("long-enough-pass\n", 5, "instance roles are owner, admin and member", "users", "create", "carl", "--role", "root", "--password-stdin")
	contains(t, "users ls", alice.must("users", "ls"), "USERNAME", "alice", "owner", "bob", "member", "active")
	var users []struct {
		Username, Role string
		Active         bool
	}
	if err := json.Unmarshal([]byte(alice.must("users", "ls", "--json")), &users); err != nil || len(users) != 2 || users[1].Username != "bob" || !users[1].Active {
		t.Fatalf("users ls --json: %+v %v", users, err)
	}
	contains(t, "users show", alice.must("users", "show", "bob"), "bob (member, active)")
	alice.fails(4, "not_found", nil, "users", "show", "nobody")
	if out := bob.runOK(bobPass+"\n", "login", base, "--username", "bob", "--password-stdin"); !strings.Contains(out, "as bob (member)") {
		t.Fatalf("bob login:\n%s", out)
	}
	bob.fails(3, "needs instance:users", nil, "users", "ls")
	contains(t, "whoami without roles", bob.must("whoami"), "no app roles yet")
	if out := bob.must("apps", "ls", "--json"); strings.TrimSpace(out) != "[]" {
		t.Fatalf("a member without roles sees apps: %s", out)
	}

	// Members: a role on one app, changed and checked at once.
	alice.must("apps", "create", "shop")
	shopJS := script("cart.js", "cart v1")
	alice.fails(5, "app_admin, editor and viewer", nil, "members", "set", "bob", "owner", "--app", "shop")
	alice.fails(4, "not_found", nil, "members", "set", "nobody", "viewer", "--app", "shop")
	contains(t, "members ls (empty)", alice.must("members", "ls", "--app", "shop"), "no members")
	contains(t, "members set", alice.must("members", "set", "bob", "viewer", "--app", "shop"), "bob is now viewer of app shop.")
	bob.fails(3, "needs script:write", nil, "deploy", shopJS, "--app", "shop")
	bob.fails(4, "not_found", nil, "deploy", shopJS) // app default is invisible to bob
	alice.must("members", "add", "bob", "editor", "--app", "shop")
	contains(t, "deploy as editor", bob.must("deploy", shopJS, "--app", "shop"), "Created shop/cart, version 1.")
	contains(t, "members ls", alice.must("members", "ls", "--app", "shop"), "USERNAME", "bob", "editor")
	contains(t, "whoami of a member", bob.must("whoami"), "bob (member)", "apps: shop (editor)")
	var members []struct{ Username, Role string }
	if err := json.Unmarshal([]byte(bob.must("members", "ls", "--app", "shop", "--json")), &members); err != nil || len(members) != 1 || members[0].Role != "editor" {
		t.Fatalf("members ls --json: %+v %v", members, err)
	}
	bob.fails(3, "needs app:admin", nil, "members", "set", "bob", "app_admin", "--app", "shop")

	// Apps: show, display name, rename; the old slug keeps working.
	contains(t, "apps set name", alice.must("apps", "set", "shop", "--name", "The Shop"), `Updated app shop: name "The Shop"; logs: keeps executions node default`)
	contains(t, "apps rename", alice.must("apps", "rename", "shop", "store"), "Renamed app shop to store")
	contains(t, "apps show old slug", alice.must("apps", "show", "shop"), "store (The Shop)", "former slug")
	contains(t, "domains add via old slug", alice.must("domains", "add", "store.test", "--app", "shop"), "now claims store.test")
	contains(t, "apps show", alice.must("apps", "show", "store"), "domains: store.test")
	contains(t, "scripts ls via old slug", bob.must("scripts", "ls", "--app", "shop"), "cart")
	alice.fails(5, "app_exists", nil, "apps", "rename", "store", "default")
	alice.fails(5, "invalid_slug", nil, "apps", "set", "store", "--slug", "Bad Slug")
	// Log retention per app: lower than the node's bounds, never higher.
	contains(t, "apps set retention", alice.must("apps", "set", "store", "--log-executions", "100", "--log-age", "24h"),
		"keeps executions 100, lines node default, age 24h")
	alice.fails(5, "invalid_retention", nil, "apps", "set", "store", "--log-lines", "999999999")
	contains(t, "apps set retention back", alice.must("apps", "set", "store", "--log-executions", "default"),
		"keeps executions node default, lines node default, age 24h")
	contains(t, "apps show retention", alice.must("apps", "show", "store"), "logs:    keeps executions node default, lines node default, age 24h")
	var shown struct{ Slug, Name string }
	if err := json.Unmarshal([]byte(alice.must("apps", "show", "store", "--json")), &shown); err != nil || shown.Slug != "store" || shown.Name != "The Shop" {
		t.Fatalf("apps show --json: %+v %v", shown, err)
	}

	// Sandbox limits on deploy: kept by a deploy that leaves them out,
	// reset by {}, refused above the node's ceiling.
	limJS := script("lim.js", "lim v1")
	alice.must("deploy", limJS, "--app", "store", "--limits", `{"cpu_time_ms": 2500, "log_lines": 20}`, "--message", "first")
	write("lim.js", "export default { fetch() { return new Response('lim v2'); } };\n")
	alice.must("deploy", limJS, "--app", "store")
	contains(t, "scripts show", alice.must("scripts", "show", "lim", "--app", "store"),
		"store/lim", "version:  2 (current) of javascript", "limits:   cpu_time_ms=2500 log_lines=20", "bindings: none", "routes:   none")
	alice.must("deploy", limJS, "--app", "store", "--limits", "@"+write("none.json", "{}"))
	contains(t, "limits reset", alice.must("scripts", "show", "lim", "--app", "store"), "version:  3 (current)", "limits:   node defaults")
	alice.fails(5, "limit_above_ceiling", nil, "deploy", limJS, "--app", "store", "--limits", `{"memory_bytes": 1073741824}`)
	alice.fails(5, "PICLOUD_LIMIT_CEILINGS", nil, "deploy", limJS, "--app", "store", "--limits", `{"cpu": 1}`)
	contains(t, "scripts show --version", alice.must("scripts", "show", "lim", "--version", "1", "--app", "store"),
		"version:  1 of javascript", "message:  first", "limits:   cpu_time_ms=2500")
	if out := alice.must("scripts", "source", "lim", "--version", "1", "--app", "store"); out !=
		"export default { fetch(request) { console.log('lim v1'); return new Response('lim v1'); } };\n" {
		t.Fatalf("scripts source v1: %q", out)
	}
	if out := alice.must("scripts", "source", "lim", "--app", "store"); !strings.Contains(out, "lim v2") {
		t.Fatalf("scripts source: %q", out)
	}
	var detail struct {
		Version        int
		CurrentVersion int `json:"current_version"`
		Limits         map[string]int
		Source         *string
	}
	if err := json.Unmarshal([]byte(alice.must("scripts", "show", "lim", "--version", "1", "--app", "store", "--json")), &detail); err != nil ||
		detail.Version != 1 || detail.CurrentVersion != 3 || detail.Limits["cpu_time_ms"] != 2500 || detail.Source != nil {
		t.Fatalf("scripts show --json: %+v %v", detail, err)
	}
	contains(t, "scripts rm", alice.must("scripts", "rm", "lim", "--app", "store"), "Deleted script store/lim")
	alice.fails(4, `no script "lim"`, nil, "scripts", "show", "lim", "--app", "store")

	// Routes: check, match, set.
	alice.must("deploy", script("users.js", "users"), "--app", "store", "--route", "GET /users/:id")
	alice.must("deploy", script("files.js", "files"), "--app", "store")
	alice.fails(5, "route_conflict", nil, "routes", "check", "files", "GET /users/:uid", "--app", "store")
	alice.fails(5, "invalid_pattern", nil, "routes", "check", "files", "GET /a:b", "--app", "store")
	contains(t, "routes check", alice.must("routes", "check", "files", "GET /files/*rest", "--app", "store"), "OK: GET /files/*rest → files")
	contains(t, "routes match by host", alice.must("routes", "match", "GET /users/42", "--host", "store.test"),
		"app store", "/users/:id", "script users", "params: id=42")
	alice.fails(4, "no route of app store matches POST /users/42", nil, "routes", "match", "POST /users/42", "--app", "store")
	var mt struct {
		Matched bool
		Params  map[string]string
	}
	if err := json.Unmarshal([]byte(bob.must("routes", "match", "/users/7", "--app", "store", "--json")), &mt); err != nil || !mt.Matched || mt.Params["id"] != "7" {
		t.Fatalf("routes match --json: %+v %v", mt, err)
	}
	var routes []struct{ ID, Path string }
	if err := json.Unmarshal([]byte(alice.must("routes", "ls", "--app", "store", "--json")), &routes); err != nil || len(routes) != 1 {
		t.Fatalf("routes ls: %+v %v", routes, err)
	}
	rid := routes[0].ID
	contains(t, "routes set path", alice.must("routes", "set", rid, "GET /people/:id"), "is now GET /people/:id → users")
	contains(t, "routes set script", alice.must("routes", "set", rid, "--script", "files"), "→ files")
	req, _ := http.NewRequest(http.MethodGet, base+"/people/7", nil)
	req.Host = "store.test"
	if body, status := do(t, req); status != 200 || body != "files" {
		t.Fatalf("GET store.test/people/7 after routes set = %d %q", status, body)
	}
	alice.fails(5, "invalid_pattern", nil, "routes", "set", rid, "GET /a:b")
	bob.fails(4, "not_found", nil, "routes", "set", "00000000-0000-0000-0000-000000000000", "--host", "x.test")

	// Log filters: one execution by id, and --until.
	alice.must("invoke", "files", "--app", "store")
	var execLine string
	for deadline := time.Now().Add(10 * time.Second); execLine == "" && time.Now().Before(deadline); time.Sleep(100 * time.Millisecond) {
		execLine, _, _ = strings.Cut(alice.must("logs", "files", "--app", "store", "--json"), "\n")
	}
	var ex struct{ ID string }
	if err := json.Unmarshal([]byte(execLine), &ex); err != nil || ex.ID == "" {
		t.Fatalf("logs --json: %q %v", execLine, err)
	}
	alice.must("invoke", "files", "--app", "store")
	if out := alice.must("logs", "--app", "store", "--execution", ex.ID, "--json"); strings.Count(out, "\n") != 1 || !strings.Contains(out, ex.ID) {
		t.Fatalf("logs --execution: %q", out)
	}
	if out, errOut, code := alice.run("", nil, "logs", "--app", "store", "--until", "1h"); code != 0 || out != "" || !strings.Contains(errOut, "No executions") {
		t.Fatalf("logs --until 1h: %d %q %q", code, out, errOut)
	}

	// Deactivation ends sessions and revokes keys; reactivation does not
	// bring them back.
	out = bob.must("keys", "create", "bobkey", "--scope", "script:read", "--app", "store")
	var bobKey string
	for _, f := range strings.Fields(out) {
		if strings.HasPrefix(f, "pic_") {
			bobKey = f
		}
	}
	if out, _, code := bob.run("", []string{"PICLOUD_TOKEN=" + bobKey}, "scripts", "ls", "--app", "store"); code != 0 || !strings.Contains(out, "files") {
		t.Fatalf("bob's key: %d %s", code, out)
	}
	contains(t, "users deactivate", alice.must("users", "deactivate", "bob"), "bob is now member, deactivated", "API keys revoked")
	bob.fails(3, "unauthenticated", nil, "whoami")
	bob.fails(3, "unauthenticated", []string{"PICLOUD_TOKEN=" + bobKey}, "whoami")
	bob.runFails(bobPass+"\n", 3, "bad_credentials", "login", base, "--username", "bob", "--password-stdin")
	contains(t, "users activate", alice.must("users", "activate", "bob"), "bob is now member, active")
	bob.fails(3, "unauthenticated", nil, "whoami")
	bob.fails(3, "unauthenticated", []string{"PICLOUD_TOKEN=" + bobKey}, "whoami")

	// Passwords: set by an admin (ends the sessions), changed by oneself
	// (keeps this session).
	bob.runOK(bobPass+"\n", "login", base, "--username", "bob", "--password-stdin")
	contains(t, "users passwd", alice.runOK("bob-new-pass-1\n", "users", "passwd", "bob", "--password-stdin"), "sessions were ended")
	bob.fails(3, "unauthenticated", nil, "whoami")
	bob.runOK("bob-new-pass-1\n", "login", base, "--username", "bob", "--password-stdin")
	bob.runFails("wrong-pass-0\nbob-new-pass-2\n", 5, "wrong_password", "passwd", "--password-stdin")
	bob.runFails("bob-new-pass-1\n", 2, "two lines", "passwd", "--password-stdin")
	contains(t, "passwd", bob.runOK("bob-new-pass-1\nbob-new-pass-2\n", "passwd", "--password-stdin"), "Password changed")
	contains(t, "whoami after passwd", bob.must("whoami"), "bob (member)")
	bob.runOK("bob-new-pass-2\n", "login", base, "--username", "bob", "--password-stdin")

	// The last owner can be neither demoted, deactivated nor deleted;
	// admins cannot touch owners.
	alice.fails(5, "make another user owner first", nil, "users", "set", "alice", "--role", "admin")
	alice.fails(5, "last_owner", nil, "users", "deactivate", "alice")
	alice.fails(5, "last_owner", nil, "users", "rm", "alice")
	contains(t, "users set role", alice.must("users", "set", "bob", "--role", "admin"), "bob is now admin, active")
	contains(t, "users ls as admin", bob.must("users", "ls"), "alice", "bob")
	bob.fails(3, "needs instance:owners", nil, "users", "set", "alice", "--active", "false")
	bob.fails(3, "needs instance:owners", nil, "users", "create", "eve", "--role", "owner")
	contains(t, "users rm", alice.must("users", "rm", "bob"), "Deleted user bob")
	// Bob's versions stay, without an author.
	var cartVersions []struct {
		Version int
		Author  string
	}
	if err := json.Unmarshal([]byte(alice.must("versions", "cart", "--app", "store", "--json")), &cartVersions); err != nil ||
		len(cartVersions) != 1 || cartVersions[0].Author != "" {
		t.Fatalf("versions of a deleted user's script: %+v %v", cartVersions, err)
	}
	alice.fails(4, "not_found", nil, "users", "show", "bob")
	bob.fails(3, "unauthenticated", nil, "whoami")

	// An app with scripts is deleted only with --force; the refusal says
	// how many scripts it has and what to do.
	alice.fails(5, `"scripts":3`, nil, "apps", "rm", "store")
	alice.fails(5, "add --force", nil, "apps", "rm", "shop")
	contains(t, "apps rm --force", alice.must("apps", "rm", "store", "--force"), "Deleted app store.")
	alice.fails(4, "not_found", nil, "apps", "show", "store")

	// Login throttling: after 10 failures the account answers 429, exit 3,
	// even with the right password.
	for i := range 10 {
		if _, errOut, code := alice.run("wrong-pass\n", nil, "login", base, "--username", "alice", "--password-stdin"); code != 3 || !strings.Contains(errOut, "bad_credentials") {
			t.Fatalf("failed login %d: exit %d %s", i, code, errOut)
		}
	}
	alice.runFails("s3cret-pass\n", 3, "rate_limited", "login", base, "--username", "alice", "--password-stdin")
	alice.runFails("s3cret-pass\n", 3, "wait and retry", "login", base, "--username", "alice", "--password-stdin")
	// The stored session is untouched by the throttle.
	contains(t, "whoami while throttled", alice.must("whoami"), "alice (owner)")
}
