package manager

import (
	"context"
	"net/url"
	"testing"
	"time"
)

// fakeNodeStats stands in for the edge and runtime (which the manager does
// not import); only the plumbing is under test here.
type fakeNodeStats struct{}

func (fakeNodeStats) NodeStats() NodeStats {
	return NodeStats{Gate: GateStats{InUse: 1, Capacity: 32, Rejections: 7}, Requests: 40,
		Executions: map[string]int64{"success": 30}, Runtime: RuntimeStats{Idle: 2}}
}

type metricsBody struct {
	App         string          `json:"app"`
	Since       time.Time       `json:"since"`
	Until       time.Time       `json:"until"`
	StepSeconds int64           `json:"step_seconds"`
	Totals      MetricPoint     `json:"totals"`
	Scripts     []ScriptMetrics `json:"scripts"`
	Node        *NodeStats      `json:"node"`
}

func TestMetricsBucketsPerScript(t *testing.T) {
	f := newLogFixture(t, LogConfig{})
	ctx := context.Background()
	t0 := time.Date(2026, 1, 1, 10, 0, 0, 0, time.UTC)
	at := func(s Deployed, off time.Duration, ms int, outcome string) ExecutionRecord {
		d := time.Duration(ms) * time.Millisecond
		return ExecutionRecord{ExecutionID: newTestID(), AppID: f.shop.ID, ScriptID: s.ID, Version: 1, Method: "GET",
			Path: "/x", Status: 200, Outcome: outcome, Duration: d, Finished: t0.Add(off).Add(d)}
	}
	other, err := f.m.CreateApp(ctx, "other", "")
	if err != nil {
		t.Fatal(err)
	}
	od, err := f.m.Deploy(ctx, DeployInput{App: "other", Name: "o", Source: "export default {}"})
	if err != nil {
		t.Fatal(err)
	}
	f.m.writeBatch(ctx, []ExecutionRecord{
		at(f.a, 10*time.Second, 1, "success"),
		at(f.a, 20*time.Second, 3, "success"),
		at(f.a, 30*time.Second, 5, "error"),
		at(f.a, 70*time.Second, 2, "timeout"),
		at(f.b, 15*time.Second, 10, "limit"),
		at(f.a, -10*time.Second, 9, "success"), // before the range
		at(f.a, 120*time.Second, 9, "success"), // at until: excluded
		{ExecutionID: newTestID(), AppID: other.ID, ScriptID: od.ID, Version: 1, Method: "GET", Path: "/",
			Status: 200, Outcome: "success", Duration: time.Millisecond, Finished: t0.Add(20 * time.Second)},
	})

	q := url.Values{"app": {"shop"}, "since": {t0.Add(5 * time.Second).Format(time.RFC3339)},
		"until": {t0.Add(2 * time.Minute).Format(time.RFC3339)}, "step": {"60"}}
	var got metricsBody
	if st := f.get(t, "/metrics?"+q.Encode(), &got); st != 200 {
		t.Fatalf("GET /metrics = %d", st)
	}
	if !got.Since.Equal(t0) || got.StepSeconds != 60 || got.App != "shop" {
		t.Errorf("since %v step %d app %q; want since aligned to %v, step 60, app shop", got.Since, got.StepSeconds, got.App, t0)
	}
	if want := (MetricPoint{Count: 5, Errors: 3, Timeouts: 1, Limits: 1, P50MS: 3, P95MS: 9, MaxMS: 10}); got.Totals != want {
		t.Errorf("totals %+v, want %+v", got.Totals, want)
	}
	if got.Node != nil {
		t.Errorf("node stats %+v without a source", got.Node)
	}
	byName := map[string]ScriptMetrics{}
	for _, s := range got.Scripts {
		byName[s.Script] = s
	}
	if len(got.Scripts) != 2 {
		t.Fatalf("scripts %+v, want a and b", got.Scripts)
	}
	a, b := byName["a"], byName["b"]
	if a.ScriptID != f.a.ID || b.ScriptID != f.b.ID {
		t.Fatalf("script ids a=%s b=%s", a.ScriptID, b.ScriptID)
	}
	if want := (MetricPoint{Count: 4, Errors: 2, Timeouts: 1, P50MS: 2.5, P95MS: 4.7, MaxMS: 5}); a.Totals != want {
		t.Errorf("a totals %+v, want %+v", a.Totals, want)
	}
	type bucket struct {
		at time.Time
		p  MetricPoint
	}
	var bs []bucket
	for _, p := range a.Buckets {
		tm := *p.Time
		p.Time = nil
		bs = append(bs, bucket{tm, p})
	}
	want := []bucket{
		// percentile_cont over 1, 3, 5 ms: p95 = 3 + 0.9*2.
		{t0, MetricPoint{Count: 3, Errors: 1, P50MS: 3, P95MS: 4.8, MaxMS: 5}},
		{t0.Add(time.Minute), MetricPoint{Count: 1, Errors: 1, Timeouts: 1, P50MS: 2, P95MS: 2, MaxMS: 2}},
	}
	if len(bs) != len(want) {
		t.Fatalf("a buckets %+v, want %+v", bs, want)
	}
	for i := range want {
		if !bs[i].at.Equal(want[i].at) || bs[i].p != want[i].p {
			t.Errorf("a bucket %d = %v %+v, want %v %+v", i, bs[i].at, bs[i].p, want[i].at, want[i].p)
		}
	}
	if len(b.Buckets) != 1 || b.Buckets[0].Count != 1 || b.Buckets[0].Limits != 1 || b.Buckets[0].P50MS != 10 {
		t.Errorf("b buckets %+v", b.Buckets)
	}

	// One script, by name; the node's numbers when the node reports them.
	f.m.nodeStats = fakeNodeStats{}
	q.Set("script", "b")
	got = metricsBody{}
	if st := f.get(t, "/metrics?"+q.Encode(), &got); st != 200 {
		t.Fatalf("GET /metrics?script=b = %d", st)
	}
	if len(got.Scripts) != 1 || got.Scripts[0].ScriptID != f.b.ID || got.Totals.Count != 1 {
		t.Errorf("script=b gave %+v totals %+v", got.Scripts, got.Totals)
	}
	if got.Node == nil || got.Node.Gate.Capacity != 32 || got.Node.Gate.Rejections != 7 || got.Node.Database.Max < 1 {
		t.Errorf("node stats %+v, want the source's plus the database pool", got.Node)
	}
	q.Set("node", "false")
	got = metricsBody{}
	if f.get(t, "/metrics?"+q.Encode(), &got); got.Node != nil {
		t.Errorf("node=false still gave %+v", got.Node)
	}

	// No executions: empty lists, not null; the default range ends now.
	got = metricsBody{}
	if st := f.get(t, "/metrics?app=other&since=1m", &got); st != 200 || got.Scripts == nil || len(got.Scripts) != 0 || got.Totals.Count != 0 {
		t.Errorf("empty range: %d %+v", st, got)
	}
	if got.StepSeconds != 10 {
		t.Errorf("auto step over a minute = %d s, want 10", got.StepSeconds)
	}
}

func TestMetricsRefusesBadQueries(t *testing.T) {
	f := newLogFixture(t, LogConfig{})
	for _, tc := range []struct {
		name, query string
		status      int
	}{
		{"unknown parameter", "app=shop&bucket=1", 400},
		{"step under a second", "app=shop&step=500ms", 422},
		{"step not a number", "app=shop&step=often", 422},
		{"too many buckets", "app=shop&since=2h&step=1", 422},
		{"since after until", "app=shop&since=1m&until=2m", 422},
		{"bad time", "app=shop&since=yesterday", 422},
		{"unknown script", "app=shop&script=nope", 404},
		{"unknown app", "app=nope", 404},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var e errBody
			if st := f.get(t, "/metrics?"+tc.query, &e); st != tc.status || e.Error.Message == "" {
				t.Errorf("GET /metrics?%s = %d %+v, want %d with a message", tc.query, st, e, tc.status)
			}
		})
	}
}

func TestAutoStep(t *testing.T) {
	for _, tc := range []struct {
		span, want time.Duration
	}{
		{time.Minute, 10 * time.Second},
		{10 * time.Minute, 10 * time.Second},
		{time.Hour, time.Minute},
		{6 * time.Hour, 15 * time.Minute},
		{7 * 24 * time.Hour, 3 * time.Hour},
		{365 * 24 * time.Hour, 24 * time.Hour},
	} {
		if got := autoStep(tc.span); got != tc.want {
			t.Errorf("autoStep(%v) = %v, want %v", tc.span, got, tc.want)
		}
	}
}
