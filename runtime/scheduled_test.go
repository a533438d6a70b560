package runtime

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/picloud/picloud/internal/limits"
)

func TestScheduled(t *testing.T) {
	e, err := New(Config{Limits: limits.Limits{WallTimeMS: 4000, CPUTimeMS: 1000, CallDepth: 256, LogLines: 10}})
	if err != nil {
		t.Fatal(err)
	}
	at := time.Date(2026, 11, 27, 22, 0, 5, 0, time.UTC)
	cases := []struct {
		name, source string
		wantErr      error
		wantOutcome  Outcome
		wantLogs     []string // substrings, in order
	}{
		{name: "event fields",
			source: `export default { fetch() { return new Response("") },
  scheduled(event, env, ctx) { console.log(event.type, event.cron, event.scheduledTime, typeof event.noRetry, env.GREETING, typeof ctx.waitUntil) } }`,
			wantOutcome: OutcomeSuccess, wantLogs: []string{"scheduled */5 * * * * * " + "1795816805000 function hi function"}},
		{name: "async handler",
			source: `export default { fetch() { return new Response("") },
  async scheduled(event) { await new Promise(r => setTimeout(r, 5)); console.log("after " + event.cron) } }`,
			wantOutcome: OutcomeSuccess, wantLogs: []string{"after */5 * * * * *"}},
		{name: "waitUntil runs to its end",
			source: `export default { fetch() { return new Response("") },
  scheduled(event, env, ctx) { ctx.waitUntil(new Promise(r => setTimeout(r, 20)).then(() => console.log("waited"))); console.log("returned") } }`,
			wantOutcome: OutcomeSuccess, wantLogs: []string{"returned", "waited"}},
		{name: "no scheduled handler",
			source:  `export default { fetch() { return new Response("") } }`,
			wantErr: ErrNoScheduled, wantOutcome: OutcomeError, wantLogs: []string{"no scheduled handler"}},
		{name: "scheduled is not a function",
			source:  `export default { fetch() { return new Response("") }, scheduled: 42 }`,
			wantErr: ErrNoScheduled, wantOutcome: OutcomeError},
		{name: "throws",
			source:  `export default { fetch() { return new Response("") }, scheduled() { throw new Error("boom") } }`,
			wantErr: ErrScript, wantOutcome: OutcomeError, wantLogs: []string{"boom"}},
		{name: "rejects",
			source:  `export default { fetch() { return new Response("") }, async scheduled() { throw new Error("later") } }`,
			wantErr: ErrScript, wantOutcome: OutcomeError, wantLogs: []string{"later"}},
		{name: "cpu limit",
			source:  `export default { fetch() { return new Response("") }, scheduled() { for (;;) {} } }`,
			wantErr: ErrLimit, wantOutcome: OutcomeLimit},
		{name: "wall time limit",
			source:  `export default { fetch() { return new Response("") }, async scheduled() { for (;;) await new Promise(r => setTimeout(r, 50)) } }`,
			wantErr: ErrTimeout, wantOutcome: OutcomeTimeout},
		{name: "waitUntil past the wall time",
			source:  `export default { fetch() { return new Response("") }, scheduled(e, env, ctx) { ctx.waitUntil(new Promise(() => { setInterval(() => {}, 50) })) } }`,
			wantErr: ErrTimeout, wantOutcome: OutcomeTimeout},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			s := deployed(t, strings.ReplaceAll(tc.name, " ", "-"), tc.source, "")
			s.Bindings = []byte(`{"GREETING":{"type":"text","value":"hi"}}`)
			if tc.wantOutcome == OutcomeTimeout {
				s.Limits = limits.Limits{WallTimeMS: 300}
			}
			res, err := e.Scheduled(context.Background(), &ScheduledRequest{Script: s, Cron: "*/5 * * * * *", ScheduledTime: at, ExecutionID: "x1"})
			if tc.wantErr == nil && err != nil {
				t.Fatalf("Scheduled: %v (logs %v)", err, res.Logs)
			}
			if tc.wantErr != nil && !errors.Is(err, tc.wantErr) {
				t.Fatalf("err = %v, want %v", err, tc.wantErr)
			}
			if res.Outcome != tc.wantOutcome {
				t.Errorf("outcome = %q, want %q", res.Outcome, tc.wantOutcome)
			}
			if res.Status != 0 || res.Wrote {
				t.Errorf("status %d wrote %v: a scheduled run has no response", res.Status, res.Wrote)
			}
			i := 0
			for _, l := range res.Logs {
				if i < len(tc.wantLogs) && strings.Contains(l.Message, tc.wantLogs[i]) {
					i++
				}
			}
			if i != len(tc.wantLogs) {
				t.Errorf("logs %+v do not contain %q in order", res.Logs, tc.wantLogs)
			}
		})
	}
}

// A runtime that ran a scheduled handler serves fetch (and the next tick)
// cleanly: waitUntil promises and timers do not leak across.
func TestScheduledThenFetchReusesRuntime(t *testing.T) {
	e, err := New(Config{Limits: limits.Limits{WallTimeMS: 4000, CPUTimeMS: 1000}, PoolSize: 1})
	if err != nil {
		t.Fatal(err)
	}
	s := deployed(t, "mixed", `let n = 0;
export default { fetch() { return new Response("n=" + n) },
  scheduled(e, env, ctx) { n++; ctx.waitUntil(Promise.resolve()) } }`, "")
	for i := range 2 {
		if _, err := e.Scheduled(context.Background(), &ScheduledRequest{Script: s, Cron: "* * * * *", ScheduledTime: time.Now()}); err != nil {
			t.Fatalf("tick %d: %v", i, err)
		}
	}
	w, _, err := execute(t, e, s, "GET", "http://x/", "")
	if err != nil {
		t.Fatal(err)
	}
	if got := w.Body.String(); got != "n=2" {
		t.Errorf("body %q, want n=2 (the pooled runtime was not reused)", got)
	}
}

// TestScheduledOnlyModule: a module with only scheduled loads and ticks;
// a request to it fails with ErrNoFetch, and one with neither handler
// fails to load.
func TestScheduledOnlyModule(t *testing.T) {
	e := newTestEngine(t, Config{})
	s := deployed(t, "cron-only", `export default { scheduled(event) { console.log("tick " + event.cron) } }`, "")
	res, err := e.Scheduled(context.Background(), &ScheduledRequest{Script: s, Cron: "* * * * * *", ScheduledTime: time.Now()})
	if err != nil || len(res.Logs) != 1 || res.Logs[0].Message != "tick * * * * * *" {
		t.Fatalf("tick = %v, logs %v", err, res.Logs)
	}
	if _, _, err := execute(t, e, s, "GET", "http://x/", ""); !errors.Is(err, ErrNoFetch) || !errors.Is(err, ErrScript) {
		t.Fatalf("request to a scheduled-only module = %v, want ErrNoFetch", err)
	}
	none := deployed(t, "neither", `export default { other() {} }`, "")
	if _, _, err := execute(t, e, none, "GET", "http://x/", ""); !errors.Is(err, ErrScript) || !strings.Contains(err.Error(), "neither a fetch nor a scheduled handler") {
		t.Fatalf("module with neither handler = %v", err)
	}
}
