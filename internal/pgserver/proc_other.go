//go:build !linux

package pgserver

import (
	"errors"
	"io/fs"
	"os"
	"syscall"
)

var (
	sigInt  = os.Interrupt
	sigQuit = os.Kill
)

// errRootUnsupported: dropping privileges for postgres is implemented for
// Linux only (CI and the Pi); run picloud as a normal user elsewhere.
var errRootUnsupported = errors.New("running the managed postgres as root is supported on linux only; run picloud as a normal user")

func daemonAttr(a *account) *syscall.SysProcAttr { return nil }

func toolAttr(a *account) *syscall.SysProcAttr { return nil }

func signalProcess(p *os.Process, sig os.Signal) { _ = p.Signal(sig) }

func killGroup(p *os.Process) { _ = p.Kill() }

// isPostgresFor cannot inspect other processes portably; a live pid is
// assumed to be ours, and postgres itself removes lock files of dead ones.
func isPostgresFor(pid int, dataDir string, uid uint32) bool {
	p, err := os.FindProcess(pid)
	if err != nil {
		return false
	}
	return p.Signal(syscall.Signal(0)) == nil
}

func ownedBy(fi fs.FileInfo, a *account) bool { return true }

func chownTree(dir string, a *account) error { return errRootUnsupported }

func checkTraverse(dir string, a *account) error { return errRootUnsupported }
