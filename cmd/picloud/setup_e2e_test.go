package main

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/picloud/picloud/internal/testnet"
)

// TestFirstRunSetup runs `picloud agent` without PICLOUD_ADMIN_PASSWORD on
// a fresh data directory: it logs a setup token and writes it to a 0600
// file; the token creates the owner once and never again, and the file is
// gone after the next start.
func TestFirstRunSetup(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the real binary")
	}
	bin := buildPicloud(t)
	dataDir := filepath.Join(nodeDataDir(t, "picloud-setup-"), "picloud")
	base := "http://" + testnet.FreeAddr(t)
	env := append(os.Environ(),
		"PICLOUD_BIND="+strings.TrimPrefix(base, "http://"),
		"PICLOUD_HTTPS_BIND=off",
		"PICLOUD_DATA_DIR="+dataDir,
		"PICLOUD_ADMIN_PASSWORD=",
		"DATABASE_URL=",
	)
	node := startNodeMode(t, bin, "agent", env, base)
	defer node.stop(t)

	m := regexp.MustCompile(`setup_token=([a-z2-7]{26})`).FindStringSubmatch(node.stderr())
	if m == nil {
		t.Fatalf("the log names no setup token:\n%s", lastLines(node.stderr(), 30))
	}
	tok := m[1]
	file := filepath.Join(dataDir, "setup-token")
	st, err := os.Stat(file)
	if err != nil {
		t.Fatal(err)
	}
	if st.Mode().Perm() != 0o600 {
		t.Errorf("%s has mode %v, want 0600", file, st.Mode().Perm())
	}
	if b, _ := os.ReadFile(file); strings.TrimSpace(string(b)) != tok {
		t.Errorf("%s holds %q, the log says %q", file, b, tok)
	}
	if !strings.Contains(node.stdout(), tok) {
		t.Errorf("the start-up output does not show the token:\n%s", node.stdout())
	}

	api := base + "/api/v1/admin"
	if body, status := get(t, api+"/setup", ""); status != 200 || !strings.Contains(body, `"needed":true`) {
		t.Fatalf("GET /setup = %d %s", status, body)
	}
	var fail struct {
		Error struct{ Code string } `json:"error"`
	}
	if st := postJSON(t, api+"/setup", "", map[string]string{"token": "wrong", "username": "olivia", "password": "first-owner-pw"}, &fail); st != 403 || fail.Error.Code != "bad_setup_token" {
		t.Fatalf("wrong token: %d %s", st, fail.Error.Code)
	}
	var s struct {
		Token string `json:"token"`
	}
	if st := postJSON(t, api+"/setup", "", map[string]string{"token": tok, "username": "olivia", "password": "first-owner-pw"}, &s); st != 201 || s.Token == "" {
		t.Fatalf("setup: %d", st)
	}
	if st := postJSON(t, api+"/setup", "", map[string]string{"token": tok, "username": "mallory", "password": "second-owner-pw"}, &fail); st != 409 || fail.Error.Code != "setup_done" {
		t.Fatalf("second use: %d %s", st, fail.Error.Code)
	}
	login(t, base, "olivia", "first-owner-pw")
	if body, _ := get(t, api+"/setup", ""); !strings.Contains(body, `"needed":false`) {
		t.Fatalf("GET /setup after setup: %s", body)
	}

	// The next start finds an owner: no token, and the file is removed.
	node.stop(t)
	node = startNodeMode(t, bin, "agent", env, base)
	if strings.Contains(node.stderr(), "setup_token=") {
		t.Error("a node with an owner logged a setup token")
	}
	if _, err := os.Stat(file); !os.IsNotExist(err) {
		t.Errorf("%s still exists after setup: %v", file, err)
	}
	login(t, base, "olivia", "first-owner-pw")
}
