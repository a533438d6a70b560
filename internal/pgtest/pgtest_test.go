package pgtest

import (
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

func TestMain(m *testing.M) { os.Exit(Main(m)) }

// psql runs one statement against dsn and returns the trimmed output.
func psql(t *testing.T, dsn, sql string) string {
	t.Helper()
	cmd := exec.Command(filepath.Join(shared.binDir, "psql"), "-X", "-q", "-A", "-t", "-v", "ON_ERROR_STOP=1", "-d", dsn, "-c", sql)
	cmd.Env = withoutPGEnv()
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("psql %q: %v: %s", sql, err, out)
	}
	return strings.TrimSpace(string(out))
}

func dbOf(t *testing.T, dsn string) string {
	t.Helper()
	u, err := url.Parse(dsn)
	if err != nil {
		t.Fatal(err)
	}
	return strings.TrimPrefix(u.Path, "/")
}

func TestDSNGivesDistinctEmptyDatabases(t *testing.T) {
	a, b := DSN(t), DSN(t)
	if a == b || dbOf(t, a) == dbOf(t, b) {
		t.Fatalf("same database twice: %s and %s", a, b)
	}
	for _, dsn := range []string{a, b} {
		if got := psql(t, dsn, "SELECT current_database()"); got != dbOf(t, dsn) {
			t.Errorf("connected to %q, want %q", got, dbOf(t, dsn))
		}
		if got := psql(t, dsn, "SELECT count(*) FROM pg_tables WHERE schemaname = 'public'"); got != "0" {
			t.Errorf("new database has %s tables, want 0", got)
		}
	}
	psql(t, a, "CREATE TABLE only_in_a (id int)")
	if got := psql(t, b, "SELECT count(*) FROM pg_tables WHERE tablename = 'only_in_a'"); got != "0" {
		t.Errorf("table created in a is visible in b")
	}
}

func TestDatabaseDroppedAtCleanup(t *testing.T) {
	var name, admin string
	t.Run("user", func(t *testing.T) {
		dsn := DSN(t)
		name = dbOf(t, dsn)
		admin = shared.base.String()
		if got := psql(t, admin, "SELECT count(*) FROM pg_database WHERE datname = '"+name+"'"); got != "1" {
			t.Fatalf("database %s not created", name)
		}
	})
	if got := psql(t, admin, "SELECT count(*) FROM pg_database WHERE datname = '"+name+"'"); got != "0" {
		t.Fatalf("database %s still exists after the test ended", name)
	}
}

func TestDBName(t *testing.T) {
	tests := []struct {
		name, test string
		want       string
	}{
		{"simple", "TestX", "t_testx_7_1"},
		{"subtest with symbols", "TestA/b c-D", "t_testa_b_c_d_7_1"},
		{"long name truncated", strings.Repeat("x", 200), "t_" + strings.Repeat("x", 32) + "_7_1"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := dbName(tt.test, 7, 1)
			if got != tt.want {
				t.Errorf("dbName(%q) = %q, want %q", tt.test, got, tt.want)
			}
			if len(got) > 63 {
				t.Errorf("dbName(%q) is %d bytes, postgres allows 63", tt.test, len(got))
			}
		})
	}
}
