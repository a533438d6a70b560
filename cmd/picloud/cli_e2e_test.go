package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// cliEnv runs the built binary as the client, with its own config dir.
type cliEnv struct {
	t    *testing.T
	bin  string
	env  []string
	home string // the client's HOME, where logins are stored
}

func (c *cliEnv) run(stdin string, extraEnv []string, args ...string) (stdout, stderr string, code int) {
	c.t.Helper()
	cmd := exec.Command(c.bin, args...)
	cmd.Env = append(append([]string{}, c.env...), extraEnv...)
	cmd.Stdin = strings.NewReader(stdin)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	code = 0
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else if err != nil {
		c.t.Fatalf("running picloud %v: %v", args, err)
	}
	return out.String(), errb.String(), code
}

// must runs a command that must succeed and returns its stdout.
func (c *cliEnv) must(args ...string) string {
	c.t.Helper()
	out, errOut, code := c.run("", nil, args...)
	if code != 0 {
		c.t.Fatalf("picloud %s: exit %d\nstdout: %s\nstderr: %s", strings.Join(args, " "), code, out, errOut)
	}
	return out
}

// fails runs a command that must exit with code and mention want on
// stderr.
func (c *cliEnv) fails(code int, want string, extraEnv []string, args ...string) {
	c.t.Helper()
	out, errOut, got := c.run("", extraEnv, args...)
	if got != code || !strings.Contains(errOut, want) {
		c.t.Fatalf("picloud %s: exit %d (want %d)\nstdout: %s\nstderr: %s (want it to mention %q)", strings.Join(args, " "), got, code, out, errOut, want)
	}
}

// TestCLIEndToEnd drives every client command against a real `picloud
// dev`, as subprocesses, checking output and exit codes, and follows a
// script's console.log line from execution to the log API and the live
// tail.
func TestCLIEndToEnd(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the real binary")
	}
	bin := buildPicloud(t)
	base, node := startAliceNode(t, bin, "picloud-cli-e2e-")
	defer node.stop(t)

	c := newCLIEnv(t, bin)
	work := t.TempDir()
	write := func(name, src string) string {
		p := filepath.Join(work, name)
		if err := os.WriteFile(p, []byte(src), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}

	// Usage mistakes are exit 2, before anything is asked of the server.
	c.fails(2, "usage: picloud deploy", nil, "deploy")
	c.fails(2, "name it .js or .ts", nil, "deploy", write("notes.txt", "x"))
	c.fails(2, "unknown command", nil, "frobnicate")
	// Not logged in is exit 3 and says how to log in.
	c.fails(3, "picloud login", nil, "whoami")
	// Nothing listens on port 1: exit 6.
	c.fails(6, "cannot reach PiCloud", []string{"PICLOUD_URL=http://127.0.0.1:1", "PICLOUD_TOKEN=x"}, "scripts", "ls")

	if _, errOut, code := c.run("wrong-pass\n", nil, "login", base, "--username", "alice", "--password-stdin"); code != 3 || !strings.Contains(errOut, "bad_credentials") {
		t.Fatalf("login with a wrong password: exit %d, %s", code, errOut)
	}
	out, errOut, code := c.run("s3cret-pass\n", nil, "login", base, "--username", "alice", "--password-stdin")
	if code != 0 || !strings.Contains(out, "as alice (owner)") {
		t.Fatalf("login: exit %d\n%s%s", code, out, errOut)
	}
	st, err := os.Stat(filepath.Join(c.home, ".config", "picloud", "credentials.json"))
	if err != nil || st.Mode().Perm() != 0o600 {
		t.Fatalf("credentials file: %v %v, want mode 0600", st, err)
	}
	if out := c.must("whoami"); !strings.Contains(out, "alice (owner) on "+base) {
		t.Fatalf("whoami: %q", out)
	}
	var who struct{ Username, Role string }
	if err := json.Unmarshal([]byte(c.must("whoami", "--json")), &who); err != nil || who.Username != "alice" {
		t.Fatalf("whoami --json: %+v %v", who, err)
	}

	// Apps.
	c.must("apps", "create", "shop", "--name", "The Shop")
	c.fails(5, "app_exists", nil, "apps", "create", "shop")
	c.fails(5, "invalid_slug", nil, "apps", "create", "Bad Slug")
	if out := c.must("apps", "ls"); !strings.Contains(out, "SLUG") || !strings.Contains(out, "The Shop") || !strings.Contains(out, "default") {
		t.Fatalf("apps ls:\n%s", out)
	}

	// Domains: claim, list, refuse a collision, release.
	if out := c.must("domains", "add", "shop.test", "--app", "shop"); !strings.Contains(out, "App shop now claims shop.test") {
		t.Fatalf("domains add:\n%s", out)
	}
	c.fails(5, "domain_conflict", nil, "domains", "add", "shop.test", "--app", "default")
	c.fails(5, "invalid_pattern", nil, "domains", "add", "bad..name", "--app", "shop")
	c.must("domains", "add", "{tenant}.shop.test", "--app", "shop")
	if out := c.must("domains", "ls", "--app", "shop"); !strings.Contains(out, "PATTERN") || !strings.Contains(out, "shop.test") || !strings.Contains(out, "{tenant}.shop.test") {
		t.Fatalf("domains ls:\n%s", out)
	}
	c.must("domains", "rm", "{tenant}.shop.test", "--app", "shop")
	var claims []struct{ Pattern string }
	if err := json.Unmarshal([]byte(c.must("domains", "ls", "--app", "shop", "--json")), &claims); err != nil || len(claims) != 1 || claims[0].Pattern != "shop.test" {
		t.Fatalf("domains ls --json after rm: %+v %v", claims, err)
	}

	// Deploy TypeScript with a route; the name comes from the file.
	greet := write("greet.ts", `export default {
  async fetch(request: Request): Promise<Response> {
    const name: string = await request.text();
    console.log("greeting " + name);
    if (name === "fail") console.error("about to fail");
    return new Response("Hello, " + name + " (v1)");
  },
};
`)
	out = c.must("deploy", greet, "--route", "POST /greet")
	wantURL := strings.Replace(base, "127.0.0.1", "localhost", 1) + "/greet"
	if !strings.Contains(out, "Created default/greet, version 1.") || !strings.Contains(out, wantURL) || !strings.Contains(out, "/api/v1/execute/") {
		t.Fatalf("deploy output:\n%s", out)
	}
	// A re-deploy with the same route keeps the route.
	if out := c.must("deploy", greet, "--route", "POST /greet", "--message", "same again"); !strings.Contains(out, "Updated default/greet, version 2.") {
		t.Fatalf("re-deploy:\n%s", out)
	}
	var scripts []struct{ ID, Name string }
	if err := json.Unmarshal([]byte(c.must("scripts", "ls", "--json")), &scripts); err != nil {
		t.Fatal(err)
	}
	var greetID string
	for _, s := range scripts {
		if s.Name == "greet" {
			greetID = s.ID
		}
	}
	if greetID == "" {
		t.Fatalf("scripts ls --json lacks greet: %+v", scripts)
	}
	if out := c.must("invoke", "greet", "-d", "Pi"); out != "Hello, Pi (v1)" {
		t.Fatalf("invoke: %q", out)
	}
	req, _ := http.NewRequest(http.MethodPost, base+"/greet", strings.NewReader("route"))
	req.Host = "localhost"
	if body, status := do(t, req); status != 200 || body != "Hello, route (v1)" {
		t.Fatalf("POST /greet on localhost = %d %q", status, body)
	}

	// The console line is stored and retrievable: by the CLI ...
	var got string
	deadline := time.Now().Add(10 * time.Second)
	for !strings.Contains(got, "greeting Pi") && time.Now().Before(deadline) {
		time.Sleep(100 * time.Millisecond)
		got = c.must("logs", "greet", "--json")
	}
	var exec1 struct {
		Script, Outcome, Method string
		Status                  int
		Logs                    []struct{ Level, Message string }
	}
	first, _, _ := strings.Cut(got, "\n")
	if err := json.Unmarshal([]byte(first), &exec1); err != nil || exec1.Script != "greet" || exec1.Status != 200 ||
		exec1.Outcome != "success" || len(exec1.Logs) != 1 || exec1.Logs[0].Message != "greeting Pi" || exec1.Logs[0].Level != "info" {
		t.Fatalf("logs --json first line: %+v %v\n%s", exec1, err, got)
	}
	if out := c.must("logs", "greet"); !strings.Contains(out, "POST /api/v1/execute/"+greetID+"  200  success") || !strings.Contains(out, "info   greeting Pi") {
		t.Fatalf("logs:\n%s", out)
	}
	// A script id finds its logs without --app.
	c.must("deploy", write("other.js", "export default { fetch() { console.log('in shop'); return new Response('ok'); } };\n"), "--app", "shop")
	var shopScripts []struct{ ID string }
	if err := json.Unmarshal([]byte(c.must("scripts", "ls", "--app", "shop", "--json")), &shopScripts); err != nil || len(shopScripts) != 1 {
		t.Fatalf("shop scripts: %+v %v", shopScripts, err)
	}
	c.must("invoke", shopScripts[0].ID)
	deadline = time.Now().Add(10 * time.Second)
	for got = ""; !strings.Contains(got, "in shop") && time.Now().Before(deadline); {
		time.Sleep(100 * time.Millisecond)
		got = c.must("logs", shopScripts[0].ID)
	}
	if !strings.Contains(got, "shop/other v1") {
		t.Fatalf("logs by script id:\n%s", got)
	}
	c.must("apps", "rm", "shop", "--force")
	c.must("apps", "create", "shop")

	// ... and by the admin API.
	token := login(t, base, "alice", "s3cret-pass")
	areq, _ := http.NewRequest(http.MethodGet, base+"/api/v1/admin/logs?app=default&script=greet&level=info", nil)
	areq.Header.Set("Authorization", "Bearer "+token)
	body, status := do(t, areq)
	if status != 200 || !strings.Contains(body, `"message":"greeting Pi"`) || !strings.Contains(body, `"script":"greet"`) {
		t.Fatalf("GET /logs = %d %s", status, body)
	}

	// The live tail gets a new execution's line as it is stored.
	tail := exec.Command(bin, "logs", "greet", "-f", "--json", "--level", "error")
	tail.Env = c.env
	pipe, err := tail.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	var tailErr bytes.Buffer
	tail.Stderr = &tailErr
	if err := tail.Start(); err != nil {
		t.Fatal(err)
	}
	lines := make(chan string, 100)
	go func() {
		sc := bufio.NewScanner(pipe)
		for sc.Scan() {
			lines <- sc.Text()
		}
		close(lines)
	}()
	time.Sleep(500 * time.Millisecond) // let it connect
	if out, _, code := c.run("", nil, "invoke", "greet", "-d", "fail"); code != 0 || out != "Hello, fail (v1)" {
		t.Fatalf("invoke fail: %d %q", code, out)
	}
	start := time.Now()
	var live string
	timeout := time.After(10 * time.Second)
wait:
	for {
		select {
		case l, ok := <-lines:
			if !ok {
				t.Fatalf("tail ended early: %s", tailErr.String())
			}
			if strings.Contains(l, "about to fail") {
				live = l
				break wait
			}
		case <-timeout:
			t.Fatalf("the tail did not deliver the line within 10s; stderr: %s", tailErr.String())
		}
	}
	t.Logf("live tail delivered the line %s after the invoke returned", time.Since(start).Round(time.Millisecond))
	if strings.Contains(live, "greeting fail") {
		t.Errorf("--level error let an info line through: %s", live)
	}
	_ = tail.Process.Signal(syscall.SIGINT)
	if err := tail.Wait(); err != nil {
		t.Errorf("logs -f after Ctrl-C: %v (want exit 0); stderr: %s", err, tailErr.String())
	}

	// Versions and rollback.
	write("greet.ts", strings.Replace(mustRead(t, greet), "(v1)", "(v2)", 1))
	c.must("deploy", greet)
	if out := c.must("invoke", "greet", "-d", "x"); out != "Hello, x (v2)" {
		t.Fatalf("after v3: %q", out)
	}
	out = c.must("versions", "greet")
	if !strings.Contains(out, "*3") || !strings.Contains(out, "same again") || !strings.Contains(out, "alice") {
		t.Fatalf("versions:\n%s", out)
	}
	if out := c.must("rollback", "greet", "1"); !strings.Contains(out, "now runs version 1 (was 3)") {
		t.Fatalf("rollback: %q", out)
	}
	if out := c.must("invoke", "greet", "-d", "x"); out != "Hello, x (v1)" {
		t.Fatalf("after rollback: %q", out)
	}
	c.fails(4, "not found", nil, "rollback", "greet", "99")
	c.fails(2, "not a version number", nil, "rollback", "greet", "latest")
	c.fails(5, "syntax error at line 2", nil, "deploy", write("broken.js", "export default {\n  fetch() { return 1 +; }\n}\n"))
	c.fails(4, "no script \"nope\"", nil, "invoke", "nope")
	c.must("deploy", write("boom.js", "export default {\n  fetch(request) { throw new Error('boom: ' + request.headers.get('x-test')); },\n};\n"))
	c.fails(1, "the script answered 500", nil, "invoke", "boom", "-X", "PUT", "-H", "X-Test: header-ok", "--app", "default")
	deadline = time.Now().Add(10 * time.Second)
	for out = ""; !strings.Contains(out, "boom: header-ok") && time.Now().Before(deadline); {
		time.Sleep(100 * time.Millisecond)
		out = c.must("logs", "boom", "--outcome", "error")
	}
	if !strings.Contains(out, "PUT /api/v1/execute/") || !strings.Contains(out, "500  error") || !strings.Contains(out, "boom: header-ok") {
		t.Fatalf("logs of a failing script:\n%s", out)
	}

	// Routes.
	c.must("routes", "add", "greet", "GET /g2")
	c.fails(5, "", nil, "routes", "add", "greet", "GET /g2")
	var routes []struct{ ID, Method, Path, Script string }
	if err := json.Unmarshal([]byte(c.must("routes", "ls", "--json")), &routes); err != nil {
		t.Fatal(err)
	}
	var g2 string
	for _, r := range routes {
		if r.Path == "/g2" && r.Script == "greet" {
			g2 = r.ID
		}
	}
	if g2 == "" {
		t.Fatalf("routes ls lacks /g2: %+v", routes)
	}
	if out := c.must("routes", "ls"); !strings.Contains(out, "METHOD") || !strings.Contains(out, "/greet") {
		t.Fatalf("routes ls:\n%s", out)
	}
	c.must("routes", "rm", g2)
	c.fails(4, "not found", nil, "routes", "rm", g2)

	// API keys: created, usable as PICLOUD_TOKEN, revoked.
	out = c.must("keys", "create", "ci", "--scope", "script:read", "--expires", "720h")
	var key string
	for _, f := range strings.Fields(out) {
		if strings.HasPrefix(f, "pic_") {
			key = f
		}
	}
	if key == "" || !strings.Contains(out, "shown only now") {
		t.Fatalf("keys create:\n%s", out)
	}
	if out, errOut, code := c.run("", []string{"PICLOUD_TOKEN=" + key}, "scripts", "ls"); code != 0 || !strings.Contains(out, "greet") {
		t.Fatalf("scripts ls with the key: %d %s %s", code, out, errOut)
	}
	c.fails(3, "forbidden", []string{"PICLOUD_TOKEN=" + key}, "deploy", greet)
	var keys []struct{ ID, Name string }
	if err := json.Unmarshal([]byte(c.must("keys", "ls", "--json")), &keys); err != nil || len(keys) != 1 || keys[0].Name != "ci" {
		t.Fatalf("keys ls: %+v %v", keys, err)
	}
	c.must("keys", "rm", keys[0].ID)
	c.fails(3, "picloud login", []string{"PICLOUD_TOKEN=" + key}, "scripts", "ls")

	// Removing an app, then logging out.
	c.must("apps", "rm", "shop")
	c.fails(4, "not found", nil, "apps", "rm", "shop")
	c.must("logout")
	c.fails(3, "picloud login", nil, "whoami")

	// A tail left open does not hold up the node's shutdown.
	lingering := exec.Command(bin, "logs", "-f", "--url", base)
	lingering.Env = append(append([]string{}, c.env...), "PICLOUD_TOKEN="+token)
	if err := lingering.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { _ = lingering.Process.Kill(); _ = lingering.Wait() }()
	time.Sleep(500 * time.Millisecond)
	stopped := time.Now()
	node.stop(t)
	t.Logf("node stopped %s after Ctrl-C with a tail open", time.Since(stopped).Round(time.Millisecond))
}

func mustRead(t *testing.T, p string) string {
	t.Helper()
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}
