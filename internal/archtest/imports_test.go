package archtest

import (
	"bytes"
	"encoding/json"
	"io"
	"os/exec"
	"strings"
	"testing"
)

const module = "github.com/picloud/picloud"

type pkg struct {
	ImportPath string
	Name       string
	Doc        string
	Imports    []string
}

func listPackages(t *testing.T) []pkg {
	t.Helper()
	cmd := exec.Command("go", "list", "-json", module+"/...")
	var out, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("go list: %v\n%s", err, stderr.String())
	}
	var pkgs []pkg
	dec := json.NewDecoder(&out)
	for {
		var p pkg
		if err := dec.Decode(&p); err == io.EOF {
			break
		} else if err != nil {
			t.Fatal(err)
		}
		pkgs = append(pkgs, p)
	}
	if len(pkgs) < 5 {
		t.Fatalf("go list found only %d packages", len(pkgs))
	}
	return pkgs
}

// within reports whether path is pkg or one of its subpackages.
func within(path, pkg string) bool {
	return path == pkg || strings.HasPrefix(path, pkg+"/")
}

// rule says that imports matching Import may only appear in packages
// within one of Allowed.
type rule struct {
	Import  string
	Allowed []string
}

var rules = []rule{
	{Import: "github.com/caddyserver/caddy", Allowed: []string{module + "/edge"}},
	{Import: "github.com/jackc/pgx", Allowed: []string{module + "/manager"}},
	{Import: "github.com/hashicorp/memberlist", Allowed: []string{module + "/gossip"}},
	{Import: "github.com/hashicorp/raft", Allowed: []string{module + "/gossip"}},
	{Import: "github.com/gin-gonic/gin", Allowed: []string{module + "/manager", module + "/cmd/picloud"}},
	{Import: "github.com/dop251/goja", Allowed: []string{module + "/runtime"}},
	{Import: "github.com/evanw/esbuild", Allowed: []string{module + "/runtime"}},
	{Import: module + "/node", Allowed: []string{module + "/cmd/picloud"}},
	{Import: module + "/manager", Allowed: []string{module + "/node"}},
	{Import: module + "/gossip", Allowed: []string{module + "/node"}},
	// edge may use runtime's plain data types; manager and gossip may not
	// touch runtime at all.
	{Import: module + "/runtime", Allowed: []string{module + "/node", module + "/edge"}},
	{Import: module + "/edge", Allowed: []string{module + "/node"}},
	{Import: module + "/dashboard", Allowed: []string{module + "/node"}},
	{Import: module + "/internal/pgtest", Allowed: nil},  // tests only
	{Import: module + "/internal/testnet", Allowed: nil}, // tests only
	{Import: module + "/migrations", Allowed: []string{module + "/manager"}},
	// The client speaks HTTP only; the rules above keep server packages
	// out of it.
	{Import: module + "/internal/cli", Allowed: []string{module + "/cmd/picloud"}},
}

func TestImportBoundaries(t *testing.T) {
	for _, p := range listPackages(t) {
		for _, imp := range p.Imports {
			for _, r := range rules {
				if !within(imp, r.Import) || within(p.ImportPath, r.Import) {
					continue
				}
				ok := false
				for _, a := range r.Allowed {
					ok = ok || within(p.ImportPath, a)
				}
				if !ok {
					t.Errorf("%s imports %s; only %v may", p.ImportPath, imp, r.Allowed)
				}
			}
		}
	}
}

func TestEveryPackageIsDocumented(t *testing.T) {
	for _, p := range listPackages(t) {
		want := "Package " + p.Name + " "
		if p.Name == "main" {
			want = "Command "
		}
		if !strings.HasPrefix(p.Doc, want) {
			t.Errorf("%s has no doc comment starting %q (got %q)", p.ImportPath, want, p.Doc)
		}
	}
}

func TestRulesCatchViolations(t *testing.T) {
	// The checker itself must be able to fail.
	bad := pkg{ImportPath: module + "/runtime", Imports: []string{"github.com/jackc/pgx/v5"}}
	found := false
	for _, r := range rules {
		if within(bad.Imports[0], r.Import) && !within(bad.ImportPath, r.Allowed[0]) {
			found = true
		}
	}
	if !found {
		t.Fatal("runtime importing pgx is not caught by the rules")
	}
}
