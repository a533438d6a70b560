package pgserver

import (
	"context"
	"errors"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

// testDir returns a fresh directory the postgres user can enter when the
// test runs as root (t.TempDir is 0700).
func testDir(t *testing.T) string {
	t.Helper()
	dir, err := os.MkdirTemp("", "pgserver-test-")
	if err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(dir, 0o711); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	return dir
}

// testLogger sends server output to the test log, visible with -v or on failure.
func testLogger(t *testing.T) *slog.Logger {
	return slog.New(slog.NewTextHandler(tWriter{t}, &slog.HandlerOptions{Level: slog.LevelDebug}))
}

type tWriter struct{ t *testing.T }

func (w tWriter) Write(p []byte) (int, error) {
	w.t.Log(strings.TrimRight(string(p), "\n"))
	return len(p), nil
}

func newServer(t *testing.T, cfg Config) *Server {
	t.Helper()
	if cfg.Logger == nil {
		cfg.Logger = testLogger(t)
	}
	s, err := New(cfg)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	return s
}

func start(t *testing.T, s *Server) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	t0 := time.Now()
	if err := s.Start(ctx); err != nil {
		t.Fatalf("Start: %v", err)
	}
	t.Logf("started in %v", time.Since(t0).Round(time.Millisecond))
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		s.Stop(ctx)
	})
}

func stop(t *testing.T, s *Server) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := s.Stop(ctx); err != nil {
		t.Fatalf("Stop: %v", err)
	}
}

// psql runs sql on dsn and returns the trimmed output.
func psql(t *testing.T, s *Server, dsn, sql string) string {
	t.Helper()
	cmd := exec.Command(filepath.Join(s.binDir, "psql"), "-X", "-q", "-A", "-t", "-v", "ON_ERROR_STOP=1", "-d", dsn, "-c", sql)
	cmd.Env = toolEnv()
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("psql %q: %v: %s", sql, err, out)
	}
	return strings.TrimSpace(string(out))
}

func pidOf(t *testing.T, s *Server) int {
	t.Helper()
	r := s.current()
	if r == nil {
		t.Fatal("no process")
	}
	return r.cmd.Process.Pid
}

func processGone(pid int) bool {
	p, err := os.FindProcess(pid)
	if err != nil {
		return true
	}
	return p.Signal(sigZero) != nil
}

func waitClosed(t *testing.T, c <-chan struct{}, what string) {
	t.Helper()
	select {
	case <-c:
	case <-time.After(30 * time.Second):
		t.Fatalf("%s: timed out", what)
	}
}

func TestStartStopRestartKeepsData(t *testing.T) {
	t.Logf("running as uid %d", os.Geteuid())
	dataDir := filepath.Join(testDir(t), "data")
	s := newServer(t, Config{DataDir: dataDir, Database: "app"})
	select {
	case <-s.Done():
	default:
		t.Fatal("Done of a server never started should be closed")
	}
	start(t, s)
	select {
	case <-s.Done():
		t.Fatal("Done closed while running")
	default:
	}

	fi, err := os.Stat(dataDir)
	if err != nil {
		t.Fatal(err)
	}
	if perm := fi.Mode().Perm(); perm != 0o700 {
		t.Errorf("data dir mode %04o, want 0700", perm)
	}
	if got := psql(t, s, s.ConnString(), "SELECT current_database()"); got != "app" {
		t.Errorf("ConnString connects to %q, want app", got)
	}
	if got := psql(t, s, s.ConnString(), "SELECT current_user"); got != Superuser {
		t.Errorf("connected as %q, want %s", got, Superuser)
	}
	if got := psql(t, s, s.ConnString(), "SHOW server_encoding"); got != "UTF8" {
		t.Errorf("server_encoding %q, want UTF8", got)
	}
	if got := psql(t, s, s.ConnString(), "SHOW listen_addresses"); got != "" {
		t.Errorf("listen_addresses %q, want empty (no TCP)", got)
	}
	if got := psql(t, s, s.ConnString(), "SHOW max_connections"); got != "50" {
		t.Errorf("max_connections %q, want the default 50", got)
	}
	psql(t, s, s.ConnString(), "CREATE TABLE kept (v text); INSERT INTO kept VALUES ('hello')")

	// A second server on the same directory must not start over it.
	other := newServer(t, Config{DataDir: dataDir})
	if err := other.Start(context.Background()); !errors.Is(err, ErrAlreadyRunning) {
		t.Fatalf("second Start on a live data dir: %v, want ErrAlreadyRunning", err)
	}
	if err := s.Start(context.Background()); !errors.Is(err, ErrAlreadyRunning) {
		t.Fatalf("Start while running: %v, want ErrAlreadyRunning", err)
	}

	pid := pidOf(t, s)
	done := s.Done()
	stop(t, s)
	waitClosed(t, done, "Done after Stop")
	if !processGone(pid) {
		t.Fatalf("postgres pid %d still alive after Stop", pid)
	}
	if err := s.Err(); err != nil {
		t.Errorf("Err after clean stop: %v", err)
	}
	if _, err := os.Stat(filepath.Join(dataDir, "postmaster.pid")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("postmaster.pid left after Stop: %v", err)
	}
	if err := s.Stop(context.Background()); err != nil {
		t.Errorf("second Stop: %v", err)
	}

	// A new Server (as after a reboot) reuses the data without initdb.
	s2 := newServer(t, Config{DataDir: dataDir, Database: "app"})
	start(t, s2)
	if got := psql(t, s2, s2.ConnString(), "SELECT v FROM kept"); got != "hello" {
		t.Fatalf("after restart read %q, want hello", got)
	}
	// The same Server can be started again after Stop.
	stop(t, s2)
	start(t, s2)
	if got := psql(t, s2, s2.ConnString(), "SELECT count(*) FROM kept"); got != "1" {
		t.Fatalf("after second restart count %q, want 1", got)
	}
}

func TestCrashThenStalePidFile(t *testing.T) {
	dataDir := filepath.Join(testDir(t), "data")
	s := newServer(t, Config{DataDir: dataDir})
	start(t, s)
	psql(t, s, s.ConnString(), "CREATE TABLE t (v int); INSERT INTO t VALUES (42)")

	// Crash: kill the postmaster and its backends without warning.
	pid := pidOf(t, s)
	done := s.Done()
	killGroup(s.current().cmd.Process)
	waitClosed(t, done, "Done after crash")
	if s.Err() == nil {
		t.Error("Err is nil after the process was killed")
	}
	pidFile := filepath.Join(dataDir, "postmaster.pid")
	b, err := os.ReadFile(pidFile)
	if err != nil {
		t.Fatalf("expected a stale postmaster.pid after the crash: %v", err)
	}
	// Simulate pid reuse: the file names a live process that is not
	// postgres, owned by the server's user (postgres treats pids it may not
	// signal as dead). postgres alone would refuse to start.
	sleeper := exec.Command("sleep", "60")
	sleeper.SysProcAttr = toolAttr(s.runAs)
	if err := sleeper.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { sleeper.Process.Kill(); sleeper.Wait() }()
	_, rest, _ := strings.Cut(string(b), "\n")
	forged := strconv.Itoa(sleeper.Process.Pid) + "\n" + rest
	if err := os.WriteFile(pidFile, []byte(forged), 0o600); err != nil {
		t.Fatal(err)
	}
	if !processGone(pid) {
		t.Fatalf("postmaster %d survived SIGKILL", pid)
	}

	start(t, s)
	if got := psql(t, s, s.ConnString(), "SELECT v FROM t"); got != "42" {
		t.Fatalf("after crash recovery read %q, want 42", got)
	}
}

func TestStopForcedWhenContextEnds(t *testing.T) {
	s := newServer(t, Config{DataDir: filepath.Join(testDir(t), "data")})
	start(t, s)
	pid := pidOf(t, s)
	ctx, cancel := context.WithCancel(context.Background())
	cancel() // no time for a fast shutdown: SIGQUIT at once
	if err := s.Stop(ctx); !errors.Is(err, context.Canceled) {
		t.Errorf("Stop with an ended ctx: %v, want context.Canceled", err)
	}
	waitClosed(t, s.Done(), "Done after forced stop")
	if !processGone(pid) {
		t.Fatalf("postgres pid %d alive after forced Stop", pid)
	}
	// Immediate shutdown leaves crash recovery to the next start.
	start(t, s)
}

func TestLongDataDirUsesPrivateSocketDir(t *testing.T) {
	long := filepath.Join(testDir(t), strings.Repeat("d", 60), strings.Repeat("e", 60))
	if err := os.MkdirAll(long, 0o755); err != nil {
		t.Fatal(err)
	}
	s := newServer(t, Config{DataDir: filepath.Join(long, "data")})
	if s.SocketDir() != "" {
		t.Fatalf("SocketDir before Start = %q, want empty for a long path", s.SocketDir())
	}
	start(t, s)
	sock := s.SocketDir()
	if strings.HasPrefix(sock, long) {
		t.Fatalf("socket dir %s is under the long data dir", sock)
	}
	fi, err := os.Stat(sock)
	if err != nil {
		t.Fatal(err)
	}
	if perm := fi.Mode().Perm(); perm != 0o700 {
		t.Errorf("socket dir mode %04o, want 0700", perm)
	}
	if got := psql(t, s, s.ConnString(), "SELECT 1"); got != "1" {
		t.Fatalf("query over the private socket: %q", got)
	}
	stop(t, s)
	if _, err := os.Stat(sock); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("private socket dir %s left after Stop: %v", sock, err)
	}
}

func TestCreateDatabase(t *testing.T) {
	s := newServer(t, Config{DataDir: filepath.Join(testDir(t), "data")})
	start(t, s)
	ctx := context.Background()
	if err := s.CreateDatabase(ctx, "second"); err != nil {
		t.Fatal(err)
	}
	if got := psql(t, s, s.ConnStringFor("second"), "SELECT current_database()"); got != "second" {
		t.Errorf("ConnStringFor(second) connects to %q", got)
	}
	if err := s.CreateDatabase(ctx, "second"); err == nil {
		t.Error("creating an existing database succeeded")
	}
	if err := s.CreateDatabase(ctx, ""); err == nil {
		t.Error("creating a database with an empty name succeeded")
	}
	if got := psql(t, s, s.ConnStringFor("postgres"), "SELECT datname FROM pg_database WHERE datname = 'picloud'"); got != "picloud" {
		t.Errorf("default database picloud not created: %q", got)
	}
}

func TestSettingsOverrideDefaults(t *testing.T) {
	s := newServer(t, Config{
		DataDir:  filepath.Join(testDir(t), "data"),
		Settings: map[string]string{"max_connections": "20", "application_name": "it's ok"},
	})
	start(t, s)
	if got := psql(t, s, s.ConnString(), "SHOW max_connections"); got != "20" {
		t.Errorf("max_connections %q, want 20", got)
	}
	if got := psql(t, s, s.ConnString(), "SHOW wal_compression"); got == "off" { // PG15 reports "on" as pglz
		t.Errorf("wal_compression %q, want the default (on)", got)
	}
	if got := psql(t, s, s.ConnString(), "SHOW fsync"); got != "on" {
		t.Errorf("fsync %q, want on", got)
	}
}

func TestDataDirNotACluster(t *testing.T) {
	dataDir := filepath.Join(testDir(t), "data")
	if err := os.MkdirAll(dataDir, 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dataDir, "precious.txt"), []byte("x"), 0o600); err != nil {
		t.Fatal(err)
	}
	s := newServer(t, Config{DataDir: dataDir})
	err := s.Start(context.Background())
	if err == nil || !strings.Contains(err.Error(), "not empty") {
		t.Fatalf("Start on a non-empty non-cluster dir: %v", err)
	}
	if _, err := os.Stat(filepath.Join(dataDir, "precious.txt")); err != nil {
		t.Fatalf("existing file touched: %v", err)
	}
}

func TestNotInstalled(t *testing.T) {
	_, err := New(Config{DataDir: t.TempDir(), BinDir: filepath.Join(t.TempDir(), "nowhere")})
	if !errors.Is(err, ErrNotInstalled) {
		t.Fatalf("New with a wrong BinDir: %v, want ErrNotInstalled", err)
	}
	if !strings.Contains(err.Error(), "apt-get install postgresql") {
		t.Errorf("error does not say what to install: %v", err)
	}
	if !strings.Contains(err.Error(), "nowhere") {
		t.Errorf("error does not say where it looked: %v", err)
	}
}

func TestNewValidates(t *testing.T) {
	bin, err := FindBinDir()
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		cfg  Config
		want string
	}{
		{"no data dir", Config{BinDir: bin}, "data directory is required"},
		{"bad setting name", Config{DataDir: "/x", BinDir: bin, Settings: map[string]string{"a b": "1"}}, "invalid postgres setting"},
		{"socket dir managed", Config{DataDir: "/x", BinDir: bin, Settings: map[string]string{"unix_socket_directories": "/tmp"}}, "managed by picloud"},
		{"bad port", Config{DataDir: "/x", BinDir: bin, Settings: map[string]string{"port": "http"}}, "invalid postgres port"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := New(tt.cfg)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("New: %v, want error containing %q", err, tt.want)
			}
		})
	}
}

func TestFindBinDir(t *testing.T) {
	mkBin := func(t *testing.T, dir string, names ...string) {
		t.Helper()
		if err := os.MkdirAll(dir, 0o755); err != nil {
			t.Fatal(err)
		}
		for _, n := range names {
			if err := os.WriteFile(filepath.Join(dir, n), []byte("#!/bin/sh\n"), 0o755); err != nil {
				t.Fatal(err)
			}
		}
	}
	root := t.TempDir()
	mkBin(t, filepath.Join(root, "13", "bin"), requiredBinaries...)
	mkBin(t, filepath.Join(root, "15", "bin"), requiredBinaries...)
	mkBin(t, filepath.Join(root, "16", "bin"), "psql") // client only: no postgres
	mkBin(t, filepath.Join(root, "notaversion", "bin"), requiredBinaries...)
	pathDir := filepath.Join(t.TempDir(), "usr", "bin")
	mkBin(t, pathDir, requiredBinaries...)
	inPath := func(string) (string, error) { return filepath.Join(pathDir, "postgres"), nil }
	notInPath := func(string) (string, error) { return "", exec.ErrNotFound }
	empty := t.TempDir()

	tests := []struct {
		name     string
		env      string
		root     string
		lookPath func(string) (string, error)
		want     string
		wantErr  string
	}{
		{"env wins", pathDir, root, notInPath, pathDir, ""},
		{"env missing binaries", empty, root, inPath, "", "PICLOUD_PG_BINDIR"},
		{"highest debian version with postgres", "", root, inPath, filepath.Join(root, "15", "bin"), ""},
		{"path fallback", "", empty, inPath, pathDir, ""},
		{"nothing", "", empty, notInPath, "", "apt-get install postgresql"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := findBinDir(tt.env, tt.root, tt.lookPath)
			if tt.wantErr != "" {
				if !errors.Is(err, ErrNotInstalled) || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want ErrNotInstalled containing %q", err, tt.wantErr)
				}
				return
			}
			if err != nil || got != tt.want {
				t.Fatalf("findBinDir = %q, %v; want %q", got, err, tt.want)
			}
		})
	}
}

func TestRenderConf(t *testing.T) {
	tests := []struct {
		name  string
		extra map[string]string
		want  []string // lines that must appear
		not   []string // substrings that must not
	}{
		{"defaults", nil, []string{"listen_addresses = ''", "fsync = 'on'", "wal_compression = 'on'", "max_connections = '50'", "unix_socket_directories = '/s'"}, nil},
		{"override", map[string]string{"shared_buffers": "16MB"}, []string{"shared_buffers = '16MB'"}, []string{"shared_buffers = '64MB'"}},
		{"quote doubled", map[string]string{"application_name": "a'b"}, []string{"application_name = 'a''b'"}, nil},
		{"newline cannot add a setting", map[string]string{"application_name": "x'\nfsync = off"}, []string{"fsync = 'on'"}, []string{"\nfsync = off"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := renderConf(tt.extra, "/s")
			if err != nil {
				t.Fatal(err)
			}
			for _, w := range tt.want {
				if !strings.Contains(got, "\n"+w+"\n") {
					t.Errorf("missing line %q in:\n%s", w, got)
				}
			}
			for _, n := range tt.not {
				if strings.Contains(got, n) {
					t.Errorf("unexpected %q in:\n%s", n, got)
				}
			}
		})
	}
}

func TestLineLevel(t *testing.T) {
	tests := []struct {
		name, line string
		prev       slog.Level
		want       slog.Level
		msg        string
	}{
		{"log", "LOG:  database system is ready", slog.LevelError, slog.LevelInfo, "database system is ready"},
		{"warning", "WARNING:  something", slog.LevelInfo, slog.LevelWarn, "something"},
		{"fatal", "FATAL:  role x does not exist", slog.LevelInfo, slog.LevelError, "role x does not exist"},
		{"detail follows", "DETAIL:  more", slog.LevelError, slog.LevelError, "DETAIL:  more"},
		{"no prefix", "plain text", slog.LevelWarn, slog.LevelWarn, "plain text"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := lineLevel(tt.line, tt.prev); got != tt.want {
				t.Errorf("lineLevel = %v, want %v", got, tt.want)
			}
			if got := trimSeverity(tt.line); got != tt.msg {
				t.Errorf("trimSeverity = %q, want %q", got, tt.msg)
			}
		})
	}
}

func TestConnStringFor(t *testing.T) {
	s := &Server{port: "5432", socketDir: "/run/pg sock"}
	got := s.ConnStringFor("my db")
	want := "postgres://picloud@/my%20db?host=%2Frun%2Fpg+sock&sslmode=disable"
	if got != want {
		t.Errorf("ConnStringFor = %q, want %q", got, want)
	}
	s.port = "5433"
	if got := s.ConnStringFor("x"); !strings.Contains(got, "port=5433") {
		t.Errorf("non-default port missing: %q", got)
	}
}

// FuzzRenderConf checks that no setting value can add or change another
// setting: the rendered file has exactly one line per setting.
func FuzzRenderConf(f *testing.F) {
	f.Add("application_name", "x'\nfsync = off")
	f.Add("shared_buffers", `a\'b`)
	f.Add("work_mem", "8MB")
	f.Fuzz(func(t *testing.T, key, value string) {
		got, err := renderConf(map[string]string{key: value}, "/s")
		if err != nil {
			return // invalid names are rejected, which is fine
		}
		lines := strings.Split(strings.TrimSuffix(got, "\n"), "\n")
		settings := 0
		for _, l := range lines {
			if !strings.HasPrefix(l, "#") {
				settings++
			}
		}
		want := len(defaultSettings) + 1 // + unix_socket_directories
		if _, isDefault := defaultSettings[strings.ToLower(key)]; !isDefault {
			want++
		}
		if settings != want {
			t.Fatalf("%d setting lines, want %d:\n%s", settings, want, got)
		}
		if !strings.Contains(got, "\nunix_socket_directories = '/s'\n") {
			t.Fatalf("socket dir overridden:\n%s", got)
		}
		if strings.ToLower(key) != "fsync" && !strings.Contains(got, "\nfsync = 'on'\n") {
			t.Fatalf("fsync changed by %q=%q:\n%s", key, value, got)
		}
	})
}
