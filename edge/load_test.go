package edge

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/picloud/picloud/internal/route"
	"github.com/picloud/picloud/runtime"
)

// workScript takes a fixed time per request (mostly waiting, a little
// CPU), so the load generator and the other tenants of a shared CI machine
// do not drown the signal: a queue in front of the runtime would stretch
// admitted latency by the queue length.
const workScript = `export default {
  async fetch() {
    await new Promise(r => setTimeout(r, 40));
    let x = 0;
    for (let i = 0; i < 5000; i++) { x = (x * 31 + i) % 1000003; }
    return new Response(String(x));
  },
};`

func median(d []time.Duration) time.Duration {
	if len(d) == 0 {
		return 0
	}
	slices.Sort(d)
	return d[len(d)/2]
}

func pct(d []time.Duration, p float64) time.Duration {
	if len(d) == 0 {
		return 0
	}
	slices.Sort(d)
	return d[int(float64(len(d)-1)*p)]
}

// TestGateKeepsAdmittedLatency overloads a node whose gate admits 2
// executions: admitted requests must stay near the unloaded latency of the
// same run while the excess is refused at once with 503.
func TestGateKeepsAdmittedLatency(t *testing.T) {
	if testing.Short() || raceEnabled {
		t.Skip("load test: timing is meaningless under -race; scripts/test runs it without")
	}
	f := newFixture(t, func(c *Config) { c.MaxConcurrent = 2 })
	f.addScript(t, "s-work", "app1", workScript)
	f.setRouting([]route.Claim{{ID: "c1", Pattern: "localhost", AppID: "app1"}},
		map[string][]route.Route{"app1": {{ID: "r1", Method: "GET", Path: "/work", Target: "s-work"}}})
	url := "http://localhost:" + f.base[len("http://127.0.0.1:"):] + "/work"
	tr := &http.Transport{MaxIdleConnsPerHost: 64}
	c := &http.Client{Transport: tr, Timeout: 30 * time.Second}
	do := func() (int, time.Duration) {
		start := time.Now()
		resp, err := c.Get(url)
		if err != nil {
			t.Error(err)
			return 0, 0
		}
		_, _ = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		return resp.StatusCode, time.Since(start)
	}
	// Warm the pool and caches, then measure one request at a time.
	for i := 0; i < 10; i++ {
		do()
	}
	var base []time.Duration
	for i := 0; i < 40; i++ {
		if st, d := do(); st == 200 {
			base = append(base, d)
		}
	}
	baseline := median(base)

	const clients = 16
	var (
		mu       sync.Mutex
		admitted []time.Duration
		refused  []time.Duration
		other    atomic.Int64
	)
	stop := time.Now().Add(3 * time.Second)
	var wg sync.WaitGroup
	for i := 0; i < clients; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for time.Now().Before(stop) {
				st, d := do()
				mu.Lock()
				switch st {
				case 200:
					admitted = append(admitted, d)
				case 503:
					refused = append(refused, d)
					// A short pause keeps the in-process load generator
					// from starving the server of CPU; offered load stays
					// 8x the gate's capacity.
					mu.Unlock()
					time.Sleep(10 * time.Millisecond)
					mu.Lock()
				default:
					other.Add(1)
				}
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	ratio := float64(median(admitted)) / float64(baseline)
	t.Logf("baseline median %v; under %d clients: %d admitted (median %v, p90 %v, ratio %.2f), %d refused (median %v)",
		baseline, clients, len(admitted), median(admitted), pct(admitted, 0.9), ratio, len(refused), median(refused))
	if other.Load() > 0 {
		t.Errorf("%d responses neither 200 nor 503", other.Load())
	}
	if len(refused) == 0 || len(admitted) == 0 {
		t.Fatalf("want both admitted and refused requests, got %d and %d", len(admitted), len(refused))
	}
	// Without the gate 16 clients on 2 slots would queue: ~8x the baseline.
	if ratio > 2 {
		t.Errorf("admitted median latency is %.2fx the unloaded baseline, want <= 2x", ratio)
	}
	if median(refused) > baseline {
		t.Errorf("refusals take %v, more than a whole execution (%v): they are not immediate", median(refused), baseline)
	}
}

// okExecutor answers at once, so benchmarks measure dispatch only.
type okExecutor struct{}

func (okExecutor) Execute(_ context.Context, _ *runtime.ExecRequest, w http.ResponseWriter) (runtime.ExecResult, error) {
	w.WriteHeader(200)
	return runtime.ExecResult{Outcome: runtime.OutcomeSuccess, Status: 200, Wrote: true}, nil
}

func benchServer(b *testing.B, nRoutes int) *Server {
	cat := &memCatalog{scripts: map[string]runtime.Script{"s": {ID: "s", AppID: "app1", Version: 1}}}
	routes := make([]route.Route, 0, nRoutes)
	for i := 0; i < nRoutes; i++ {
		switch i % 3 {
		case 0:
			routes = append(routes, route.Route{ID: fmt.Sprint(i), Method: "GET", Path: fmt.Sprintf("/svc%d/items", i), Target: "s"})
		case 1:
			routes = append(routes, route.Route{ID: fmt.Sprint(i), Method: "GET", Path: fmt.Sprintf("/svc%d/items/:id", i), Target: "s"})
		default:
			routes = append(routes, route.Route{ID: fmt.Sprint(i), Method: "*", Path: fmt.Sprintf("/svc%d/files/*path", i), Target: "s"})
		}
	}
	cat.routing = Routing{
		Claims: []route.Claim{{ID: "c1", Pattern: "{tenant}.example.com", AppID: "app1"}, {ID: "c2", Pattern: "api.example.org", AppID: "app2"}},
		Routes: map[string][]route.Route{"app1": routes},
	}
	srv, err := New(Config{Bind: "127.0.0.1:0", Executor: okExecutor{}, Catalog: cat, Admin: http.NotFoundHandler()})
	if err != nil {
		b.Fatal(err)
	}
	return srv
}

func benchmarkDispatch(b *testing.B, nRoutes int) {
	srv := benchServer(b, nRoutes)
	mid := nRoutes / 2
	paths := []string{
		fmt.Sprintf("/svc%d/items", mid-mid%3),
		fmt.Sprintf("/svc%d/items/42", mid-mid%3+1),
		fmt.Sprintf("/svc%d/files/a/b.txt", mid-mid%3+2),
	}
	reqs := make([]*http.Request, len(paths))
	for i, p := range paths {
		reqs[i] = httptest.NewRequest(http.MethodGet, "http://acme.example.com"+p, nil)
	}
	// Build the tables once, as the first request after a change does.
	w := httptest.NewRecorder()
	srv.ServeHTTP(w, reqs[0])
	if w.Code != 200 {
		b.Fatalf("warm-up: %d %s", w.Code, w.Body)
	}
	b.ReportAllocs()
	cpu0 := cpuTime()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		w := httptest.NewRecorder()
		srv.ServeHTTP(w, reqs[i%len(reqs)])
		if w.Code != 200 {
			b.Fatalf("%s: %d", reqs[i%len(reqs)].URL, w.Code)
		}
	}
	b.StopTimer()
	// CPU time per request is steadier than wall time on a shared machine.
	b.ReportMetric(float64(cpuTime()-cpu0)/float64(b.N), "cpu-ns/op")
}

// cpuTime is the process's user+system CPU time.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

func BenchmarkDispatch10Routes(b *testing.B)    { benchmarkDispatch(b, 10) }
func BenchmarkDispatch10000Routes(b *testing.B) { benchmarkDispatch(b, 10000) }

// BenchmarkRebuild10000Routes is the cost of the first request after a
// routing change: compiling 10,000 routes into the tables.
func BenchmarkRebuild10000Routes(b *testing.B) {
	srv := benchServer(b, 10000)
	req := httptest.NewRequest(http.MethodGet, "http://acme.example.com/svc0/items", nil)
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		srv.Invalidate("routing")
		w := httptest.NewRecorder()
		srv.ServeHTTP(w, req)
	}
}
