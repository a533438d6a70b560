package node

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	goruntime "runtime"
	"runtime/pprof"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/picloud/picloud/edge"
	"github.com/picloud/picloud/internal/limits"
	"github.com/picloud/picloud/runtime"
)

// BenchmarkServerCPU measures server CPU per request end to end: the edge
// with embedded Caddy and the runtime run in a child process (this test
// binary re-executed), and its user+system time from /proc is divided by
// the requests it served. The client's own CPU is not counted.
// edge-only answers in Go behind the same edge, and raw-net-http with a
// bare net/http server: their differences with hello split a request's
// cost between net/http, Caddy and the edge, and the runtime.
// PICLOUD_BENCH_CPUPROFILE and PICLOUD_BENCH_MEMPROFILE name files for
// the child's CPU and allocation profiles.
//
//	go test -run '^$' -bench ServerCPU -benchtime 3000x ./node/
func BenchmarkServerCPU(b *testing.B) {
	for _, tc := range []struct {
		name, script, method, body string
		raw                        bool // plain net/http, no Caddy, no edge
	}{
		{"hello", "hello", "GET", "", false},
		{"json", "json", "POST", benchJSONBody(), false},
		{"edge-only", "static", "GET", "", false},
		{"raw-net-http", "static", "GET", "", true},
	} {
		b.Run(tc.name, func(b *testing.B) {
			base, pid := startBenchServer(b, tc.raw)
			url := base + "/api/v1/execute/" + tc.script
			client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 8}}
			call := func() {
				req, _ := http.NewRequest(tc.method, url, strings.NewReader(tc.body))
				resp, err := client.Do(req)
				if err != nil {
					b.Fatal(err)
				}
				_, _ = io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				if resp.StatusCode != 200 {
					b.Fatalf("status %d", resp.StatusCode)
				}
			}
			for i := 0; i < 200; i++ { // warm up
				call()
			}
			before := procCPU(b, pid)
			b.ResetTimer()
			var wg sync.WaitGroup
			work := make(chan struct{})
			for w := 0; w < 4; w++ {
				wg.Add(1)
				go func() {
					defer wg.Done()
					for range work {
						call()
					}
				}()
			}
			for i := 0; i < b.N; i++ {
				work <- struct{}{}
			}
			close(work)
			wg.Wait()
			b.StopTimer()
			used := procCPU(b, pid) - before
			b.ReportMetric(float64(used)/float64(b.N), "server-cpu-ns/op")
		})
	}
}

// TestBenchServerProcess is the child of BenchmarkServerCPU; it does
// nothing unless started by it.
func TestBenchServerProcess(t *testing.T) {
	if os.Getenv("PICLOUD_BENCH_SERVER") == "" {
		t.Skip("child process of BenchmarkServerCPU")
	}
	bind := os.Getenv("PICLOUD_BENCH_SERVER")
	if os.Getenv("PICLOUD_BENCH_RAW") != "" {
		l, err := net.Listen("tcp", bind)
		if err != nil {
			t.Fatal(err)
		}
		srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { writeHello(w) })}
		go func() { _ = srv.Serve(l) }()
		defer srv.Close()
	} else {
		stop := startBenchEdge(t, bind)
		defer stop()
	}
	if path := os.Getenv("PICLOUD_BENCH_CPUPROFILE"); path != "" {
		f, err := os.Create(path)
		if err != nil {
			t.Fatal(err)
		}
		if err := pprof.StartCPUProfile(f); err != nil {
			t.Fatal(err)
		}
		defer pprof.StopCPUProfile()
	}
	if path := os.Getenv("PICLOUD_BENCH_MEMPROFILE"); path != "" {
		goruntime.MemProfileRate = 1
		defer func() {
			f, err := os.Create(path)
			if err != nil {
				t.Error(err)
				return
			}
			defer f.Close()
			if err := pprof.Lookup("allocs").WriteTo(f, 0); err != nil {
				t.Error(err)
			}
		}()
	}
	fmt.Println("ready")
	_, _ = io.Copy(io.Discard, os.Stdin) // until the parent closes it
}

// staticOr answers the script "static" in Go, without the runtime: the
// edge's own cost per request (Caddy, dispatch, gate, metrics).
type staticOr struct{ edge.Executor }

func (s staticOr) Execute(ctx context.Context, req *runtime.ExecRequest, w http.ResponseWriter) (runtime.ExecResult, error) {
	if req.Script.ID != "static" {
		return s.Executor.Execute(ctx, req, w)
	}
	writeHello(w)
	return runtime.ExecResult{Status: http.StatusOK}, nil
}

// startBenchEdge serves the bench scripts through the edge (embedded
// Caddy) on bind.
func startBenchEdge(t *testing.T, bind string) (stop func()) {
	engine, err := runtime.New(runtime.Config{})
	if err != nil {
		t.Fatal(err)
	}
	scripts := map[string]runtime.Script{}
	for name, src := range map[string]string{"hello": benchHello, "json": benchJSON, "static": benchHello} {
		code, err := runtime.Transform(context.Background(), src, runtime.JavaScript)
		if err != nil {
			t.Fatal(err)
		}
		scripts[name] = runtime.Script{ID: name, Name: name, Version: 1, Code: code, Hash: runtime.HashCode(code), Limits: limits.Defaults}
	}
	srv, err := edge.New(edge.Config{Bind: bind, StorageDir: t.TempDir(), Admin: http.NotFoundHandler(),
		Executor: staticOr{engine}, Catalog: benchCatalog(scripts), MaxConcurrent: 64})
	if err != nil {
		t.Fatal(err)
	}
	if err := srv.Start(); err != nil {
		t.Fatal(err)
	}
	return func() { _ = srv.Stop() }
}

// writeHello is what the script hello answers, written in Go.
func writeHello(w http.ResponseWriter) {
	w.Header().Set("Content-Type", "text/plain;charset=UTF-8")
	w.Header().Set("Content-Length", "13")
	w.WriteHeader(http.StatusOK)
	_, _ = io.WriteString(w, "Hello, world!")
}

type benchCatalog map[string]runtime.Script

func (c benchCatalog) Script(_ context.Context, id string) (runtime.Script, error) {
	s, ok := c[id]
	if !ok {
		return runtime.Script{}, edge.ErrScriptNotFound
	}
	return s, nil
}

func (c benchCatalog) Routing(context.Context) (edge.Routing, error) { return edge.Routing{}, nil }

const benchHello = `export default { fetch() { return new Response("Hello, world!") } }`

const benchJSON = `export default {
  async fetch(req) {
    const items = await req.json();
    const out = items.filter((x) => x.active).map((x) => ({ id: x.id, name: x.name.toUpperCase(), total: x.price * x.qty }));
    return Response.json({ count: out.length, items: out });
  },
};`

func benchJSONBody() string {
	var b strings.Builder
	b.WriteString("[")
	for i := 0; i < 50; i++ {
		if i > 0 {
			b.WriteString(",")
		}
		fmt.Fprintf(&b, `{"id":%d,"name":"item-%d","price":%d.5,"qty":%d,"active":%t}`, i, i, i*3, i%7, i%3 != 0)
	}
	b.WriteString("]")
	return b.String()
}

func startBenchServer(b *testing.B, raw bool) (base string, pid int) {
	b.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	cmd := exec.Command(os.Args[0], "-test.run=^TestBenchServerProcess$", "-test.v")
	cmd.Env = append(os.Environ(), "PICLOUD_BENCH_SERVER="+addr)
	if raw {
		cmd.Env = append(cmd.Env, "PICLOUD_BENCH_RAW=1")
	}
	stdin, _ := cmd.StdinPipe()
	out, _ := cmd.StdoutPipe()
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { stdin.Close(); _ = cmd.Wait() })
	sc := bufio.NewScanner(out)
	for sc.Scan() {
		if sc.Text() == "ready" {
			go func() { _, _ = io.Copy(io.Discard, out) }()
			return "http://" + addr, cmd.Process.Pid
		}
	}
	b.Fatal("the server process did not start")
	return "", 0
}

// procCPU is a process's user+system time in ns, from /proc (10 ms ticks).
func procCPU(b *testing.B, pid int) int64 {
	raw, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		b.Fatal(err)
	}
	f := strings.Fields(string(raw[strings.LastIndexByte(string(raw), ')')+2:]))
	utime, _ := strconv.ParseInt(f[11], 10, 64)
	stime, _ := strconv.ParseInt(f[12], 10, 64)
	return (utime + stime) * 10_000_000 // USER_HZ is 100 on Linux
}
