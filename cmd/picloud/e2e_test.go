package main

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/picloud/picloud/internal/testnet"
)

// TestDevEndToEnd builds the binary, runs `picloud dev` on a fresh data
// directory, deploys and calls a script over real HTTP, restarts the process
// and finds the script still there.
func TestDevEndToEnd(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the real binary")
	}
	bin := buildPicloud(t)
	dataDir := nodeDataDir(t, "picloud-e2e-")
	base := "http://" + testnet.FreeAddr(t)
	env := append(os.Environ(),
		"PICLOUD_BIND="+strings.TrimPrefix(base, "http://"),
		"PICLOUD_DATA_DIR="+filepath.Join(dataDir, "picloud"),
		"PICLOUD_ADMIN_USER=alice",
		"PICLOUD_ADMIN_PASSWORD=s3cret-pass",
		"DATABASE_URL=",
	)

	node := startNode(t, bin, env, base)
	if !strings.Contains(node.stdout(), `username "alice"`) {
		t.Errorf("startup output does not say how to log in:\n%s", node.stdout())
	}

	body, status := get(t, base+"/healthz", "")
	if status != 200 || body != "ok" {
		t.Fatalf("/healthz = %d %q", status, body)
	}
	body, status = get(t, base+"/", "localhost")
	if status != 200 || !strings.Contains(body, "Hello from PiCloud") {
		t.Fatalf("/ = %d %q, want the Hello World seed", status, body)
	}
	body, _ = get(t, base+"/version", "")
	var version map[string]any
	if err := json.Unmarshal([]byte(body), &version); err != nil {
		t.Fatalf("/version: %v: %s", err, body)
	}
	for _, k := range []string{"product", "sdk", "api", "schema", "wire", "public_base_url"} {
		if _, ok := version[k]; !ok {
			t.Errorf("/version lacks %q: %s", k, body)
		}
	}

	token := login(t, base, "alice", "s3cret-pass")
	var deployed struct {
		ID      string `json:"id"`
		Version int    `json:"version"`
	}
	status = postJSON(t, base+"/api/v1/admin/scripts", token, map[string]any{
		"app": "default", "name": "greet",
		"source":   "export default {\n  async fetch(request, env, ctx) {\n    const name = await request.text();\n    return Response.json({ greeting: env.GREETING + ', ' + name, method: request.method });\n  },\n};\n",
		"bindings": map[string]any{"GREETING": map[string]any{"type": "text", "value": "Hello"}},
	}, &deployed)
	if status != http.StatusCreated || deployed.ID == "" || deployed.Version != 1 {
		t.Fatalf("deploy = %d %+v", status, deployed)
	}
	want := `{"greeting":"Hello, Pi","method":"POST"}`
	if body, status := post(t, base+"/api/v1/execute/"+deployed.ID, "Pi"); status != 200 || body != want {
		t.Fatalf("execute = %d %q, want %q", status, body, want)
	}

	var apiErr struct {
		Error struct {
			Code    string         `json:"code"`
			Message string         `json:"message"`
			Details map[string]any `json:"details"`
		} `json:"error"`
	}
	status = postJSON(t, base+"/api/v1/admin/scripts", token, map[string]any{
		"app": "default", "name": "broken", "source": "export default {\n  fetch() { return 1 +; }\n}",
	}, &apiErr)
	if status != http.StatusBadRequest || apiErr.Error.Code != "syntax_error" || apiErr.Error.Details["line"] != float64(2) ||
		apiErr.Error.Details["column"] != float64(23) || !strings.Contains(apiErr.Error.Message, "line 2, column 23") {
		t.Fatalf("syntax error deploy = %d %+v, want line 2, column 23 (the 1-based column of the \";\")", status, apiErr)
	}
	var listed struct {
		Scripts []struct{ Name string } `json:"scripts"`
	}
	req, _ := http.NewRequest(http.MethodGet, base+"/api/v1/admin/scripts?app=default", nil)
	req.Header.Set("Authorization", "Bearer "+token)
	if body, status := do(t, req); status != 200 || json.Unmarshal([]byte(body), &listed) != nil || len(listed.Scripts) != 2 {
		t.Fatalf("scripts after the refused deploy = %d %s, want hello and greet only", status, body)
	}
	for _, s := range listed.Scripts {
		if s.Name == "broken" {
			t.Fatal("the script with a syntax error was stored")
		}
	}

	// Without PICLOUD_HTTP_ALLOW_PRIVATE a script's fetch() cannot reach
	// loopback: not the node itself, not by name.
	var ssrf struct{ ID string }
	status = postJSON(t, base+"/api/v1/admin/scripts", token, map[string]any{
		"app": "default", "name": "ssrf",
		"source": "export default { async fetch() { const out = []; for (const u of [\"" + base + "/healthz\", \"http://localhost:" + base[strings.LastIndex(base, ":")+1:] + "/healthz\"]) {\n" +
			"try { await fetch(u); out.push(\"reached\") } catch (e) { out.push(e.message.includes(\"destination address is not allowed\")) } }\nreturn Response.json(out) } }",
	}, &ssrf)
	if status != http.StatusCreated {
		t.Fatalf("deploy ssrf = %d", status)
	}
	if body, status := get(t, base+"/api/v1/execute/"+ssrf.ID, ""); status != 200 || body != "[true,true]" {
		t.Fatalf("fetch to loopback = %d %s, want both refused", status, body)
	}

	// Ctrl-C during a request: the node stops accepting, lets the request
	// finish, then stops.
	var slow struct{ ID string }
	if status := postJSON(t, base+"/api/v1/admin/scripts", token, map[string]any{"app": "default", "name": "slow",
		"source": "export default { async fetch() { await scheduler.wait(1500); return new Response('finished') } }"}, &slow); status != http.StatusCreated {
		t.Fatalf("deploy slow = %d", status)
	}
	inflight := make(chan string, 1)
	go func() {
		resp, err := http.Get(base + "/api/v1/execute/" + slow.ID)
		if err != nil {
			inflight <- err.Error()
			return
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		inflight <- strconv.Itoa(resp.StatusCode) + " " + string(b)
	}()
	// Wait until it holds an execution slot.
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		if body, _ := get(t, base+"/metrics", ""); strings.Contains(body, "\npicloud_gate_in_use 1\n") {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the slow request never started executing")
		}
	}

	// Ctrl-C stops the managed Postgres too: its postmaster is gone and
	// its pid file removed.
	pgPID := postmasterPID(t, filepath.Join(dataDir, "picloud", "postgres"))
	node.stop(t)
	select {
	case got := <-inflight:
		if got != "200 finished" {
			t.Errorf("request in flight at Ctrl-C = %q, want it finished", got)
		}
	case <-time.After(10 * time.Second):
		t.Error("the request in flight at Ctrl-C never ended")
	}
	if _, err := os.Stat(filepath.Join(dataDir, "picloud", "postgres", "postmaster.pid")); !os.IsNotExist(err) {
		t.Errorf("postmaster.pid left after Ctrl-C: %v", err)
	}
	if err := syscall.Kill(pgPID, 0); err == nil {
		t.Errorf("postgres (pid %d) still running after Ctrl-C", pgPID)
	}
	node = startNode(t, bin, env, base)
	defer node.stop(t)
	if strings.Contains(node.stdout(), "password") && strings.Contains(node.stdout(), "shown once") {
		t.Errorf("second start bootstrapped an admin again:\n%s", node.stdout())
	}
	if body, status := post(t, base+"/api/v1/execute/"+deployed.ID, "again"); status != 200 || !strings.Contains(body, "Hello, again") {
		t.Fatalf("after restart execute = %d %q", status, body)
	}
	if body, status := get(t, base+"/api/v1/execute/00000000-0000-0000-0000-000000000000", ""); status != 404 || !strings.Contains(body, "script_not_found") {
		t.Fatalf("unknown script = %d %q", status, body)
	}
	if _, status := get(t, base+"/api/v1/execute/"+"broken", ""); status != 404 {
		t.Fatalf("the refused script exists: %d", status)
	}
}

// postmasterPID reads the pid of a running managed Postgres and checks
// that the process exists.
func postmasterPID(t *testing.T, pgData string) int {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(pgData, "postmaster.pid"))
	if err != nil {
		t.Fatalf("the managed postgres is not running: %v", err)
	}
	pid, err := strconv.Atoi(strings.SplitN(string(b), "\n", 2)[0])
	if err != nil || syscall.Kill(pid, 0) != nil {
		t.Fatalf("postmaster.pid %q: no live process (%v)", b, err)
	}
	return pid
}

type runningNode struct {
	cmd    *exec.Cmd
	done   chan error
	mu     sync.Mutex
	out    *bytes.Buffer
	errOut *bytes.Buffer // the node's log (stderr)
}

func (n *runningNode) stderr() string {
	n.mu.Lock()
	defer n.mu.Unlock()
	return n.errOut.String()
}

func (n *runningNode) stdout() string {
	n.mu.Lock()
	defer n.mu.Unlock()
	return n.out.String()
}

func startNode(t *testing.T, bin string, env []string, base string) *runningNode {
	t.Helper()
	return startNodeMode(t, bin, "dev", env, base)
}

// startNodeMode is startNode for `picloud <mode>` (dev or agent).
func startNodeMode(t *testing.T, bin, mode string, env []string, base string) *runningNode {
	t.Helper()
	n := &runningNode{out: new(bytes.Buffer), errOut: new(bytes.Buffer), done: make(chan error, 1)}
	n.cmd = exec.Command(bin, mode)
	n.cmd.Env = env
	n.cmd.Stdout = lockedWriter{&n.mu, n.out}
	n.cmd.Stderr = lockedWriter{&n.mu, n.errOut}
	if err := n.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	// The node's log is long; only a failing test shows its tail, so the
	// failure itself stays readable in CI's output.
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("the node's log, last lines:\n%s", lastLines(n.stderr(), 80))
		}
	})
	go func() { n.done <- n.cmd.Wait() }()
	deadline := time.Now().Add(90 * time.Second)
	for {
		// Log lines reach stderr in batches (logWriter): the ready line
		// is start-up's last, so once it is there, so is all before it.
		resp, err := http.Get(base + "/healthz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == 200 && strings.Contains(n.stderr(), `msg="picloud is ready"`) {
				return n
			}
		}
		select {
		case err := <-n.done:
			t.Fatalf("picloud dev exited before serving: %v", err)
		case <-time.After(100 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			_ = n.cmd.Process.Kill()
			t.Fatal("picloud dev did not answer /healthz within 90s")
		}
	}
}

// stop sends Ctrl-C and expects a clean exit, Postgres included.
func (n *runningNode) stop(t *testing.T) {
	t.Helper()
	if n.cmd.ProcessState != nil {
		return
	}
	_ = n.cmd.Process.Signal(syscall.SIGINT)
	select {
	case err := <-n.done:
		if err != nil {
			t.Fatalf("picloud dev exited with %v after Ctrl-C", err)
		}
	case <-time.After(60 * time.Second):
		_ = n.cmd.Process.Kill()
		t.Fatal("picloud dev did not stop within 60s of Ctrl-C")
	}
}

type lockedWriter struct {
	mu *sync.Mutex
	w  io.Writer
}

func (l lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}

func lastLines(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}

func do(t *testing.T, req *http.Request) (string, int) {
	t.Helper()
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", req.Method, req.URL, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return string(b), resp.StatusCode
}

func get(t *testing.T, url, host string) (string, int) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, url, nil)
	if host != "" {
		req.Host = host
	}
	return do(t, req)
}

func post(t *testing.T, url, body string) (string, int) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPost, url, strings.NewReader(body))
	return do(t, req)
}

func postJSON(t *testing.T, url, token string, in, out any) int {
	t.Helper()
	b, _ := json.Marshal(in)
	req, _ := http.NewRequest(http.MethodPost, url, bytes.NewReader(b))
	req.Header.Set("Content-Type", "application/json")
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	body, status := do(t, req)
	if err := json.Unmarshal([]byte(body), out); err != nil {
		t.Fatalf("POST %s: %d %q: %v", url, status, body, err)
	}
	return status
}

func login(t *testing.T, base, user, password string) string {
	t.Helper()
	var s struct {
		Token string `json:"token"`
	}
	if status := postJSON(t, base+"/api/v1/admin/auth/login", "", map[string]string{"username": user, "password": password}, &s); status != 200 || s.Token == "" {
		t.Fatalf("login = %d", status)
	}
	return s.Token
}

// buildPicloud builds the binary under test.
func buildPicloud(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "picloud")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
}

// nodeDataDir makes a fresh data directory, removed after the test. Not
// t.TempDir: its parent is 0700, and a managed postgres running as
// another user must traverse the path.
func nodeDataDir(t *testing.T, prefix string) string {
	t.Helper()
	dir, err := os.MkdirTemp("", prefix)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = os.RemoveAll(dir) })
	if err := os.Chmod(dir, 0o711); err != nil {
		t.Fatal(err)
	}
	return dir
}
