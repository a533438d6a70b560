package pgserver

import (
	"fmt"
	"os"
	"runtime"
	"strings"
	"testing"
	"time"
)

// TestMain fails the run when a reaper goroutine outlives the tests: every
// started server must have been stopped and its process reaped.
func TestMain(m *testing.M) {
	code := m.Run()
	if code == 0 {
		if leak := waitNoGoroutine("pgserver.(*Server).spawn", 10*time.Second); leak != "" {
			fmt.Fprintf(os.Stderr, "leaked goroutine:\n%s\n", leak)
			code = 1
		}
	}
	os.Exit(code)
}

func waitNoGoroutine(fn string, timeout time.Duration) string {
	deadline := time.Now().Add(timeout)
	for {
		buf := make([]byte, 1<<20)
		stacks := string(buf[:runtime.Stack(buf, true)])
		var leak string
		for _, g := range strings.Split(stacks, "\n\n") {
			if strings.Contains(g, fn) {
				leak = g
			}
		}
		if leak == "" || time.Now().After(deadline) {
			return leak
		}
		time.Sleep(50 * time.Millisecond)
	}
}
