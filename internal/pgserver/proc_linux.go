package pgserver

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"syscall"
)

var (
	sigInt  = syscall.SIGINT
	sigQuit = syscall.SIGQUIT
)

// daemonAttr runs the postmaster in its own process group, so a Ctrl-C in
// the terminal reaches only picloud, which then stops postgres in order;
// Pdeathsig asks for a fast shutdown if picloud dies without doing so.
func daemonAttr(a *account) *syscall.SysProcAttr {
	attr := &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGINT}
	if a != nil {
		attr.Credential = credential(a)
	}
	return attr
}

// toolAttr runs a short-lived server tool (initdb) as the RunAs user.
func toolAttr(a *account) *syscall.SysProcAttr {
	if a == nil {
		return nil
	}
	return &syscall.SysProcAttr{Credential: credential(a), Pdeathsig: syscall.SIGKILL}
}

func credential(a *account) *syscall.Credential {
	return &syscall.Credential{Uid: a.uid, Gid: a.gid, Groups: a.groups}
}

func signalProcess(p *os.Process, sig syscall.Signal) {
	_ = p.Signal(sig) // fails only when the process is already gone
}

// killGroup kills the postmaster and every backend it left behind.
func killGroup(p *os.Process) {
	_ = syscall.Kill(-p.Pid, syscall.SIGKILL)
	_ = p.Kill()
}

// isPostgresFor reports whether pid is a live postgres, run by uid, whose
// working directory is dataDir (the postmaster chdirs into its data
// directory). Anything else holding the pid is a reuse after a crash.
func isPostgresFor(pid int, dataDir string, uid uint32) bool {
	if err := syscall.Kill(pid, 0); err == syscall.ESRCH {
		return false
	}
	proc := fmt.Sprintf("/proc/%d", pid)
	var st syscall.Stat_t
	if err := syscall.Stat(proc, &st); err != nil {
		return !errors.Is(err, fs.ErrNotExist)
	}
	if st.Uid != uid {
		return false
	}
	cmdline, err := os.ReadFile(proc + "/cmdline")
	if err != nil {
		// Alive but unreadable: assume it is ours rather than remove the
		// lock file of a running server.
		return true
	}
	argv0, _, _ := strings.Cut(string(cmdline), "\x00")
	base := filepath.Base(argv0)
	if !strings.HasPrefix(base, "postgres") && !strings.HasPrefix(base, "postmaster") {
		return false
	}
	cwd, err := os.Readlink(proc + "/cwd")
	if err != nil {
		return true
	}
	return filepath.Clean(cwd) == filepath.Clean(dataDir)
}

func ownedBy(fi fs.FileInfo, a *account) bool {
	st, ok := fi.Sys().(*syscall.Stat_t)
	return ok && st.Uid == a.uid
}

// chownTree hands dir and everything under it to a.
func chownTree(dir string, a *account) error {
	return filepath.WalkDir(dir, func(path string, _ fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		return os.Lchown(path, int(a.uid), int(a.gid))
	})
}

// checkTraverse fails when a cannot search every directory from / down to
// dir: postgres, running as a, could then not reach its data directory.
// picloud does not loosen modes of directories it did not create.
func checkTraverse(dir string, a *account) error {
	groups := map[uint32]bool{a.gid: true}
	for _, g := range a.groups {
		groups[g] = true
	}
	for p := dir; ; p = filepath.Dir(p) {
		fi, err := os.Stat(p)
		if err != nil {
			return fmt.Errorf("checking %s: %w", p, err)
		}
		st, ok := fi.Sys().(*syscall.Stat_t)
		if !ok {
			return nil
		}
		mode := uint32(fi.Mode().Perm())
		var can bool
		switch {
		case st.Uid == a.uid:
			can = mode&0o100 != 0
		case groups[st.Gid]:
			can = mode&0o010 != 0
		default:
			can = mode&0o001 != 0
		}
		if !can {
			return fmt.Errorf("postgres runs as user %q (picloud runs as root and postgres refuses root), "+
				"and that user cannot enter %s (mode %04o, owner uid %d): "+
				"put the data directory somewhere it can reach, such as /var/lib/picloud, "+
				"or allow traversal with chmod o+x %s", a.name, p, mode, st.Uid, p)
		}
		if p == filepath.Dir(p) {
			return nil
		}
	}
}
