package manager

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/picloud/picloud/internal/pgtest"
	"github.com/picloud/picloud/migrations"
)

// fakeCompiler accepts any source without "SYNTAX" in it; the real
// compiler is tested in runtime and end to end.
type fakeCompiler struct{}

func (fakeCompiler) Compile(_ context.Context, source, _ string) (string, error) {
	if i := strings.Index(source, "SYNTAX"); i >= 0 {
		return "", &CompileError{Line: 1, Column: i + 1, Message: "unexpected SYNTAX"}
	}
	return "compiled:" + source, nil
}

func open(t testing.TB) *Manager {
	t.Helper()
	m, err := Open(context.Background(), Config{DatabaseURL: pgtest.DSN(t), Compiler: fakeCompiler{}})
	if err != nil {
		t.Fatalf("open: %v", err)
	}
	t.Cleanup(m.Close)
	return m
}

func schemaSnapshot(t *testing.T, pool *pgxpool.Pool) string {
	t.Helper()
	var s string
	err := pool.QueryRow(context.Background(), `
		SELECT string_agg(table_name || '.' || column_name || ':' || data_type, ',' ORDER BY table_name, column_name)
		FROM information_schema.columns WHERE table_schema = 'public'`).Scan(&s)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestMigrationsReachLatestAndAreIdempotent(t *testing.T) {
	ctx := context.Background()
	dsn := pgtest.DSN(t)
	m, err := Open(ctx, Config{DatabaseURL: dsn, Compiler: fakeCompiler{}})
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	var version int
	if err := m.pool.QueryRow(ctx, `SELECT max(version) FROM schema_migrations`).Scan(&version); err != nil {
		t.Fatal(err)
	}
	if version != LatestSchema() || version == 0 {
		t.Fatalf("schema version %d, want latest %d", version, LatestSchema())
	}
	before := schemaSnapshot(t, m.pool)
	n, err := migrate(ctx, m.pool, migrations.FS)
	if err != nil || n != 0 {
		t.Fatalf("second migrate applied %d (err %v), want 0", n, err)
	}
	if after := schemaSnapshot(t, m.pool); after != before {
		t.Fatalf("schema changed on second run:\n%s\n%s", before, after)
	}
	// A second process opening the same database also changes nothing.
	m2, err := Open(ctx, Config{DatabaseURL: dsn, Compiler: fakeCompiler{}})
	if err != nil {
		t.Fatal(err)
	}
	m2.Close()
}

// Starters racing on a fresh database: the advisory lock lets one apply
// each migration and the others find nothing left to do.
func TestConcurrentMigrationsApplyEachOnce(t *testing.T) {
	ctx := context.Background()
	dsn := pgtest.DSN(t)
	ms, err := loadMigrations(migrations.FS)
	if err != nil {
		t.Fatal(err)
	}
	const starters = 4
	applied := make(chan int, starters)
	errs := make(chan error, starters)
	for i := 0; i < starters; i++ {
		go func() {
			pool, err := pgxpool.New(ctx, dsn)
			if err != nil {
				errs <- err
				return
			}
			defer pool.Close()
			n, err := migrate(ctx, pool, migrations.FS)
			applied <- n
			errs <- err
		}()
	}
	total := 0
	for i := 0; i < starters; i++ {
		if err := <-errs; err != nil {
			t.Errorf("starter: %v", err)
			continue
		}
		total += <-applied
	}
	if total != len(ms) {
		t.Errorf("%d migrations applied in total by %d starters, want %d (each once)", total, starters, len(ms))
	}
}

func TestMigrationGapIsRefused(t *testing.T) {
	fsys := fstest.MapFS{
		"0001_a.sql": {Data: []byte("SELECT 1")},
		"0003_c.sql": {Data: []byte("SELECT 1")},
	}
	if _, err := loadMigrations(fsys); !errors.Is(err, ErrMigrationGap) {
		t.Fatalf("err = %v, want ErrMigrationGap", err)
	}
}

func TestFailedMigrationRollsBack(t *testing.T) {
	ctx := context.Background()
	pool, err := pgxpool.New(ctx, pgtest.DSN(t))
	if err != nil {
		t.Fatal(err)
	}
	defer pool.Close()
	fsys := fstest.MapFS{
		"0001_ok.sql":  {Data: []byte("CREATE TABLE a (x int)")},
		"0002_bad.sql": {Data: []byte("CREATE TABLE b (x int); SELECT nope")},
	}
	if _, err := migrate(ctx, pool, fsys); err == nil || !strings.Contains(err.Error(), "0002_bad.sql") {
		t.Fatalf("err = %v, want a failure naming 0002_bad.sql", err)
	}
	var b *string
	if err := pool.QueryRow(ctx, `SELECT to_regclass('b')::text`).Scan(&b); err != nil || b != nil {
		t.Fatalf("table b exists after a failed migration (err %v)", err)
	}
	var v int
	if err := pool.QueryRow(ctx, `SELECT max(version) FROM schema_migrations`).Scan(&v); err != nil || v != 1 {
		t.Fatalf("version = %d (err %v), want 1", v, err)
	}
}

func TestDeployVersionsAndSyntaxErrors(t *testing.T) {
	ctx := context.Background()
	m := open(t)
	if _, err := m.CreateApp(ctx, "shop", "Shop"); err != nil {
		t.Fatal(err)
	}
	d1, err := m.Deploy(ctx, DeployInput{App: "shop", Name: "cart", Source: "v1"})
	if err != nil || !d1.Created || d1.Version != 1 {
		t.Fatalf("first deploy = %+v, %v", d1, err)
	}
	d2, err := m.Deploy(ctx, DeployInput{App: "shop", Name: "cart", Source: "v2",
		Bindings: json.RawMessage(`{"GREETING":{"type":"text","value":"hi"}}`)})
	if err != nil || d2.Created || d2.Version != 2 || d2.ID != d1.ID {
		t.Fatalf("second deploy = %+v, %v", d2, err)
	}
	s, err := m.Script(ctx, d1.ID)
	if err != nil || s.Version != 2 || s.Code != "compiled:v2" || !strings.Contains(string(s.Bindings), "GREETING") {
		t.Fatalf("script = %+v, %v", s, err)
	}

	// A deploy that does not mention bindings keeps them; {} clears them.
	d3, err := m.Deploy(ctx, DeployInput{App: "shop", Name: "cart", Source: "v3"})
	if err != nil {
		t.Fatal(err)
	}
	if s, _ := m.Script(ctx, d3.ID); !strings.Contains(string(s.Bindings), "GREETING") || s.Version != 3 {
		t.Fatalf("redeploy without bindings dropped them: %+v", s)
	}
	if _, err := m.Deploy(ctx, DeployInput{App: "shop", Name: "cart", Source: "v4", Bindings: json.RawMessage(`{}`)}); err != nil {
		t.Fatal(err)
	}
	if s, _ := m.Script(ctx, d3.ID); strings.Contains(string(s.Bindings), "GREETING") {
		t.Fatalf("an explicit {} kept the bindings: %s", s.Bindings)
	}
	if _, err := m.Deploy(ctx, DeployInput{App: "shop", Name: "cart", Source: "v2",
		Bindings: json.RawMessage(`{"GREETING":{"type":"text","value":"hi"}}`)}); err != nil {
		t.Fatal(err)
	}

	_, err = m.Deploy(ctx, DeployInput{App: "shop", Name: "cart", Source: "x SYNTAX"})
	var e *Error
	if !errors.As(err, &e) || e.Status != http.StatusBadRequest || e.Code != "syntax_error" || !strings.Contains(e.Message, "line 1, column 3") {
		t.Fatalf("syntax error deploy: %v", err)
	}
	if s, _ := m.Script(ctx, d1.ID); s.Version != 5 {
		t.Fatalf("a failed deploy changed the current version to %d, want 5", s.Version)
	}

	bad := []struct {
		name string
		in   DeployInput
		code string
	}{
		{"unknown app", DeployInput{App: "nope", Name: "x", Source: "s"}, "not_found"},
		{"bad name", DeployInput{App: "shop", Name: "../x", Source: "s"}, "invalid_name"},
		{"empty source", DeployInput{App: "shop", Name: "x", Source: "  "}, "invalid_source"},
		{"bad language", DeployInput{App: "shop", Name: "x", Source: "s", Language: "rust"}, "invalid_language"},
		{"bad binding type", DeployInput{App: "shop", Name: "x", Source: "s", Bindings: json.RawMessage(`{"A":{"type":"nope"}}`)}, "invalid_bindings"},
		{"text binding not a string", DeployInput{App: "shop", Name: "x", Source: "s", Bindings: json.RawMessage(`{"A":{"type":"text","value":1}}`)}, "invalid_bindings"},
	}
	for _, tc := range bad {
		t.Run(tc.name, func(t *testing.T) {
			_, err := m.Deploy(ctx, tc.in)
			if !errors.As(err, &e) || e.Code != tc.code {
				t.Fatalf("err = %v, want code %s", err, tc.code)
			}
		})
	}
	ss, err := m.Scripts(ctx, "shop")
	if err != nil || len(ss) != 1 {
		t.Fatalf("scripts = %+v, %v; want only cart", ss, err)
	}
}

func TestLoginSessionsAndBootstrap(t *testing.T) {
	ctx := context.Background()
	m := open(t)
	res, err := m.EnsureAdmin(ctx, "root", "", true)
	if err != nil || !res.Created || len(res.Password) < 16 {
		t.Fatalf("bootstrap = %+v, %v", res, err)
	}
	again, err := m.EnsureAdmin(ctx, "other", "pw", true)
	if err != nil || again.Created {
		t.Fatalf("bootstrap ran twice: %+v, %v", again, err)
	}
	if _, err := m.Login(ctx, "root", "wrong"); !errors.Is(err, ErrBadCredentials) {
		t.Fatalf("wrong password: %v", err)
	}
	if _, err := m.Login(ctx, "nobody", "x"); !errors.Is(err, ErrBadCredentials) {
		t.Fatalf("unknown user: %v", err)
	}
	s, err := m.Login(ctx, "root", res.Password)
	if err != nil {
		t.Fatal(err)
	}
	u, err := m.Authenticate(ctx, s.Token)
	if err != nil || u.Username != "root" || u.Role != "owner" {
		t.Fatalf("authenticate = %+v, %v", u, err)
	}
	var clear, hashed int
	if err := m.pool.QueryRow(ctx, `SELECT count(*) FILTER (WHERE token_hash = $1), count(*) FILTER (WHERE token_hash = $2) FROM sessions`,
		[]byte(s.Token), hashToken(s.Token)).Scan(&clear, &hashed); err != nil || clear != 0 || hashed != 1 {
		t.Fatalf("sessions hold %d clear and %d hashed tokens (err %v), want 0 and 1", clear, hashed, err)
	}
	if err := m.Logout(ctx, s.Token); err != nil {
		t.Fatal(err)
	}
	if _, err := m.Authenticate(ctx, s.Token); !errors.Is(err, ErrUnauthenticated) {
		t.Fatalf("token works after logout: %v", err)
	}
}

func TestSeedOnlyOnFreshInstall(t *testing.T) {
	ctx := context.Background()
	m := open(t)
	for range 2 {
		if err := m.Seed(ctx); err != nil {
			t.Fatal(err)
		}
	}
	snap, err := m.Routing(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(snap.Domains) != 1 || snap.Domains[0].Pattern != "localhost" || len(snap.Routes) != 1 || snap.Routes[0].Path != "/" {
		t.Fatalf("seed = %+v", snap)
	}
}

func TestPasswordHashRoundTrip(t *testing.T) {
	h, err := hashPassword("correct horse")
	if err != nil {
		t.Fatal(err)
	}
	// argon2id at OWASP's baseline, in PHC format.
	if !strings.HasPrefix(h, "$argon2id$v=19$m=19456,t=2,p=1$") {
		t.Fatalf("hash %q is not argon2id m=19456 t=2 p=1", h)
	}
	for _, tc := range []struct {
		pw   string
		want bool
	}{{"correct horse", true}, {"correct horsE", false}, {"", false}} {
		ok, err := verifyPassword(h, tc.pw)
		if err != nil || ok != tc.want {
			t.Errorf("verify(%q) = %v, %v; want %v", tc.pw, ok, err, tc.want)
		}
	}
	if _, err := verifyPassword("$argon2id$garbage", "x"); err == nil {
		t.Error("malformed hash accepted")
	}
	if ok, err := verifyPassword(dummyHash, "x"); err != nil || ok {
		t.Errorf("dummy hash: %v, %v", ok, err)
	}
}
