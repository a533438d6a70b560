package pgserver

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
)

// ErrNotInstalled means the PostgreSQL server binaries were not found. The
// message says what to install; FindBinDir wraps it with the places looked.
var ErrNotInstalled = errors.New("postgresql server binaries not found: install them (Debian: apt-get install postgresql) or set PICLOUD_PG_BINDIR to the directory holding initdb and postgres")

// EnvBinDir names the environment variable that overrides where the server
// binaries are looked for.
const EnvBinDir = "PICLOUD_PG_BINDIR"

// debianRoot is where Debian installs the server binaries, outside PATH.
const debianRoot = "/usr/lib/postgresql"

// requiredBinaries are the programs Server runs.
var requiredBinaries = []string{"initdb", "postgres", "pg_isready", "createdb", "psql"}

// FindBinDir returns the directory holding the PostgreSQL server binaries:
// $PICLOUD_PG_BINDIR when set, else the highest /usr/lib/postgresql/<v>/bin
// with a postgres binary, else the directory of `postgres` in PATH.
func FindBinDir() (string, error) {
	return findBinDir(os.Getenv(EnvBinDir), debianRoot, exec.LookPath)
}

func findBinDir(env, root string, lookPath func(string) (string, error)) (string, error) {
	if env != "" {
		if err := checkBinDir(env); err != nil {
			return "", fmt.Errorf("%w (looked in $%s=%s: %v)", ErrNotInstalled, EnvBinDir, env, err)
		}
		return env, nil
	}
	var looked []string
	if dir := highestVersionDir(root); dir != "" {
		return dir, nil
	}
	looked = append(looked, root+"/<version>/bin")
	if p, err := lookPath("postgres"); err == nil {
		// Resolve symlinks so the sibling binaries are found next to it.
		if real, err := filepath.EvalSymlinks(p); err == nil {
			p = real
		}
		return filepath.Dir(p), nil
	}
	looked = append(looked, "PATH")
	return "", fmt.Errorf("%w (looked in %s)", ErrNotInstalled, strings.Join(looked, ", "))
}

// highestVersionDir returns <root>/<v>/bin for the highest numeric v that
// has a postgres binary, or "".
func highestVersionDir(root string) string {
	entries, err := os.ReadDir(root)
	if err != nil {
		return ""
	}
	type cand struct {
		v   float64
		dir string
	}
	var cands []cand
	for _, e := range entries {
		v, err := strconv.ParseFloat(e.Name(), 64) // "15", "9.6"
		if err != nil {
			continue
		}
		dir := filepath.Join(root, e.Name(), "bin")
		if isExecutable(filepath.Join(dir, "postgres")) {
			cands = append(cands, cand{v, dir})
		}
	}
	if len(cands) == 0 {
		return ""
	}
	sort.Slice(cands, func(i, j int) bool { return cands[i].v > cands[j].v })
	return cands[0].dir
}

// checkBinDir reports the first required binary missing from dir.
func checkBinDir(dir string) error {
	for _, name := range requiredBinaries {
		if !isExecutable(filepath.Join(dir, name)) {
			return fmt.Errorf("no executable %s", name)
		}
	}
	return nil
}

func isExecutable(path string) bool {
	fi, err := os.Stat(path)
	return err == nil && fi.Mode().IsRegular() && fi.Mode().Perm()&0o111 != 0
}
