package main

import (
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/picloud/picloud/internal/testnet"
)

// TestAdminAPIEndToEnd drives the admin API of the real binary: a route
// bound over the API serves at once (the write is announced to the edge),
// a rollback changes what it serves, an API key authenticates, and
// `picloud admin reset-password` recovers an account while the node is
// stopped.
func TestAdminAPIEndToEnd(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the real binary")
	}
	bin := buildPicloud(t)
	dataDir := nodeDataDir(t, "picloud-admin-e2e-")
	base := "http://" + testnet.FreeAddr(t)
	env := append(os.Environ(),
		"PICLOUD_BIND="+strings.TrimPrefix(base, "http://"),
		"PICLOUD_DATA_DIR="+filepath.Join(dataDir, "picloud"),
		"PICLOUD_ADMIN_USER=alice",
		"PICLOUD_ADMIN_PASSWORD=s3cret-pass",
		"DATABASE_URL=",
	)
	node := startNode(t, bin, env, base)
	defer node.stop(t)
	admin := base + "/api/v1/admin"
	token := login(t, base, "alice", "s3cret-pass")

	src := func(v string) string {
		return `export default { fetch() { return new Response("` + v + `"); } };`
	}
	var d struct{ ID string }
	for _, v := range []string{"one", "two"} {
		if st := postJSON(t, admin+"/scripts", token, map[string]any{"app": "default", "name": "hi", "source": src(v)}, &d); st >= 300 {
			t.Fatalf("deploy %s: %d", v, st)
		}
	}
	var r struct{ ID string }
	if st := postJSON(t, admin+"/routes", token, map[string]any{"app": "default", "script": "hi", "method": "GET", "path": "/hi"}, &r); st != 201 {
		t.Fatalf("route: %d", st)
	}
	eventually(t, base+"/hi", "two")
	var s struct{ Version int }
	if st := postJSON(t, admin+"/scripts/"+d.ID+"/rollback", token, map[string]any{"version": 1}, &s); st != 200 || s.Version != 1 {
		t.Fatalf("rollback: %d %+v", st, s)
	}
	eventually(t, base+"/hi", "one")

	var k struct{ Key string }
	if st := postJSON(t, admin+"/keys", token, map[string]any{"name": "e2e", "scopes": []string{"script:read"}, "app": "default"}, &k); st != 201 {
		t.Fatalf("key: %d", st)
	}
	req, _ := http.NewRequest("GET", admin+"/scripts?app=default", nil)
	req.Header.Set("Authorization", "Bearer "+k.Key)
	if body, st := do(t, req); st != 200 || !strings.Contains(body, `"name":"hi"`) {
		t.Fatalf("list with key: %d %s", st, body)
	}
	req, _ = http.NewRequest("GET", admin+"/openapi.json", nil)
	if body, st := do(t, req); st != 200 || !strings.Contains(body, `"openapi"`) {
		t.Fatalf("openapi: %d", st)
	}

	node.stop(t)
	cmd := exec.Command(bin, "admin", "reset-password", "--password-stdin", "alice")
	cmd.Env = env
	cmd.Stdin = strings.NewReader("brand-new-pass\n")
	if out, err := cmd.CombinedOutput(); err != nil || !strings.Contains(string(out), `Password of "alice" reset`) {
		t.Fatalf("reset-password: %v\n%s", err, out)
	}
	node = startNode(t, bin, env, base)
	var bad struct{}
	if st := postJSON(t, admin+"/auth/login", "", map[string]string{"username": "alice", "password": "s3cret-pass"}, &bad); st != 401 {
		t.Fatalf("old password after reset: %d", st)
	}
	login(t, base, "alice", "brand-new-pass")
}

// eventually waits until GET url (Host localhost) answers want.
func eventually(t *testing.T, url, want string) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		body, st := get(t, url, "localhost")
		if st == 200 && body == want {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("GET %s = %d %q, want %q", url, st, body, want)
		}
		time.Sleep(50 * time.Millisecond)
	}
}
