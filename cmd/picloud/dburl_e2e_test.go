package main

import (
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/picloud/picloud/internal/pgtest"

	"github.com/picloud/picloud/internal/testnet"
)

// TestDevWithDatabaseURL runs `picloud dev` with DATABASE_URL set: the
// node migrates and uses that database and starts no PostgreSQL of its
// own. A second start from another, empty data directory finds the
// deployed script, so the data lives in that database and nowhere else.
func TestDevWithDatabaseURL(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the real binary")
	}
	bin := buildPicloud(t)
	dsn := pgtest.DSN(t)
	base := "http://" + testnet.FreeAddr(t)
	envFor := func(dataDir string) []string {
		return append(os.Environ(),
			"PICLOUD_BIND="+strings.TrimPrefix(base, "http://"),
			"PICLOUD_DATA_DIR="+dataDir,
			"PICLOUD_ADMIN_USER=alice",
			"PICLOUD_ADMIN_PASSWORD=s3cret-pass",
			"DATABASE_URL="+dsn,
		)
	}
	first := filepath.Join(nodeDataDir(t, "picloud-dburl-"), "picloud")
	node := startNode(t, bin, envFor(first), base)
	if body, status := get(t, base+"/", "localhost"); status != 200 || !strings.Contains(body, "Hello from PiCloud") {
		t.Fatalf("/ = %d %q, want the Hello World seed", status, body)
	}
	token := login(t, base, "alice", "s3cret-pass")
	var d struct{ ID string }
	if status := postJSON(t, base+"/api/v1/admin/scripts", token, map[string]any{"app": "default", "name": "kept",
		"source": "export default { fetch() { return new Response('kept') } }"}, &d); status != http.StatusCreated {
		t.Fatalf("deploy = %d", status)
	}
	node.stop(t)
	if strings.Contains(node.stderr(), "postgres ready") {
		t.Error("a managed postgres was started although DATABASE_URL is set")
	}
	if _, err := os.Stat(filepath.Join(first, "postgres")); !os.IsNotExist(err) {
		t.Errorf("a postgres data directory was created under PICLOUD_DATA_DIR: %v", err)
	}

	second := filepath.Join(nodeDataDir(t, "picloud-dburl-"), "picloud")
	node = startNode(t, bin, envFor(second), base)
	defer node.stop(t)
	if strings.Contains(node.stdout(), "Created the first admin") {
		t.Errorf("second start bootstrapped an admin again:\n%s", node.stdout())
	}
	if body, status := get(t, base+"/api/v1/execute/"+d.ID, ""); status != 200 || body != "kept" {
		t.Fatalf("script deployed by the first node = %d %q", status, body)
	}
	if _, err := os.Stat(filepath.Join(second, "postgres")); !os.IsNotExist(err) {
		t.Errorf("a postgres data directory was created under PICLOUD_DATA_DIR: %v", err)
	}
}
