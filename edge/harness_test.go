package edge

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"net/http"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/picloud/picloud/internal/limits"
	"github.com/picloud/picloud/internal/route"
	"github.com/picloud/picloud/runtime"

	"github.com/picloud/picloud/internal/testnet"
)

// memCatalog is an in-memory control plane: the edge's tests exercise real
// Caddy and the real runtime, and only the script store is replaced.
type memCatalog struct {
	mu      sync.Mutex
	scripts map[string]runtime.Script
	routing Routing
}

func (c *memCatalog) Script(_ context.Context, id string) (runtime.Script, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	s, ok := c.scripts[id]
	if !ok {
		return runtime.Script{}, ErrScriptNotFound
	}
	return s, nil
}

func (c *memCatalog) Routing(context.Context) (Routing, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.routing, nil
}

// fixture is a running Server with its catalog and engine.
type fixture struct {
	srv    *Server
	cat    *memCatalog
	engine *runtime.Engine
	base   string
	logs   *syncBuffer
}

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.String()
}

// newFixture starts a Server on a free loopback port. Caddy is a process
// singleton, so edge tests never run in parallel.
func newFixture(t testing.TB, mod func(*Config)) *fixture {
	t.Helper()
	logs := &syncBuffer{}
	log := slog.New(slog.NewJSONHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	engine, err := runtime.New(runtime.Config{Logger: log})
	if err != nil {
		t.Fatal(err)
	}
	cat := &memCatalog{scripts: map[string]runtime.Script{}, routing: Routing{Routes: map[string][]route.Route{}}}
	cfg := Config{
		Bind:       testnet.FreeAddr(t),
		StorageDir: storageDir(t),
		Admin: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			_, _ = io.WriteString(w, "admin")
		}),
		Executor: engine,
		Catalog:  cat,
		Logger:   log,
	}
	if mod != nil {
		mod(&cfg)
	}
	srv, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	if err := srv.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := srv.Stop(); err != nil {
			t.Errorf("stop: %v", err)
		}
	})
	return &fixture{srv: srv, cat: cat, engine: engine, base: "http://" + cfg.Bind, logs: logs}
}

// addScript compiles source with the real runtime and stores it.
func (f *fixture) addScript(t testing.TB, id, app, source string) {
	t.Helper()
	code, err := f.engine.Compile(context.Background(), source, runtime.JavaScript)
	if err != nil {
		t.Fatalf("compile %s: %v", id, err)
	}
	f.cat.mu.Lock()
	f.cat.scripts[id] = runtime.Script{ID: id, AppID: app, Name: id, Version: 1, Hash: id, Code: code}
	f.cat.mu.Unlock()
	f.srv.Invalidate("script:" + id)
}

// setLimits gives a stored script its resolved limits.
func (f *fixture) setLimits(t testing.TB, id string, l limits.Limits) {
	t.Helper()
	f.cat.mu.Lock()
	s, ok := f.cat.scripts[id]
	s.Limits = l
	f.cat.scripts[id] = s
	f.cat.mu.Unlock()
	if !ok {
		t.Fatalf("no script %s", id)
	}
	f.srv.Invalidate("script:" + id)
}

// setRouting replaces claims and routes and announces the change.
func (f *fixture) setRouting(claims []route.Claim, routes map[string][]route.Route) {
	f.cat.mu.Lock()
	f.cat.routing = Routing{Claims: claims, Routes: routes}
	f.cat.mu.Unlock()
	f.srv.Invalidate("routing")
}

// storageDir is a temp dir whose removal tolerates Caddy still finishing
// background certificate work after Stop.
func storageDir(t testing.TB) string {
	d, err := os.MkdirTemp("", "picloud-edge-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = os.RemoveAll(d) })
	return d
}

var client = &http.Client{Timeout: 30 * time.Second}

// get fetches url with an optional Host header.
func get(t testing.TB, url, host string) (int, http.Header, string) {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	if host != "" {
		req.Host = host
	}
	resp, err := client.Do(req)
	if err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, resp.Header, string(b)
}

// logLines returns the JSON log records whose msg is msg.
func logLines(logs string, msg string) []string {
	var out []string
	for _, l := range strings.Split(logs, "\n") {
		if strings.Contains(l, `"msg":"`+msg+`"`) {
			out = append(out, l)
		}
	}
	return out
}
