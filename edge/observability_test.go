package edge

import (
	"bufio"
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"

	"github.com/picloud/picloud/internal/limits"
	"github.com/picloud/picloud/internal/route"
)

const paramsScript = `export default {
  async fetch(request, env, ctx) {
    console.log("params for", ctx.params.tenant);
    return Response.json({ params: ctx.params });
  },
};`

const throwScript = `export default { fetch() { throw new Error("boom"); } };`

type fakeStats struct{}

func (fakeStats) PoolStats() PoolStats { return PoolStats{Pools: 2, Idle: 3, Busy: 1, Instances: 7} }
func (fakeStats) DBStats() DBStats {
	return DBStats{Total: 4, Idle: 3, Acquired: 1, Max: 8, AcquireCount: 11, AcquireDurationSeconds: 0.5}
}

func TestParamsEndToEnd(t *testing.T) {
	f := newFixture(t, nil)
	f.addScript(t, "s-params", "app1", paramsScript)
	f.setRouting(
		[]route.Claim{{ID: "c1", Pattern: "{tenant}.example.com", AppID: "app1"}},
		map[string][]route.Route{"app1": {{ID: "r1", Method: "GET", Path: "/users/:id/files/*path", Target: "s-params"}}},
	)
	tests := []struct {
		name   string
		host   string
		path   string
		status int
		want   map[string]string
	}{
		{"host and path params", "acme.example.com", "/users/42/files/a/b.txt", 200,
			map[string]string{"tenant": "acme", "id": "42", "path": "a/b.txt"}},
		{"port stripped, case folded", "Beta.Example.com:8443", "/users/7/files/x", 200,
			map[string]string{"tenant": "beta", "id": "7", "path": "x"}},
		{"unclaimed host", "example.com", "/users/1/files/x", 404, nil},
		{"no route", "acme.example.com", "/nope", 404, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			status, _, body := get(t, f.base+tt.path, tt.host)
			if status != tt.status {
				t.Fatalf("status %d, want %d: %s", status, tt.status, body)
			}
			if tt.want == nil {
				return
			}
			var got struct{ Params map[string]string }
			if err := json.Unmarshal([]byte(body), &got); err != nil {
				t.Fatalf("body %q: %v", body, err)
			}
			for k, v := range tt.want {
				if got.Params[k] != v {
					t.Errorf("params[%s] = %q, want %q (all: %v)", k, got.Params[k], v, got.Params)
				}
			}
		})
	}
}

func TestAccessLogAndRequestID(t *testing.T) {
	f := newFixture(t, nil)
	f.addScript(t, "s-params", "app1", paramsScript)
	f.setRouting([]route.Claim{{ID: "c1", Pattern: "{tenant}.example.com", AppID: "app1"}},
		map[string][]route.Route{"app1": {{ID: "r1", Method: "*", Path: "/*", Target: "s-params"}}})

	req, _ := http.NewRequest(http.MethodGet, f.base+"/hello", nil)
	req.Host = "t1.example.com"
	req.Header.Set("X-Request-Id", "my-req-123")
	resp, err := client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if got := resp.Header.Get("X-Request-Id"); got != "my-req-123" {
		t.Errorf("X-Request-Id echoed as %q", got)
	}
	// An id with spaces or control characters is replaced, not echoed.
	req.Header.Set("X-Request-Id", "bad id with spaces")
	resp, err = client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	generated := resp.Header.Get("X-Request-Id")
	if generated == "" || strings.Contains(generated, "bad") {
		t.Errorf("X-Request-Id = %q, want a generated id", generated)
	}

	// The line is written after the response went out: give it a moment.
	var logs string
	var access []string
	for deadline := time.Now().Add(3 * time.Second); time.Now().Before(deadline); time.Sleep(10 * time.Millisecond) {
		logs = f.logs.String()
		if access = logLines(logs, "request"); len(access) >= 2 {
			break
		}
	}
	if len(access) != 2 {
		t.Fatalf("%d access lines, want 2 (one per request):\n%s", len(access), logs)
	}
	// Each line is written after its response went out, so the second
	// request's line may come first: find the first request's by its id.
	var line map[string]any
	for _, l := range access {
		var m map[string]any
		if err := json.Unmarshal([]byte(l), &m); err != nil {
			t.Fatal(err)
		}
		if m["request_id"] == "my-req-123" {
			line = m
		}
	}
	if line == nil {
		t.Fatalf("no access line with request_id my-req-123:\n%s", logs)
	}
	want := map[string]any{"request_id": "my-req-123", "method": "GET", "path": "/hello", "status": 200.0,
		"app_id": "app1", "script_id": "s-params", "route_id": "r1", "host": "t1.example.com", "component": "access"}
	for k, v := range want {
		if line[k] != v {
			t.Errorf("access log %s = %v, want %v", k, line[k], v)
		}
	}
	// The script's console line carries the same request id.
	var tagged bool
	for _, l := range logLines(logs, "script log") {
		if strings.Contains(l, `"request_id":"my-req-123"`) && strings.Contains(l, "params for t1") {
			tagged = true
		}
	}
	if !tagged {
		t.Errorf("no script console line tagged with the request id:\n%s", logs)
	}
}

func TestMetricsScrape(t *testing.T) {
	f := newFixture(t, func(c *Config) {
		c.RuntimeStats = fakeStats{}
		c.DatabaseStats = fakeStats{}
	})
	f.addScript(t, "s-ok", "app1", paramsScript)
	f.addScript(t, "s-throw", "app1", throwScript)
	f.addScript(t, "s-slow", "app1", `export default { async fetch() { await scheduler.wait(5000); return new Response("late") } }`)
	f.setLimits(t, "s-slow", limits.Limits{WallTimeMS: 200})
	f.addScript(t, "s-spin", "app1", `export default { fetch() { for (;;) {} } }`)
	f.setLimits(t, "s-spin", limits.Limits{CPUTimeMS: 100})
	f.setRouting([]route.Claim{{ID: "c1", Pattern: "app.test", AppID: "app1"}},
		map[string][]route.Route{"app1": {
			{ID: "r-ok", Method: "GET", Path: "/ok", Target: "s-ok"},
			{ID: "r-throw", Method: "GET", Path: "/throw", Target: "s-throw"},
			{ID: "r-slow", Method: "GET", Path: "/slow", Target: "s-slow"},
			{ID: "r-spin", Method: "GET", Path: "/spin", Target: "s-spin"},
		}})
	for i := 0; i < 3; i++ {
		if st, _, b := get(t, f.base+"/ok", "app.test"); st != 200 {
			t.Fatalf("/ok = %d %s", st, b)
		}
	}
	if st, _, _ := get(t, f.base+"/throw", "app.test"); st != 500 {
		t.Fatalf("/throw = %d", st)
	}
	if st, _, _ := get(t, f.base+"/slow", "app.test"); st != 504 {
		t.Fatalf("/slow = %d, want 504", st)
	}
	if st, _, _ := get(t, f.base+"/spin", "app.test"); st != 500 {
		t.Fatalf("/spin = %d, want 500", st)
	}
	if st, _, _ := get(t, f.base+"/x", "other.test"); st != 404 {
		t.Fatalf("unknown host = %d", st)
	}
	// Fill the gate so the next execution is refused.
	for i := 0; i < cap(f.srv.gate); i++ {
		f.srv.gate <- struct{}{}
	}
	st, h, _ := get(t, f.base+"/ok", "app.test")
	for i := 0; i < cap(f.srv.gate); i++ {
		<-f.srv.gate
	}
	if st != 503 || h.Get("Retry-After") != "1" {
		t.Fatalf("full gate = %d, Retry-After %q", st, h.Get("Retry-After"))
	}

	// Metrics are recorded after the response went out: wait for the
	// requests above to be fully done.
	waitFor(t, 5*time.Second, func() bool { return f.srv.inflight.Load() == 0 })
	// The JSON snapshot for the admin API reads the same numbers.
	st2 := f.srv.Stats()
	if st2.Requests != 8 || st2.GateRejections != 1 || st2.GateCapacity != 32 || st2.GateInUse != 0 ||
		st2.Executions["success"] != 3 || st2.Executions["error"] != 1 || st2.Executions["timeout"] != 1 || st2.Executions["limit"] != 1 || st2.Runtime.Idle != 3 {
		t.Errorf("Stats() = %+v", st2)
	}
	status, hdr, body := get(t, f.base+"/metrics", "")
	if status != 200 {
		t.Fatalf("/metrics = %d", status)
	}
	if ct := hdr.Get("Content-Type"); !strings.HasPrefix(ct, "text/plain") {
		t.Errorf("content type %q", ct)
	}
	parser := expfmt.NewTextParser(model.UTF8Validation)
	fams, err := parser.TextToMetricFamilies(strings.NewReader(body))
	if err != nil {
		t.Fatalf("parsing /metrics: %v\n%s", err, body)
	}
	tests := []struct {
		name   string
		family string
		labels map[string]string
		want   float64
	}{
		{"ok requests", "picloud_http_requests_total", map[string]string{"app": "app1", "script": "s-ok", "route": "r-ok", "status_class": "2xx"}, 3},
		{"failed request", "picloud_http_requests_total", map[string]string{"app": "app1", "script": "s-throw", "route": "r-throw", "status_class": "5xx"}, 1},
		{"rejected request", "picloud_http_requests_total", map[string]string{"app": "app1", "script": "s-ok", "route": "r-ok", "status_class": "5xx"}, 1},
		{"unknown host", "picloud_http_requests_total", map[string]string{"app": "", "status_class": "4xx"}, 1},
		{"latency count", "picloud_http_request_duration_seconds", map[string]string{"app": "app1", "route": "r-ok"}, 4},
		{"successes", "picloud_executions_total", map[string]string{"outcome": "success"}, 3},
		{"errors", "picloud_executions_total", map[string]string{"outcome": "error"}, 1},
		{"timeouts", "picloud_executions_total", map[string]string{"outcome": "timeout"}, 1},
		{"limits", "picloud_executions_total", map[string]string{"outcome": "limit"}, 1},
		{"timed-out request", "picloud_http_requests_total", map[string]string{"app": "app1", "script": "s-slow", "route": "r-slow", "status_class": "5xx"}, 1},
		{"execution latency by outcome", "picloud_execution_duration_seconds", map[string]string{"outcome": "success"}, 3},
		{"script errors latency", "picloud_execution_duration_seconds", map[string]string{"outcome": "limit"}, 1},
		{"gate rejections", "picloud_gate_rejections_total", nil, 1},
		{"gate capacity", "picloud_gate_capacity", nil, 32},
		{"cache hits", "picloud_script_cache_total", map[string]string{"result": "hit"}, 3},
		{"cache misses", "picloud_script_cache_total", map[string]string{"result": "miss"}, 4},
		{"pools", "picloud_runtime_pools", nil, 2},
		{"pool idle", "picloud_runtime_instances_idle", nil, 3},
		{"pool busy", "picloud_runtime_instances_busy", nil, 1},
		{"instances created", "picloud_runtime_instances_created_total", nil, 7},
		{"db connections", "picloud_db_pool_connections", nil, 4},
		{"db idle", "picloud_db_pool_idle_connections", nil, 3},
		{"db acquires", "picloud_db_pool_acquires_total", nil, 11},
		{"db acquire time", "picloud_db_pool_acquire_seconds_total", nil, 0.5},
		{"db acquired", "picloud_db_pool_acquired_connections", nil, 1},
		{"db max", "picloud_db_pool_max_connections", nil, 8},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fam := fams[tt.family]
			if fam == nil {
				t.Fatalf("family %s missing", tt.family)
			}
			got, ok := sample(fam, tt.labels)
			if !ok {
				t.Fatalf("no %s series with %v", tt.family, tt.labels)
			}
			if got != tt.want {
				t.Errorf("%s%v = %v, want %v", tt.family, tt.labels, got, tt.want)
			}
		})
	}
}

// sample returns the value of the first series of fam with labels.
func sample(fam *dto.MetricFamily, labels map[string]string) (float64, bool) {
next:
	for _, m := range fam.GetMetric() {
		have := map[string]string{}
		for _, lp := range m.GetLabel() {
			have[lp.GetName()] = lp.GetValue()
		}
		for k, v := range labels {
			if have[k] != v {
				continue next
			}
		}
		switch {
		case m.Counter != nil:
			return m.Counter.GetValue(), true
		case m.Gauge != nil:
			return m.Gauge.GetValue(), true
		case m.Histogram != nil:
			return float64(m.Histogram.GetSampleCount()), true
		case m.Untyped != nil:
			return m.Untyped.GetValue(), true
		}
	}
	return 0, false
}

// The access-log writer must not buffer a streamed response.
func TestStreamingThroughRecorder(t *testing.T) {
	f := newFixture(t, nil)
	f.addScript(t, "s-stream", "app1", `export default { fetch() {
  const { readable, writable } = new TransformStream();
  const w = writable.getWriter();
  (async () => {
    await w.write(new TextEncoder().encode("first\n"));
    await new Promise(r => setTimeout(r, 1500));
    await w.write(new TextEncoder().encode("second\n"));
    await w.close();
  })();
  return new Response(readable);
} }`)
	f.setRouting([]route.Claim{{ID: "c1", Pattern: "localhost", AppID: "app1"}},
		map[string][]route.Route{"app1": {{ID: "r1", Method: "GET", Path: "/s", Target: "s-stream"}}})
	start := time.Now()
	resp, err := client.Get("http://localhost:" + f.base[len("http://127.0.0.1:"):] + "/s")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	line, err := bufio.NewReader(resp.Body).ReadString('\n')
	if err != nil || line != "first\n" {
		t.Fatalf("first line %q, %v", line, err)
	}
	if d := time.Since(start); d > time.Second {
		t.Fatalf("first line after %v: the stream was buffered", d)
	}
}
