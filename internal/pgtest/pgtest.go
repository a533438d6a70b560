// Package pgtest gives each test a real, brand-new PostgreSQL database.
// Databases live on the server named by PICLOUD_TEST_DATABASE_URL when set,
// otherwise on one throwaway pgserver per test binary, started on first use.
// It uses the PostgreSQL client programs (createdb, dropdb), not a driver,
// so any package's tests may import it; non-test code must not.
package pgtest

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/picloud/picloud/internal/pgserver"
)

// EnvURL names the variable holding the URL of an existing server to
// create test databases on (its user must be allowed to CREATE DATABASE).
const EnvURL = "PICLOUD_TEST_DATABASE_URL"

// shared is the per-test-binary server. Package-level state is deliberate
// here: a test helper has no wiring root, and one server per process is
// what keeps tests fast. Only DSN and Main touch it.
var shared struct {
	once   sync.Once
	err    error
	srv    *pgserver.Server // nil when EnvURL is used
	dir    string           // temp dir holding the data directory
	base   *url.URL         // maintenance database URL
	binDir string           // where createdb and dropdb live
}

// seq makes database names unique within the process.
var seq atomic.Uint64

// DSN returns a libpq/pgx connection URL for a new, empty database owned
// by this test, dropped (with its connections) when the test ends.
func DSN(t testing.TB) string {
	t.Helper()
	shared.once.Do(setup)
	if shared.err != nil {
		t.Fatalf("pgtest: %v", shared.err)
	}
	name := dbName(t.Name(), os.Getpid(), seq.Add(1))
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if err := run(ctx, "createdb", "--maintenance-db="+shared.base.String(), "--", name); err != nil {
		t.Fatalf("pgtest: creating database %s: %v", name, err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		if err := run(ctx, "dropdb", "--maintenance-db="+shared.base.String(), "--force", "--if-exists", "--", name); err != nil {
			t.Errorf("pgtest: dropping database %s: %v", name, err)
		}
	})
	u := *shared.base
	u.Path = "/" + name
	u.RawPath = ""
	return u.String()
}

// Main runs the tests and then stops the throwaway server, if one was
// started. Use it from TestMain: os.Exit(pgtest.Main(m)).
func Main(m *testing.M) int {
	code := m.Run()
	if shared.srv != nil {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		if err := shared.srv.Stop(ctx); err != nil {
			fmt.Fprintf(os.Stderr, "pgtest: stopping postgres: %v\n", err)
		}
	}
	if shared.dir != "" {
		os.RemoveAll(shared.dir)
	}
	return code
}

// setup decides where databases go, starting a server when needed.
func setup() {
	if raw := os.Getenv(EnvURL); raw != "" {
		u, err := url.Parse(raw)
		if err != nil || (u.Scheme != "postgres" && u.Scheme != "postgresql") {
			shared.err = fmt.Errorf("%s must be a postgres:// URL", EnvURL)
			return
		}
		shared.base = u
		shared.binDir, shared.err = clientBinDir()
		return
	}
	binDir, err := pgserver.FindBinDir()
	if err != nil {
		shared.err = err
		return
	}
	dir, err := os.MkdirTemp("", "picloud-pgtest-")
	if err != nil {
		shared.err = fmt.Errorf("creating temp dir: %w", err)
		return
	}
	shared.dir = dir
	// As root, postgres runs as an unprivileged user that must be able to
	// enter this directory; the data directory inside stays 0700.
	if err := os.Chmod(dir, 0o711); err != nil {
		shared.err = fmt.Errorf("opening temp dir to the postgres user: %w", err)
		return
	}
	srv, err := pgserver.New(pgserver.Config{
		DataDir:  filepath.Join(dir, "data"),
		BinDir:   binDir,
		Database: "postgres",
		// Tests trade durability for speed; the data is thrown away.
		Settings: map[string]string{"fsync": "off", "synchronous_commit": "off", "full_page_writes": "off"},
	})
	if err != nil {
		shared.err = err
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	if err := srv.Start(ctx); err != nil {
		shared.err = fmt.Errorf("starting throwaway postgres: %w", err)
		return
	}
	shared.srv = srv
	shared.binDir = binDir
	shared.base, shared.err = url.Parse(srv.ConnStringFor("postgres"))
}

// clientBinDir finds createdb: in PATH (the client package suffices for an
// external server), else next to the server binaries.
func clientBinDir() (string, error) {
	if p, err := exec.LookPath("createdb"); err == nil {
		return filepath.Dir(p), nil
	}
	dir, err := pgserver.FindBinDir()
	if err != nil {
		return "", fmt.Errorf("createdb not found in PATH (Debian: apt-get install postgresql-client): %w", err)
	}
	return dir, nil
}

func run(ctx context.Context, tool string, args ...string) error {
	cmd := exec.CommandContext(ctx, filepath.Join(shared.binDir, tool), args...)
	cmd.Env = withoutPGEnv()
	out, err := cmd.CombinedOutput()
	if err != nil {
		var ee *exec.ExitError
		if errors.As(err, &ee) {
			return fmt.Errorf("%s: %w: %s", tool, err, strings.TrimSpace(string(out)))
		}
		return fmt.Errorf("%s: %w", tool, err)
	}
	return nil
}

// withoutPGEnv drops PG* variables so only the URL decides the target.
func withoutPGEnv() []string {
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "PG") {
			env = append(env, kv)
		}
	}
	return env
}

// dbName builds a valid, unique, recognisable database name (at most 63
// bytes) from the test name.
func dbName(testName string, pid int, n uint64) string {
	var b strings.Builder
	for _, r := range strings.ToLower(testName) {
		switch {
		case r >= 'a' && r <= 'z', r >= '0' && r <= '9':
			b.WriteRune(r)
		default:
			b.WriteByte('_')
		}
		if b.Len() >= 32 {
			break
		}
	}
	return fmt.Sprintf("t_%s_%d_%d", b.String(), pid, n)
}
