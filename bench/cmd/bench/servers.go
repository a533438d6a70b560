package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"time"
)

// server is one process the harness started and must stop.
type server struct {
	name string
	cmd  *exec.Cmd
	base string // http://127.0.0.1:port
	log  string // file with its stdout and stderr
	done chan struct{}
	err  error
}

func (s *server) pid() int { return s.cmd.Process.Pid }

func (s *server) exited() bool {
	select {
	case <-s.done:
		return true
	default:
		return false
	}
}

// supervisor starts processes pinned to the server CPU and stops each by
// its PID.
type supervisor struct {
	cpu    string // taskset CPU list for servers
	logDir string
	mu     sync.Mutex
	all    []*server
}

// start runs argv under taskset, logging to <logDir>/<name>.log.
func (sv *supervisor) start(name string, dir string, env []string, port int, argv ...string) (*server, error) {
	logPath := filepath.Join(sv.logDir, name+".log")
	f, err := os.Create(logPath)
	if err != nil {
		return nil, fmt.Errorf("creating log of %s: %w", name, err)
	}
	cmd := exec.Command("taskset", append([]string{"-c", sv.cpu}, argv...)...)
	cmd.Dir = dir
	cmd.Env = env
	cmd.Stdout, cmd.Stderr = f, f
	if err := cmd.Start(); err != nil {
		f.Close()
		return nil, fmt.Errorf("starting %s: %w", name, err)
	}
	s := &server{name: name, cmd: cmd, base: fmt.Sprintf("http://127.0.0.1:%d", port), log: logPath, done: make(chan struct{})}
	go func() {
		s.err = cmd.Wait()
		f.Close()
		close(s.done)
	}()
	sv.mu.Lock()
	sv.all = append(sv.all, s)
	sv.mu.Unlock()
	return s, nil
}

// stop sends SIGINT (PiCloud then stops its PostgreSQL cleanly), then
// SIGKILL after the grace period.
func (sv *supervisor) stop(s *server, grace time.Duration) {
	if s.exited() {
		return
	}
	_ = s.cmd.Process.Signal(syscall.SIGINT)
	select {
	case <-s.done:
	case <-time.After(grace):
		_ = s.cmd.Process.Kill()
		<-s.done
	}
}

// stopAll stops every process still running, newest first.
func (sv *supervisor) stopAll() {
	sv.mu.Lock()
	all := append([]*server(nil), sv.all...)
	sv.mu.Unlock()
	for i := len(all) - 1; i >= 0; i-- {
		sv.stop(all[i], 30*time.Second)
	}
}

// freePort asks the kernel for a free loopback port.
func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

var client = &http.Client{Timeout: 10 * time.Second}

// call makes one request with Host: localhost (PiCloud's seeded app claims
// localhost; the others ignore the host) and returns status and body.
func call(ctx context.Context, method, url string, body []byte) (int, []byte, error) {
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	}
	req, err := http.NewRequestWithContext(ctx, method, url, rd)
	if err != nil {
		return 0, nil, err
	}
	req.Host = "localhost"
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := client.Do(req)
	if err != nil {
		return 0, nil, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return resp.StatusCode, b, err
}

// waitReady polls url until it answers 200 or the server exits.
func waitReady(ctx context.Context, s *server, method, path string, body []byte, limit time.Duration) error {
	deadline := time.Now().Add(limit)
	for {
		if st, _, err := call(ctx, method, s.base+path, body); err == nil && st == 200 {
			return nil
		}
		if s.exited() {
			return fmt.Errorf("%s exited before serving (%v); see %s", s.name, s.err, s.log)
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("%s did not answer %s within %s; see %s", s.name, path, limit, s.log)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(5 * time.Millisecond):
		}
	}
}

// admin is a logged-in client of PiCloud's admin API.
type admin struct {
	base  string
	token string
}

var errAPI = errors.New("admin API call failed")

func (a *admin) do(ctx context.Context, method, path string, in, out any) error {
	var body io.Reader
	if in != nil {
		b, err := json.Marshal(in)
		if err != nil {
			return err
		}
		body = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, a.base+"/api/v1/admin"+path, body)
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	if a.token != "" {
		req.Header.Set("Authorization", "Bearer "+a.token)
	}
	resp, err := client.Do(req)
	if err != nil {
		return fmt.Errorf("%s %s: %w", method, path, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode/100 != 2 {
		return fmt.Errorf("%w: %s %s: %d %s", errAPI, method, path, resp.StatusCode, strings.TrimSpace(string(b)))
	}
	if out != nil {
		return json.Unmarshal(b, out)
	}
	return nil
}

func (a *admin) login(ctx context.Context, user, password string) error {
	var out struct {
		Token string `json:"token"`
	}
	if err := a.do(ctx, "POST", "/auth/login", map[string]string{"username": user, "password": password}, &out); err != nil {
		return err
	}
	a.token = out.Token
	return nil
}

// deploy stores a script in the default app and returns its id.
func (a *admin) deploy(ctx context.Context, name, source string, bindings map[string]any) (string, error) {
	in := map[string]any{"app": "default", "name": name, "source": source}
	if bindings != nil {
		in["bindings"] = bindings
	}
	var out struct {
		ID string `json:"id"`
	}
	if err := a.do(ctx, "POST", "/scripts", in, &out); err != nil {
		return "", err
	}
	return out.ID, nil
}

// route binds method+path (any host) in the default app to a script.
func (a *admin) route(ctx context.Context, scriptID, method, path string) error {
	return a.do(ctx, "POST", "/routes", map[string]string{"app": "default", "script": scriptID, "method": method, "path": path}, nil)
}
