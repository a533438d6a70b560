package pgserver

import (
	"context"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

func requireRoot(t *testing.T) {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("needs root: exercises the RunAs path")
	}
}

func TestRootDataDirOwnedByRunAs(t *testing.T) {
	requireRoot(t)
	dataDir := filepath.Join(testDir(t), "data")
	s := newServer(t, Config{DataDir: dataDir})
	start(t, s)
	fi, err := os.Stat(dataDir)
	if err != nil {
		t.Fatal(err)
	}
	if !ownedBy(fi, s.runAs) {
		t.Errorf("data dir not owned by %s", s.runAs.name)
	}
	if got := psql(t, s, s.ConnString(), "SELECT usename FROM pg_user WHERE usesuper ORDER BY 1 LIMIT 1"); got != Superuser {
		t.Errorf("superuser %q, want %s", got, Superuser)
	}
	// The postmaster runs as the RunAs user, not root.
	status, err := os.ReadFile("/proc/" + itoa(pidOf(t, s)) + "/status")
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range strings.Split(string(status), "\n") {
		if strings.HasPrefix(line, "Uid:") {
			if fields := strings.Fields(line); len(fields) < 2 || fields[1] != itoa(int(s.runAs.uid)) {
				t.Errorf("postmaster %s, want uid %d", line, s.runAs.uid)
			}
		}
	}
}

func TestRootUntraversableParent(t *testing.T) {
	requireRoot(t)
	locked := filepath.Join(testDir(t), "locked")
	if err := os.Mkdir(locked, 0o700); err != nil { // like /root
		t.Fatal(err)
	}
	s := newServer(t, Config{DataDir: filepath.Join(locked, "picloud", "data")})
	err := s.Start(context.Background())
	if err == nil {
		t.Fatal("Start succeeded under a directory postgres cannot enter")
	}
	for _, want := range []string{"cannot enter " + locked, "postgres", "chmod o+x"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not mention %q", err, want)
		}
	}
}

func TestRootUnknownRunAs(t *testing.T) {
	requireRoot(t)
	_, err := New(Config{DataDir: t.TempDir(), RunAs: "no-such-user-picloud"})
	if err == nil || !strings.Contains(err.Error(), `"no-such-user-picloud" does not exist`) {
		t.Fatalf("New with a missing RunAs user: %v", err)
	}
}

// TestNonRoot runs TestStartStopRestartKeepsData again as the unprivileged
// postgres user, covering the path of a developer's laptop.
func TestNonRoot(t *testing.T) {
	requireRoot(t)
	if testing.Short() {
		t.Skip("re-runs a slow test")
	}
	acct, err := lookupAccount(DefaultRunAs)
	if err != nil {
		t.Skip(err)
	}
	dir := testDir(t)
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	bin := filepath.Join(dir, "pgserver.test")
	copyFile(t, exe, bin)
	tmp := filepath.Join(dir, "tmp")
	if err := os.Mkdir(tmp, 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.Chown(tmp, int(acct.uid), int(acct.gid)); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(bin, "-test.run", "^TestStartStopRestartKeepsData$", "-test.v", "-test.count=1")
	cmd.Dir = tmp
	cmd.Env = append(toolEnv(), "TMPDIR="+tmp, "HOME="+tmp)
	cmd.SysProcAttr = toolAttr(acct)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("as %s: %v\n%s", acct.name, err, out)
	}
	if !strings.Contains(string(out), "running as uid "+itoa(int(acct.uid))) || !strings.Contains(string(out), "--- PASS: TestStartStopRestartKeepsData") {
		t.Fatalf("child did not run the test as uid %d:\n%s", acct.uid, out)
	}
}

func copyFile(t *testing.T, from, to string) {
	t.Helper()
	src, err := os.Open(from)
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	dst, err := os.OpenFile(to, os.O_CREATE|os.O_WRONLY, 0o755)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := io.Copy(dst, src); err != nil {
		t.Fatal(err)
	}
	if err := dst.Close(); err != nil {
		t.Fatal(err)
	}
}
