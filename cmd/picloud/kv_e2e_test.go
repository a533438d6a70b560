package main

import (
	"bytes"
	"encoding/json"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/picloud/picloud/internal/testnet"
)

// TestKVAndSecretsEndToEnd drives the real binary: a script deployed by the
// CLI with a kv and a secret binding sees a secret set by `picloud secret
// put` (from stdin) and a key written by `picloud kv put`; `picloud kv get` reads
// what the script wrote; the secret never shows in the CLI's listings nor
// in the node's output.
func TestKVAndSecretsEndToEnd(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the real binary")
	}
	bin := buildPicloud(t)
	dataDir := nodeDataDir(t, "picloud-kv-e2e-")
	base := "http://" + testnet.FreeAddr(t)
	env := append(os.Environ(),
		"PICLOUD_BIND="+strings.TrimPrefix(base, "http://"),
		"PICLOUD_DATA_DIR="+filepath.Join(dataDir, "picloud"),
		"PICLOUD_ADMIN_USER=alice",
		"PICLOUD_ADMIN_PASSWORD=s3cret-pass",
		"PICLOUD_SECRET_KEY=",
		"DATABASE_URL=",
	)
	node := startNode(t, bin, env, base)
	defer node.stop(t)
	token := login(t, base, "alice", "s3cret-pass")
	home := t.TempDir()
	cliEnv := append(os.Environ(), "PICLOUD_URL="+base, "PICLOUD_TOKEN="+token, "PICLOUD_APP=default",
		"HOME="+home, "XDG_CONFIG_HOME="+home)
	picloud := func(stdin string, args ...string) (string, int) {
		t.Helper()
		cmd := exec.Command(bin, args...)
		cmd.Env = cliEnv
		cmd.Stdin = strings.NewReader(stdin)
		var stderr strings.Builder
		cmd.Stderr = &stderr
		out, err := cmd.Output()
		code := 0
		if ee, ok := err.(*exec.ExitError); ok {
			code = ee.ExitCode()
		} else if err != nil {
			t.Fatalf("picloud %v: %v", args, err)
		}
		if code != 0 {
			t.Logf("picloud %v: exit %d: %s", args, code, stderr.String())
		}
		return string(out), code
	}

	const secret = "tok-6b1f-e2e-only"
	src := `export default { async fetch(req, env) {
		const u = new URL(req.url);
		if (u.searchParams.get("write")) {
			await env.STORE.put("from/script", "written by the script", { metadata: { by: "script" } });
			return new Response("wrote");
		}
		const greeting = await env.STORE.get("greeting");
		console.log("token length " + env.TOKEN.length);
		return new Response(greeting + "|" + env.TOKEN);
	} };`
	srcFile := filepath.Join(t.TempDir(), "kvdemo.js")
	if err := os.WriteFile(srcFile, []byte(src), 0o600); err != nil {
		t.Fatal(err)
	}
	bindings := `{"STORE": {"type": "kv", "namespace": "store"}, "TOKEN": {"type": "secret", "name": "API_TOKEN"}}`
	if out, code := picloud("", "deploy", srcFile, "--route", "GET /kvdemo", "--bindings", bindings); code != 0 {
		t.Fatalf("deploy: exit %d %q", code, out)
	}

	if out, code := picloud(secret+"\n", "secret", "put", "API_TOKEN"); code != 0 || strings.Contains(out, secret) {
		t.Fatalf("secret put: exit %d %q", code, out)
	}
	if out, code := picloud("", "kv", "put", "store", "greeting", "hello from the CLI", "--metadata", `{"v":1}`); code != 0 {
		t.Fatalf("kv put: exit %d %q", code, out)
	}
	eventually(t, base+"/kvdemo", "hello from the CLI|"+secret)

	if body, st := get(t, base+"/kvdemo?write=1", "localhost"); st != 200 || body != "wrote" {
		t.Fatalf("script write: %d %q", st, body)
	}
	if out, code := picloud("", "kv", "get", "store", "from/script"); code != 0 || out != "written by the script" {
		t.Errorf("kv get: exit %d %q", code, out)
	}
	var got struct {
		Value    string
		Metadata map[string]string
	}
	out, code := picloud("", "kv", "get", "store", "from/script", "--json")
	if err := json.Unmarshal([]byte(out), &got); code != 0 || err != nil || got.Metadata["by"] != "script" {
		t.Errorf("kv get --json: exit %d %q %v", code, out, err)
	}
	out, code = picloud("", "kv", "ls", "store")
	if code != 0 || !strings.Contains(out, "from/script") || !strings.Contains(out, "greeting") {
		t.Errorf("kv ls store: exit %d %q", code, out)
	}
	var nss []struct {
		Namespace string
		Keys      int
	}
	out, code = picloud("", "kv", "ls", "--json")
	if err := json.Unmarshal([]byte(out), &nss); code != 0 || err != nil || len(nss) != 1 || nss[0].Keys != 2 {
		t.Errorf("kv ls --json: exit %d %q %v", code, out, err)
	}
	if _, code := picloud("", "kv", "rm", "store", "greeting"); code != 0 {
		t.Errorf("kv rm: exit %d", code)
	}
	if _, code := picloud("", "kv", "get", "store", "greeting"); code != 4 {
		t.Errorf("kv get of a deleted key: exit %d, want 4", code)
	}
	if _, code := picloud("", "kv", "put", "store", ".", "x"); code != 5 {
		t.Errorf("kv put of an illegal key: exit %d, want 5", code)
	}
	// Bulk files in the shape `wrangler kv bulk` takes.
	bulk := `[{"key": "b/1", "value": "one"}, {"key": "b/2", "value": "AAE=", "base64": true, "expiration_ttl": 600}]`
	if out, code := picloud(bulk, "kv", "bulk", "put", "store", "-"); code != 0 || !strings.Contains(out, "Wrote 2 keys") {
		t.Errorf("kv bulk put: exit %d %q", code, out)
	}
	if out, code := picloud("", "kv", "get", "store", "b/2"); code != 0 || out != "\x00\x01" {
		t.Errorf("kv get of a base64 bulk value: exit %d %q", code, out)
	}
	if _, code := picloud(`[{"key": "b/3", "value": "x"}, {"key": "..", "value": "x"}]`, "kv", "bulk", "put", "store", "-"); code != 5 {
		t.Errorf("kv bulk put with an illegal key: exit %d, want 5", code)
	}
	if _, code := picloud("", "kv", "get", "store", "b/3"); code != 4 {
		t.Errorf("a refused bulk put wrote b/3: exit %d", code)
	}
	if out, code := picloud(`["b/1", {"key": "b/2"}]`, "kv", "bulk", "rm", "store", "-"); code != 0 || !strings.Contains(out, "Deleted 2 keys") {
		t.Errorf("kv bulk rm: exit %d %q", code, out)
	}
	if out, code := picloud("", "kv", "ls", "store", "--prefix", "b/"); code != 0 || strings.Contains(out, "b/") {
		t.Errorf("after kv bulk rm: exit %d %q", code, out)
	}
	out, code = picloud("", "secret", "ls")
	if code != 0 || !strings.Contains(out, "API_TOKEN") || strings.Contains(out, secret) {
		t.Errorf("secret ls: exit %d %q", code, out)
	}
	if _, code := picloud("", "secret", "put", "EMPTY"); code != 2 {
		t.Errorf("secret put with nothing on stdin: exit %d, want 2", code)
	}
	if _, code := picloud("", "secret", "rm", "API_TOKEN"); code != 0 {
		t.Errorf("secret rm: exit %d", code)
	}
	if strings.Contains(node.stdout(), secret) || strings.Contains(node.stderr(), secret) {
		t.Error("the secret appears in the node's output or log")
	}
	out, code = picloud("", "logs", "--json")
	if code != 0 || !strings.Contains(out, "token length 17") || strings.Contains(out, secret) {
		t.Errorf("picloud logs: exit %d, the script's line missing or the secret there: %s", code, out)
	}

	// After a clean stop every page and WAL record is on disk: no file of
	// the node, Postgres's included, holds the secret in clear text.
	node.stop(t)
	err := filepath.WalkDir(dataDir, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || !d.Type().IsRegular() {
			return err
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		if bytes.Contains(b, []byte(secret)) {
			t.Errorf("%s holds the secret in clear text", strings.TrimPrefix(path, dataDir))
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}
