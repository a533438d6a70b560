// Package pgserver owns the managed PostgreSQL instance: it finds the
// installed server binaries, initialises a data directory on first run,
// runs postgres as a supervised child process listening on a private unix
// socket only, and stops it. It talks to the server only through the
// PostgreSQL command-line tools (no driver), so any package may import it;
// node wires it for `picloud dev` and the agent, and pgtest for tests.
package pgserver

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Superuser is the PostgreSQL superuser initdb creates; local connections
// over the unix socket are trusted, so no password exists.
const Superuser = "picloud"

// DefaultDatabase is the database Start ensures when Config.Database is empty.
const DefaultDatabase = "picloud"

// DefaultRunAs is the OS user that runs postgres when picloud runs as root.
const DefaultRunAs = "postgres"

// ErrAlreadyRunning is returned by Start when this Server's process is
// running, or another live postgres holds the data directory.
var ErrAlreadyRunning = errors.New("postgres is already running")

// maxSocketPath is the usable length of a unix socket path (sun_path is 108
// bytes on Linux, 104 on macOS, including the terminating NUL).
const maxSocketPath = 103

// Config describes one managed instance. Only DataDir is required.
type Config struct {
	// DataDir is PGDATA; created (0700) if missing.
	DataDir string
	// BinDir holds initdb, postgres, pg_isready, createdb and psql;
	// FindBinDir() when empty.
	BinDir string
	// Database is created by Start if missing; DefaultDatabase when empty.
	Database string
	// Logger receives the server's output, one record per line, with
	// component=postgres. Discarded when nil.
	Logger *slog.Logger
	// RunAs is the unprivileged OS user that owns DataDir and runs the
	// server when this process is root (PostgreSQL refuses to run as root).
	// DefaultRunAs when empty. Ignored when not root.
	RunAs string
	// Settings are extra postgresql.conf settings; they override the
	// small-machine defaults. unix_socket_directories cannot be set.
	Settings map[string]string
}

// Server is one managed PostgreSQL instance. New has no side effects; Start
// and Stop may be called again after the process has exited.
type Server struct {
	cfg    Config
	log    *slog.Logger
	binDir string
	port   string
	runAs  *account // nil when not root: run as ourselves

	// lifecycle serialises Start and Stop; mu guards the fields below and
	// is only held briefly, so Done and ConnString never wait on a Start.
	lifecycle sync.Mutex
	mu        sync.Mutex
	run       *run
	socketDir string
	tmpSocket bool // socketDir is a private temp dir removed at exit
}

// run is one postgres process. err is written before done is closed.
type run struct {
	cmd  *exec.Cmd
	done chan struct{}
	err  error
}

// account is the OS identity the server processes run as.
type account struct {
	name   string
	uid    uint32
	gid    uint32
	groups []uint32
}

// New validates cfg and resolves the binaries and the RunAs user. It starts
// nothing and touches no files.
func New(cfg Config) (*Server, error) {
	if cfg.DataDir == "" {
		return nil, errors.New("pgserver: data directory is required")
	}
	dataDir, err := filepath.Abs(cfg.DataDir)
	if err != nil {
		return nil, fmt.Errorf("resolving data directory: %w", err)
	}
	cfg.DataDir = filepath.Clean(dataDir)
	if cfg.Database == "" {
		cfg.Database = DefaultDatabase
	}
	if cfg.RunAs == "" {
		cfg.RunAs = DefaultRunAs
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.BinDir == "" {
		if cfg.BinDir, err = FindBinDir(); err != nil {
			return nil, err
		}
	} else if err := checkBinDir(cfg.BinDir); err != nil {
		return nil, fmt.Errorf("%w (looked in %s: %v)", ErrNotInstalled, cfg.BinDir, err)
	}
	// Validate settings now so a typo fails before anything is touched.
	if _, err := renderConf(cfg.Settings, "/"); err != nil {
		return nil, err
	}
	s := &Server{
		cfg:    cfg,
		log:    cfg.Logger.With("component", "postgres"),
		binDir: cfg.BinDir,
		port:   "5432",
	}
	for k, v := range cfg.Settings {
		if strings.ToLower(k) == "port" {
			if _, err := strconv.ParseUint(v, 10, 16); err != nil {
				return nil, fmt.Errorf("invalid postgres port %q", v)
			}
			s.port = v
		}
	}
	if os.Geteuid() == 0 {
		if s.runAs, err = lookupAccount(cfg.RunAs); err != nil {
			return nil, err
		}
	}
	s.socketDir = s.preferredSocketDir()
	return s, nil
}

// lookupAccount resolves the RunAs user and refuses root itself.
func lookupAccount(name string) (*account, error) {
	u, err := user.Lookup(name)
	if err != nil {
		return nil, fmt.Errorf("running as root, postgres must run as an unprivileged user, and user %q does not exist (create it, e.g. by installing the postgresql package, or set RunAs): %w", name, err)
	}
	uid, err := strconv.ParseUint(u.Uid, 10, 32)
	if err != nil {
		return nil, fmt.Errorf("user %q has a non-numeric uid %q", name, u.Uid)
	}
	gid, err := strconv.ParseUint(u.Gid, 10, 32)
	if err != nil {
		return nil, fmt.Errorf("user %q has a non-numeric gid %q", name, u.Gid)
	}
	if uid == 0 {
		return nil, fmt.Errorf("RunAs user %q is root; postgres refuses to run as root", name)
	}
	a := &account{name: name, uid: uint32(uid), gid: uint32(gid)}
	if ids, err := u.GroupIds(); err == nil {
		for _, id := range ids {
			if g, err := strconv.ParseUint(id, 10, 32); err == nil {
				a.groups = append(a.groups, uint32(g))
			}
		}
	}
	return a, nil
}

// preferredSocketDir is the data directory itself (0700, owned by the
// server user) unless the socket path would be too long.
func (s *Server) preferredSocketDir() string {
	if len(s.socketPath(s.cfg.DataDir)) <= maxSocketPath {
		return s.cfg.DataDir
	}
	return ""
}

// socketPath is the longest path postgres creates in a socket dir.
func (s *Server) socketPath(dir string) string {
	return filepath.Join(dir, ".s.PGSQL."+s.port+".lock") // the lock file is the longest name
}

// DataDir returns the absolute data directory.
func (s *Server) DataDir() string { return s.cfg.DataDir }

// SocketDir returns the directory of the unix socket; it is known after
// Start when the data directory path is too long for a socket.
func (s *Server) SocketDir() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.socketDir
}

// ConnString returns a libpq URL (also understood by pgx) for
// Config.Database over the unix socket. Valid once Start has returned.
func (s *Server) ConnString() string { return s.ConnStringFor(s.cfg.Database) }

// ConnStringFor returns a libpq URL for database db over the unix socket.
func (s *Server) ConnStringFor(db string) string {
	q := url.Values{}
	q.Set("host", s.SocketDir())
	if s.port != "5432" {
		q.Set("port", s.port)
	}
	q.Set("sslmode", "disable")
	u := url.URL{
		Scheme:   "postgres",
		User:     url.User(Superuser),
		Host:     "",
		Path:     "/" + db,
		RawQuery: q.Encode(),
	}
	return u.String()
}

// Done returns a channel closed when the postgres process exits (or
// already closed when it is not running), so a supervisor notices a crash.
func (s *Server) Done() <-chan struct{} {
	r := s.current()
	if r == nil {
		c := make(chan struct{})
		close(c)
		return c
	}
	return r.done
}

// Err returns how the last postgres process ended: nil while it runs or
// after a clean shutdown, else the exit error.
func (s *Server) Err() error {
	r := s.current()
	if r == nil {
		return nil
	}
	select {
	case <-r.done:
		return r.err
	default:
		return nil
	}
}

func (s *Server) current() *run {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.run
}

// running reports whether a postgres process of ours is alive.
func (s *Server) running() bool {
	r := s.current()
	if r == nil {
		return false
	}
	select {
	case <-r.done:
		return false
	default:
		return true
	}
}

// Start initialises the data directory on first run, starts postgres as a
// child process, waits until it accepts connections and ensures
// Config.Database exists. A stale postmaster.pid from a crash is removed.
// Without a deadline on ctx, Start gives up after five minutes.
func (s *Server) Start(ctx context.Context) (err error) {
	s.lifecycle.Lock()
	defer s.lifecycle.Unlock()
	if s.running() {
		return ErrAlreadyRunning
	}
	if _, ok := ctx.Deadline(); !ok {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, 5*time.Minute)
		defer cancel()
	}
	if err := s.prepareDataDir(ctx); err != nil {
		return err
	}
	if err := s.prepareSocketDir(); err != nil {
		return err
	}
	if err := s.writeConf(); err != nil {
		return err
	}
	if err := s.clearStaleLocks(); err != nil {
		return err
	}
	lw := newLogWriter(s.log)
	if err := s.spawn(lw); err != nil {
		return err
	}
	defer func() {
		if err != nil {
			s.kill()
		}
	}()
	if err := s.waitReady(ctx, lw); err != nil {
		return err
	}
	exists, err := s.databaseExists(ctx, s.cfg.Database)
	if err != nil {
		return err
	}
	if !exists {
		if err := s.createDatabase(ctx, s.cfg.Database); err != nil {
			return err
		}
	}
	s.log.Info("postgres ready", "data_dir", s.cfg.DataDir, "socket_dir", s.socketDir, "database", s.cfg.Database)
	return nil
}

// prepareDataDir creates the parent directories, runs initdb when the data
// directory holds no cluster, and fixes ownership and mode.
func (s *Server) prepareDataDir(ctx context.Context) error {
	dir := s.cfg.DataDir
	parent := filepath.Dir(dir)
	if err := os.MkdirAll(parent, 0o755); err != nil {
		return fmt.Errorf("creating parent of data directory: %w", err)
	}
	if s.runAs != nil {
		if err := checkTraverse(parent, s.runAs); err != nil {
			return err
		}
	}
	if _, err := os.Stat(filepath.Join(dir, "PG_VERSION")); err == nil {
		return s.fixDataDirOwner()
	} else if !errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("checking data directory: %w", err)
	}
	return s.initdb(ctx)
}

// initdb initialises a cluster in a sibling directory and renames it into
// place, so a crash half-way never leaves a data directory that looks
// initialised but is not.
func (s *Server) initdb(ctx context.Context) error {
	dir := s.cfg.DataDir
	if entries, err := os.ReadDir(dir); err == nil && len(entries) > 0 {
		return fmt.Errorf("data directory %s is not empty and holds no PostgreSQL cluster (no PG_VERSION); move its contents away or pick another directory", dir)
	}
	tmp := dir + ".initdb"
	if err := os.RemoveAll(tmp); err != nil {
		return fmt.Errorf("removing leftover %s: %w", tmp, err)
	}
	if err := os.Mkdir(tmp, 0o700); err != nil {
		return fmt.Errorf("creating %s: %w", tmp, err)
	}
	defer os.RemoveAll(tmp)
	if err := s.chown(tmp); err != nil {
		return err
	}
	s.log.Info("initialising postgres data directory", "data_dir", dir, "run_as", s.runAsName())
	_, err := s.runTool(ctx, true, "initdb",
		"-D", tmp,
		"-U", Superuser,
		"--auth-local=trust",
		"--auth-host=reject",
		"--encoding=UTF8",
		"--locale=C",
	)
	if err != nil {
		return err
	}
	conf := filepath.Join(tmp, "postgresql.conf")
	f, err := os.OpenFile(conf, os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		return fmt.Errorf("opening postgresql.conf: %w", err)
	}
	_, err = f.WriteString("\n" + includeLine + "\n")
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("appending to postgresql.conf: %w", err)
	}
	if err := os.Remove(dir); err != nil && !errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("replacing empty data directory: %w", err)
	}
	if err := os.Rename(tmp, dir); err != nil {
		return fmt.Errorf("moving initialised cluster into place: %w", err)
	}
	return nil
}

// includeLine makes postgresql.conf read the file Start rewrites; it goes
// last so our settings win over initdb's.
const includeLine = "include_if_exists = '" + confFile + "'"

// fixDataDirOwner hands an existing data directory to the RunAs user (for
// example one created by an earlier non-root run) and tightens its mode,
// which postgres requires to be 0700 or 0750.
func (s *Server) fixDataDirOwner() error {
	dir := s.cfg.DataDir
	fi, err := os.Stat(dir)
	if err != nil {
		return fmt.Errorf("checking data directory: %w", err)
	}
	if s.runAs != nil && !ownedBy(fi, s.runAs) {
		s.log.Info("changing owner of data directory", "data_dir", dir, "user", s.runAs.name)
		if err := chownTree(dir, s.runAs); err != nil {
			return fmt.Errorf("changing owner of data directory to %s: %w", s.runAs.name, err)
		}
	}
	if fi.Mode().Perm()&^0o750 != 0 {
		if err := os.Chmod(dir, 0o700); err != nil {
			return fmt.Errorf("restricting data directory mode: %w", err)
		}
	}
	return nil
}

// prepareSocketDir falls back to a private temp dir when the data
// directory path is too long for a unix socket.
func (s *Server) prepareSocketDir() error {
	if pref := s.preferredSocketDir(); pref != "" {
		s.setSocketDir(pref, false)
		return nil
	}
	if s.runAs != nil {
		if err := checkTraverse(os.TempDir(), s.runAs); err != nil {
			return fmt.Errorf("private socket directory (data directory path too long for a socket): %w", err)
		}
	}
	dir, err := os.MkdirTemp("", "picloud-pg-")
	if err != nil {
		return fmt.Errorf("creating socket directory: %w", err)
	}
	if err := s.chown(dir); err != nil {
		os.Remove(dir)
		return err
	}
	if len(s.socketPath(dir)) > maxSocketPath {
		os.Remove(dir)
		return fmt.Errorf("no usable socket directory: %s and %s are too long for a unix socket; set TMPDIR to a short path", s.cfg.DataDir, dir)
	}
	s.log.Debug("data directory path too long for a unix socket, using a private socket directory", "socket_dir", dir)
	s.setSocketDir(dir, true)
	return nil
}

// setSocketDir records the socket directory; the fields are only written
// under lifecycle, so Start reads them without mu.
func (s *Server) setSocketDir(dir string, tmp bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.socketDir, s.tmpSocket = dir, tmp
}

// writeConf rewrites picloud.conf and makes sure postgresql.conf includes it.
func (s *Server) writeConf() error {
	body, err := renderConf(s.cfg.Settings, s.socketDir)
	if err != nil {
		return err
	}
	path := filepath.Join(s.cfg.DataDir, confFile)
	if err := os.WriteFile(path, []byte(body), 0o600); err != nil {
		return fmt.Errorf("writing %s: %w", confFile, err)
	}
	if err := s.chown(path); err != nil {
		return err
	}
	main := filepath.Join(s.cfg.DataDir, "postgresql.conf")
	b, err := os.ReadFile(main)
	if err != nil {
		return fmt.Errorf("reading postgresql.conf: %w", err)
	}
	if !bytes.Contains(b, []byte(includeLine)) {
		f, err := os.OpenFile(main, os.O_APPEND|os.O_WRONLY, 0)
		if err != nil {
			return fmt.Errorf("opening postgresql.conf: %w", err)
		}
		_, err = f.WriteString("\n" + includeLine + "\n")
		if cerr := f.Close(); err == nil {
			err = cerr
		}
		if err != nil {
			return fmt.Errorf("appending to postgresql.conf: %w", err)
		}
	}
	return nil
}

// clearStaleLocks removes postmaster.pid and the socket lock file when the
// process they name is gone or is not a postgres serving this data
// directory (a crash followed by pid reuse would otherwise block start).
func (s *Server) clearStaleLocks() error {
	for _, path := range []string{
		filepath.Join(s.cfg.DataDir, "postmaster.pid"),
		filepath.Join(s.socketDir, ".s.PGSQL."+s.port+".lock"),
	} {
		b, err := os.ReadFile(path)
		if errors.Is(err, os.ErrNotExist) {
			continue
		}
		if err != nil {
			return fmt.Errorf("reading %s: %w", path, err)
		}
		first, _, _ := strings.Cut(string(b), "\n")
		pid, _ := strconv.Atoi(strings.TrimSpace(first))
		if pid > 0 && isPostgresFor(pid, s.cfg.DataDir, s.serverUID()) {
			return fmt.Errorf("%w: pid %d holds %s", ErrAlreadyRunning, pid, path)
		}
		s.log.Warn("removing stale postgres lock file", "path", path, "pid", pid)
		if err := os.Remove(path); err != nil && !errors.Is(err, os.ErrNotExist) {
			return fmt.Errorf("removing stale %s: %w", path, err)
		}
	}
	return nil
}

// spawn starts the postmaster and the goroutine that reaps it.
func (s *Server) spawn(lw *logWriter) error {
	cmd := exec.Command(filepath.Join(s.binDir, "postgres"), "-D", s.cfg.DataDir)
	cmd.Dir = s.cfg.DataDir
	cmd.Env = toolEnv()
	cmd.Stdout = lw
	cmd.Stderr = lw
	cmd.SysProcAttr = daemonAttr(s.runAs)
	// Backends inherit the output pipe; do not wait on them forever once
	// the postmaster is gone.
	cmd.WaitDelay = 5 * time.Second
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("starting postgres: %w", err)
	}
	r := &run{cmd: cmd, done: make(chan struct{})}
	s.mu.Lock()
	s.run = r
	tmpSocket, socketDir := s.tmpSocket, s.socketDir
	s.mu.Unlock()
	s.log.Debug("postgres started", "pid", cmd.Process.Pid)
	go func() {
		r.err = cmd.Wait()
		lw.flush()
		if tmpSocket {
			os.RemoveAll(socketDir)
		}
		if r.err != nil {
			s.log.Warn("postgres exited", "err", r.err)
		} else {
			s.log.Info("postgres exited")
		}
		close(r.done)
	}()
	return nil
}

// waitReady waits until postmaster.pid says the server is ready (asking
// earlier makes postgres log a FATAL per attempt), then confirms with
// pg_isready. It gives up when the process exits or ctx ends.
func (s *Server) waitReady(ctx context.Context, lw *logWriter) error {
	done := s.current().done
	pidFile := filepath.Join(s.cfg.DataDir, "postmaster.pid")
	tick := time.NewTicker(50 * time.Millisecond)
	defer tick.Stop()
	for {
		if pmStatus(pidFile) != "" {
			cmd := exec.CommandContext(ctx, filepath.Join(s.binDir, "pg_isready"),
				"-q", "-h", s.socketDir, "-p", s.port, "-U", Superuser, "-d", "postgres", "-t", "2")
			cmd.Env = toolEnv()
			if err := cmd.Run(); err == nil {
				return nil
			}
		}
		select {
		case <-done:
			return fmt.Errorf("postgres exited during start-up: %s", lw.lastLines())
		case <-ctx.Done():
			return fmt.Errorf("waiting for postgres to accept connections: %w (last output: %s)", ctx.Err(), lw.lastLines())
		case <-tick.C:
		}
	}
}

// pmStatus returns "ready" or "standby" once postmaster.pid says the
// server accepts connections (line 8, written since PostgreSQL 10), else "".
func pmStatus(pidFile string) string {
	b, err := os.ReadFile(pidFile)
	if err != nil {
		return ""
	}
	lines := strings.Split(string(b), "\n")
	if len(lines) < 8 {
		return ""
	}
	switch st := strings.TrimSpace(lines[7]); st {
	case "ready", "standby":
		return st
	}
	return ""
}

// kill ends the process at once and waits for it; used when Start fails
// after spawning.
func (s *Server) kill() {
	r := s.current()
	if r == nil {
		return
	}
	signalProcess(r.cmd.Process, sigQuit)
	select {
	case <-r.done:
	case <-time.After(5 * time.Second):
		killGroup(r.cmd.Process)
		<-r.done
	}
}

// Stop asks postgres for a fast shutdown (SIGINT: roll back open
// transactions, checkpoint, exit) and waits. When ctx ends first it sends
// SIGQUIT (immediate shutdown; crash recovery on next start), then kills
// the process group. Stopping a server that is not running is a no-op.
// Stop waits for a Start in progress; cancel Start's ctx to abort it.
func (s *Server) Stop(ctx context.Context) error {
	s.lifecycle.Lock()
	defer s.lifecycle.Unlock()
	r := s.current()
	if r == nil {
		return nil
	}
	cmd, done := r.cmd, r.done
	select {
	case <-done:
		return nil
	default:
	}
	s.log.Info("stopping postgres")
	signalProcess(cmd.Process, sigInt)
	select {
	case <-done:
		return nil
	case <-ctx.Done():
	}
	s.log.Warn("postgres did not stop in time, sending SIGQUIT")
	signalProcess(cmd.Process, sigQuit)
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		killGroup(cmd.Process)
		<-done
	}
	return fmt.Errorf("stopping postgres: forced after %w", ctx.Err())
}

// CreateDatabase creates database name (owned by the superuser) with createdb.
func (s *Server) CreateDatabase(ctx context.Context, name string) error {
	return s.createDatabase(ctx, name)
}

func (s *Server) createDatabase(ctx context.Context, name string) error {
	if name == "" || strings.ContainsRune(name, 0) || len(name) > 63 {
		return fmt.Errorf("invalid database name %q", name)
	}
	args := append(s.connFlags(), "--maintenance-db=postgres", "--", name)
	if _, err := s.runTool(ctx, false, "createdb", args...); err != nil {
		return fmt.Errorf("creating database %s: %w", name, err)
	}
	s.log.Info("created database", "database", name)
	return nil
}

// databaseExists asks the server through psql.
func (s *Server) databaseExists(ctx context.Context, name string) (bool, error) {
	args := append(s.connFlags(), "-d", "postgres", "-X", "-q", "-A", "-t",
		"-c", "SELECT 1 FROM pg_database WHERE datname = "+quoteLiteral(name))
	out, err := s.runTool(ctx, false, "psql", args...)
	if err != nil {
		return false, fmt.Errorf("checking database %s: %w", name, err)
	}
	return strings.TrimSpace(out) == "1", nil
}

// connFlags are the client tools' flags for our socket and superuser.
func (s *Server) connFlags() []string {
	return []string{"-h", s.SocketDir(), "-p", s.port, "-U", Superuser}
}

// runTool runs a PostgreSQL program from the bin dir and returns its
// output; asServer runs it as the RunAs user (initdb refuses root).
func (s *Server) runTool(ctx context.Context, asServer bool, name string, args ...string) (string, error) {
	cmd := exec.CommandContext(ctx, filepath.Join(s.binDir, name), args...)
	cmd.Env = toolEnv()
	cmd.Dir = "/"
	if asServer {
		cmd.SysProcAttr = toolAttr(s.runAs)
	}
	var out bytes.Buffer
	cmd.Stdout = &out
	cmd.Stderr = &out
	err := cmd.Run()
	for _, line := range strings.Split(strings.TrimSpace(out.String()), "\n") {
		if line != "" {
			s.log.Debug(line, "tool", name)
		}
	}
	if err != nil {
		return out.String(), fmt.Errorf("%s: %w: %s", name, err, strings.TrimSpace(out.String()))
	}
	return out.String(), nil
}

// toolEnv is our environment without PG* variables, which would otherwise
// redirect the tools to another server or data directory.
func toolEnv() []string {
	var env []string
	for _, kv := range os.Environ() {
		if strings.HasPrefix(kv, "PG") {
			continue
		}
		env = append(env, kv)
	}
	return append(env, "LC_MESSAGES=C")
}

func (s *Server) chown(path string) error {
	if s.runAs == nil {
		return nil
	}
	if err := os.Lchown(path, int(s.runAs.uid), int(s.runAs.gid)); err != nil {
		return fmt.Errorf("changing owner of %s to %s: %w", path, s.runAs.name, err)
	}
	return nil
}

// serverUID is the uid the postgres processes run as.
func (s *Server) serverUID() uint32 {
	if s.runAs != nil {
		return s.runAs.uid
	}
	return uint32(os.Geteuid())
}

func (s *Server) runAsName() string {
	if s.runAs == nil {
		return ""
	}
	return s.runAs.name
}
