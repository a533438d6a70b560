package manager

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/picloud/picloud/internal/pgtest"
)

// logFixture is a manager with a running execution log, an app "shop"
// with scripts "a" and "b", and an admin token.
type logFixture struct {
	m      *Manager
	srv    *httptest.Server
	token  string
	shop   App
	a, b   Deployed
	stopOn sync.Once
}

func newLogFixture(t *testing.T, cfg LogConfig) *logFixture {
	t.Helper()
	ctx := context.Background()
	if cfg.FlushInterval == 0 {
		cfg.FlushInterval = 10 * time.Millisecond
	}
	m, err := Open(ctx, Config{DatabaseURL: pgtest.DSN(t), Compiler: fakeCompiler{}, Logs: cfg})
	if err != nil {
		t.Fatal(err)
	}
	f := &logFixture{m: m}
	runCtx, cancel := context.WithCancel(ctx)
	go m.RunExecutionLog(runCtx)
	f.srv = httptest.NewServer(m.Handler())
	t.Cleanup(func() {
		f.srv.Close()
		cancel()
		f.stop()
		m.Close()
	})
	if _, err := m.EnsureAdmin(ctx, "root", "pw-root-123", false); err != nil {
		t.Fatal(err)
	}
	s, err := m.Login(ctx, "root", "pw-root-123")
	if err != nil {
		t.Fatal(err)
	}
	f.token = s.Token
	if f.shop, err = m.CreateApp(ctx, "shop", "Shop"); err != nil {
		t.Fatal(err)
	}
	for name, dst := range map[string]*Deployed{"a": &f.a, "b": &f.b} {
		if *dst, err = m.Deploy(ctx, DeployInput{App: "shop", Name: name, Source: "export default {}"}); err != nil {
			t.Fatal(err)
		}
	}
	return f
}

func (f *logFixture) stop() { f.stopOn.Do(f.m.StopExecutionLog) }

func (f *logFixture) record(script Deployed, outcome string, lines ...ConsoleLine) ExecutionRecord {
	rec := ExecutionRecord{
		ExecutionID: newTestID(), RequestID: "req-" + newTestID(), AppID: f.shop.ID, ScriptID: script.ID,
		Version: script.Version, Method: "GET", Path: "/x", Status: 200, Outcome: outcome,
		Duration: 1500 * time.Microsecond, Lines: lines,
	}
	f.m.RecordExecution(context.Background(), rec)
	return rec
}

var testIDs struct {
	sync.Mutex
	n int
}

func newTestID() string {
	testIDs.Lock()
	defer testIDs.Unlock()
	testIDs.n++
	return fmt.Sprintf("id%06d", testIDs.n)
}

// waitWritten waits until the writer stored n executions in total.
func (f *logFixture) waitWritten(t *testing.T, n int64) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for f.m.ExecutionLogStats().Written < n {
		if time.Now().After(deadline) {
			t.Fatalf("writer stored %+v, want %d", f.m.ExecutionLogStats(), n)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func (f *logFixture) get(t *testing.T, path string, out any) int {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, f.srv.URL+APIPrefix+path, nil)
	req.Header.Set("Authorization", "Bearer "+f.token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if out != nil {
		if err := json.Unmarshal(b, out); err != nil {
			t.Fatalf("GET %s: %d %s: %v", path, resp.StatusCode, b, err)
		}
	}
	return resp.StatusCode
}

func line(level, msg string) ConsoleLine {
	return ConsoleLine{Time: time.Now(), Level: level, Message: msg}
}

type execPage struct {
	Executions []Execution `json:"executions"`
	NextCursor string      `json:"next_cursor"`
}

type logPageBody struct {
	Logs       []LogEntry `json:"logs"`
	NextCursor string     `json:"next_cursor"`
}

func TestExecutionLogStoresAndFilters(t *testing.T) {
	f := newLogFixture(t, LogConfig{})
	f.record(f.a, "success", line("info", "hello from a"), line("debug", "details"))
	errRec := f.record(f.b, "error", line("warn", "careful"), line("error", "boom"))
	f.record(f.b, "timeout")
	f.waitWritten(t, 3)

	var all execPage
	if st := f.get(t, "/executions?app=shop", &all); st != 200 || len(all.Executions) != 3 || all.NextCursor != "" {
		t.Fatalf("executions = %d %+v", st, all)
	}
	newest := all.Executions[0]
	if newest.Outcome != "timeout" || newest.Script != "b" || newest.App != "shop" || newest.DurationMS != 1.5 || newest.Method != "GET" {
		t.Fatalf("newest execution = %+v", newest)
	}

	cases := []struct {
		name  string
		query string
		want  []string // messages, newest first
	}{
		{"all lines", "/logs?app=shop", []string{"boom", "careful", "details", "hello from a"}},
		{"by app", "/logs?app=shop", []string{"boom", "careful", "details", "hello from a"}},
		{"by script name", "/logs?app=shop&script=a", []string{"details", "hello from a"}},
		{"by script id", "/logs?script=" + f.b.ID, []string{"boom", "careful"}},
		{"min level warn", "/logs?app=shop&level=warn", []string{"boom", "careful"}},
		{"min level error", "/logs?app=shop&level=error", []string{"boom"}},
		{"level log means info", "/logs?app=shop&level=log", []string{"boom", "careful", "hello from a"}},
		{"by outcome", "/logs?app=shop&outcome=success", []string{"details", "hello from a"}},
		{"by execution", "/logs?app=shop&execution=" + errRec.ExecutionID, []string{"boom", "careful"}},
		{"since 1h", "/logs?app=shop&since=1h", []string{"boom", "careful", "details", "hello from a"}},
		{"until an hour ago", "/logs?app=shop&until=1h", nil},
		{"since the future", "/logs?app=shop&since=" + time.Now().Add(time.Hour).UTC().Format(time.RFC3339), nil},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var page logPageBody
			if st := f.get(t, tc.query, &page); st != 200 {
				t.Fatalf("status %d", st)
			}
			var got []string
			for _, l := range page.Logs {
				got = append(got, l.Message)
			}
			if strings.Join(got, "|") != strings.Join(tc.want, "|") {
				t.Fatalf("got %q, want %q", got, tc.want)
			}
		})
	}

	var withLines execPage
	f.get(t, "/executions?app=shop&outcome=error&lines=true", &withLines)
	if len(withLines.Executions) != 1 || len(withLines.Executions[0].Logs) != 2 || withLines.Executions[0].Logs[0].Message != "careful" {
		t.Fatalf("executions with lines = %+v", withLines)
	}
	var one Execution
	if st := f.get(t, "/executions/"+errRec.ExecutionID, &one); st != 200 || one.ID != errRec.ExecutionID || len(one.Logs) != 2 || one.RequestID != errRec.RequestID {
		t.Fatalf("execution by id = %d %+v", st, one)
	}
	var e struct{ Error Error }
	if st := f.get(t, "/executions/nope", &e); st != 404 {
		t.Fatalf("unknown execution = %d", st)
	}
	var levelSel execPage
	f.get(t, "/executions?app=shop&level=error", &levelSel)
	if len(levelSel.Executions) != 1 || levelSel.Executions[0].ID != errRec.ExecutionID {
		t.Fatalf("executions with an error line = %+v", levelSel)
	}
}

func TestExecutionLogRefusesBadQueries(t *testing.T) {
	f := newLogFixture(t, LogConfig{})
	cases := []struct {
		name   string
		query  string
		status int
		code   string
	}{
		{"limit too big", "/logs?app=shop&limit=201", 422, "invalid_limit"},
		{"limit zero", "/executions?app=shop&limit=0", 422, "invalid_limit"},
		{"bad cursor", "/logs?app=shop&cursor=abc", 422, "invalid_cursor"},
		{"bad level", "/logs?app=shop&level=loud", 422, "invalid_level"},
		{"bad outcome", "/executions?app=shop&outcome=meh", 422, "invalid_outcome"},
		{"bad time", "/logs?app=shop&since=yesterday", 422, "invalid_time"},
		{"unknown app", "/logs?app=nope", 404, "not_found"},
		{"no app means default", "/logs?script=a", 404, "not_found"},
		{"unknown script id", "/logs?script=00000000-0000-0000-0000-000000000000", 404, "not_found"},
		{"unknown script", "/logs?app=shop&script=zzz", 404, "not_found"},
		{"unknown parameter", "/logs?lvl=warn", 400, "unknown_parameter"},
		{"since on a tail", "/logs/tail?app=shop&since=1h", 422, "invalid_parameter"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var body struct {
				Error struct{ Code, Message string }
			}
			if st := f.get(t, tc.query, &body); st != tc.status || body.Error.Code != tc.code || body.Error.Message == "" {
				t.Fatalf("got %d %+v, want %d %s", st, body, tc.status, tc.code)
			}
		})
	}
	req, _ := http.NewRequest(http.MethodGet, f.srv.URL+APIPrefix+"/logs", nil)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 401 {
		t.Fatalf("logs without a token = %d, want 401", resp.StatusCode)
	}
}

func TestExecutionLogPaging(t *testing.T) {
	f := newLogFixture(t, LogConfig{BatchSize: 16})
	const n = 205
	for i := range n {
		f.record(f.a, "success", line("info", fmt.Sprintf("line %03d", i)))
	}
	f.waitWritten(t, n)

	var seen []string
	cursor := ""
	pages := 0
	for {
		var page logPageBody
		q := "/logs?app=shop&limit=100"
		if cursor != "" {
			q += "&cursor=" + cursor
		}
		if st := f.get(t, q, &page); st != 200 {
			t.Fatalf("page %d: %d", pages, st)
		}
		pages++
		for _, l := range page.Logs {
			seen = append(seen, l.Message)
		}
		if page.NextCursor == "" {
			break
		}
		cursor = page.NextCursor
	}
	if pages != 3 || len(seen) != n || seen[0] != "line 204" || seen[n-1] != "line 000" {
		t.Fatalf("%d pages, %d lines, first %q last %q", pages, len(seen), seen[0], seen[len(seen)-1])
	}
	var page execPage
	f.get(t, "/executions?app=shop", &page)
	if len(page.Executions) != 50 || page.NextCursor == "" {
		t.Fatalf("default page has %d executions, cursor %q", len(page.Executions), page.NextCursor)
	}
	f.get(t, "/executions?app=shop&limit=200", &page)
	if len(page.Executions) != 200 {
		t.Fatalf("limit=200 gave %d", len(page.Executions))
	}
}

func TestExecutionLogNeverBlocksAndCountsDrops(t *testing.T) {
	ctx := context.Background()
	// No writer runs: the queue of 4 fills and the rest is dropped.
	m, err := Open(ctx, Config{DatabaseURL: pgtest.DSN(t), Compiler: fakeCompiler{}, Logs: LogConfig{QueueSize: 4}})
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	done := make(chan struct{})
	go func() {
		for range 1000 {
			m.RecordExecution(ctx, ExecutionRecord{AppID: "x"})
		}
		close(done)
	}()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		t.Fatal("RecordExecution blocked")
	}
	if st := m.ExecutionLogStats(); st.Dropped != 996 || st.Queued != 4 {
		t.Fatalf("stats = %+v, want 996 dropped, 4 queued", st)
	}
	m.StopExecutionLog() // never started: must not hang
}

func TestExecutionLogRetention(t *testing.T) {
	f := newLogFixture(t, LogConfig{RetainExecutions: 3, RetainLines: 4, RetainAge: time.Hour, PurgeInterval: time.Hour})
	ctx := context.Background()
	other, err := f.m.CreateApp(ctx, "other", "")
	if err != nil {
		t.Fatal(err)
	}
	od, err := f.m.Deploy(ctx, DeployInput{App: "other", Name: "o", Source: "x"})
	if err != nil {
		t.Fatal(err)
	}
	for i := range 5 {
		f.record(f.a, "success", line("info", fmt.Sprintf("a%d", i)))
	}
	// Lines bound separately from executions: 3 kept executions hold 6
	// lines, 4 stay.
	f.m.RecordExecution(ctx, ExecutionRecord{ExecutionID: "old", AppID: other.ID, ScriptID: od.ID, Outcome: "success",
		Finished: time.Now().Add(-2 * time.Hour), Lines: []ConsoleLine{line("info", "ancient")}})
	f.m.RecordExecution(ctx, ExecutionRecord{ExecutionID: "new", AppID: other.ID, ScriptID: od.ID, Outcome: "success",
		Lines: []ConsoleLine{line("info", "o1"), line("info", "o2"), line("info", "o3"), line("info", "o4"), line("info", "o5")}})
	f.waitWritten(t, 7)
	f.m.PurgeExecutionLogs(ctx)

	var page execPage
	f.get(t, "/executions?app=shop", &page)
	if len(page.Executions) != 3 || page.Executions[2].Logs != nil {
		t.Fatalf("shop kept %d executions, want 3", len(page.Executions))
	}
	var logs logPageBody
	f.get(t, "/logs?app=shop", &logs)
	if len(logs.Logs) != 3 || logs.Logs[0].Message != "a4" || logs.Logs[2].Message != "a2" {
		t.Fatalf("shop lines after purge = %+v", logs.Logs)
	}
	f.get(t, "/executions?app=other", &page)
	if len(page.Executions) != 1 || page.Executions[0].ID != "new" {
		t.Fatalf("other kept %+v, want only the recent execution", page.Executions)
	}
	f.get(t, "/logs?app=other", &logs)
	if len(logs.Logs) != 4 || logs.Logs[0].Message != "o5" {
		t.Fatalf("other lines after purge = %+v, want the newest 4", logs.Logs)
	}
	// Deleting an app deletes its logs.
	if _, err := f.m.pool.Exec(ctx, `DELETE FROM apps WHERE id = $1`, other.ID); err != nil {
		t.Fatal(err)
	}
	var n int
	if err := f.m.pool.QueryRow(ctx, `SELECT count(*) FROM execution_logs WHERE app_id = $1`, other.ID).Scan(&n); err != nil || n != 0 {
		t.Fatalf("lines of a deleted app: %d %v", n, err)
	}
}

func TestExecutionLogBoundsOneExecution(t *testing.T) {
	l := newExecLog(LogConfig{MaxLinesPerExecution: 3, MaxMessageBytes: 20})
	cases := []struct {
		name      string
		lines     []string
		wantLines []string
	}{
		{"under the limit", []string{"a", "b"}, []string{"a", "b"}},
		{"at the limit", []string{"a", "b", "c"}, []string{"a", "b", "c"}},
		{"over the limit", []string{"a", "b", "c", "d", "e"}, []string{"a", "b", "log storage limit: 3 more lines not stored (limit 3 per execution)"}},
		{"long message", []string{strings.Repeat("é", 30)}, []string{"ééé…[truncated]"}},
		{"invalid utf-8", []string{"a\xffb"}, []string{"a\uFFFDb"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var in []ConsoleLine
			for _, s := range tc.lines {
				in = append(in, line("info", s))
			}
			out := l.bound(ExecutionRecord{Lines: in})
			var got []string
			for _, ln := range out.Lines {
				got = append(got, ln.Message)
				if len(ln.Message) > 20 && !strings.HasPrefix(ln.Message, "log storage limit") {
					t.Errorf("message of %d bytes kept", len(ln.Message))
				}
			}
			if strings.Join(got, "|") != strings.Join(tc.wantLines, "|") {
				t.Fatalf("got %q, want %q", got, tc.wantLines)
			}
		})
	}
}

// sseEvent is one parsed Server-Sent Event.
type sseEvent struct {
	id, event, data string
}

func readEvents(t *testing.T, r *bufio.Reader, n int, timeout time.Duration) []sseEvent {
	t.Helper()
	type result struct {
		evs []sseEvent
		err error
	}
	ch := make(chan result, 1)
	go func() {
		var evs []sseEvent
		var cur sseEvent
		for len(evs) < n {
			s, err := r.ReadString('\n')
			if err != nil {
				ch <- result{evs, err}
				return
			}
			s = strings.TrimRight(s, "\n")
			switch {
			case s == "":
				if cur.event != "" {
					evs = append(evs, cur)
				}
				cur = sseEvent{}
			case strings.HasPrefix(s, "id: "):
				cur.id = s[4:]
			case strings.HasPrefix(s, "event: "):
				cur.event = s[7:]
			case strings.HasPrefix(s, "data: "):
				cur.data = s[6:]
			}
		}
		ch <- result{evs, nil}
	}()
	select {
	case res := <-ch:
		if res.err != nil {
			t.Fatalf("reading events after %d: %v", len(res.evs), res.err)
		}
		return res.evs
	case <-time.After(timeout):
		t.Fatalf("no %d events within %s", n, timeout)
		return nil
	}
}

func (f *logFixture) tail(t *testing.T, query, lastID string) (*bufio.Reader, func()) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, f.srv.URL+APIPrefix+"/logs/tail"+query, nil)
	req.Header.Set("Authorization", "Bearer "+f.token)
	if lastID != "" {
		req.Header.Set("Last-Event-ID", lastID)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "text/event-stream" {
		t.Fatalf("tail = %d %s", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	r := bufio.NewReader(resp.Body)
	if s, _ := r.ReadString('\n'); s != ": connected\n" {
		t.Fatalf("first line %q", s)
	}
	return r, func() { cancel(); resp.Body.Close() }
}

func TestExecutionLogTail(t *testing.T) {
	f := newLogFixture(t, LogConfig{})
	f.record(f.a, "success", line("info", "before the tail"))
	f.waitWritten(t, 1)

	r, closeTail := f.tail(t, "?app=shop&level=warn", "")
	f.record(f.a, "success", line("info", "quiet"))
	f.record(f.b, "error", line("info", "context"), line("error", "it broke"))
	evs := readEvents(t, r, 1, 10*time.Second)
	var e Execution
	if err := json.Unmarshal([]byte(evs[0].data), &e); err != nil {
		t.Fatal(err)
	}
	if evs[0].event != "execution" || e.Script != "b" || len(e.Logs) != 1 || e.Logs[0].Message != "it broke" || evs[0].id != fmt.Sprint(e.Seq) {
		t.Fatalf("tail event = %+v %+v", evs[0], e)
	}
	closeTail()

	// Reconnecting with Last-Event-ID replays what came after it.
	first := e.Seq - 2 // the execution "before the tail"
	r, closeTail = f.tail(t, "?script="+f.a.ID, fmt.Sprint(first))
	defer closeTail()
	evs = readEvents(t, r, 1, 10*time.Second)
	if err := json.Unmarshal([]byte(evs[0].data), &e); err != nil || e.Logs[0].Message != "quiet" {
		t.Fatalf("replayed %+v %v", e, err)
	}
	f.record(f.a, "success", line("info", "live"))
	evs = readEvents(t, r, 1, 10*time.Second)
	if err := json.Unmarshal([]byte(evs[0].data), &e); err != nil || e.Logs[0].Message != "live" {
		t.Fatalf("live %+v %v", e, err)
	}

	// Stopping the log ends open tails so the HTTP server can stop.
	f.stop()
	if _, err := io.ReadAll(r); err != nil {
		t.Fatalf("tail did not end cleanly: %v", err)
	}
}

func TestBroadcasterCutsOffSlowSubscribers(t *testing.T) {
	b := broadcaster{subs: make(map[*subscription]struct{})}
	slow := b.subscribe(LogFilter{})
	other := b.subscribe(LogFilter{AppID: "app-2"})
	batch := make([]Execution, 300)
	for i := range batch {
		batch[i] = Execution{Seq: int64(i + 1), AppID: "app-1"}
	}
	b.publish(batch)
	if !slow.lagged.Load() || other.lagged.Load() || b.subscriberCount() != 1 {
		t.Fatalf("lagged slow=%v other=%v subscribers=%d", slow.lagged.Load(), other.lagged.Load(), b.subscriberCount())
	}
	n := 0
	for range slow.C {
		n++
	}
	if n != 256 {
		t.Fatalf("slow subscriber got %d buffered events before its cut, want 256", n)
	}
	b.close()
	if _, ok := <-other.C; ok {
		t.Fatal("close left a subscription open")
	}
	if _, ok := <-b.subscribe(LogFilter{}).C; ok {
		t.Fatal("a closed broadcaster accepted a subscription")
	}
}

// logEndpoints are the execution log rows of the authorization matrix.
// They use clsScriptRead: every role and key scope of the matrix that
// grants script:read grants logs:read too, and no other.
func logEndpoints() map[string]endpoint {
	// stored writes one execution of rc's script synchronously.
	stored := func(rc *reqCtx) string {
		id := fmt.Sprintf("matrix-%d", rc.e.seq())
		rc.e.m.writeBatch(context.Background(), []ExecutionRecord{{ExecutionID: id, AppID: rc.app.ID, ScriptID: rc.script.ID,
			Version: 1, Method: "GET", Path: "/main", Status: 200, Outcome: "success", Finished: time.Now(),
			Lines: []ConsoleLine{line("info", "matrix")}}})
		return id
	}
	return map[string]endpoint{
		"GET /executions": {clsScriptRead, 200, false, func(rc *reqCtx) (string, any) {
			return "/executions?app=" + rc.app.Slug, nil
		}},
		"GET /executions/:id": {clsScriptRead, 200, false, func(rc *reqCtx) (string, any) {
			return "/executions/" + stored(rc), nil
		}},
		"GET /logs": {clsScriptRead, 200, false, func(rc *reqCtx) (string, any) {
			return "/logs?script=" + rc.script.ID, nil
		}},
		"GET /logs/tail": {clsScriptRead, 200, false, func(rc *reqCtx) (string, any) {
			// A closed broadcaster ends the stream after its catch-up, so
			// the matrix can read the whole answer.
			rc.e.m.logs.bc.close()
			return "/logs/tail?app=" + rc.app.Slug, nil
		}},
	}
}

func TestExecutionLogsAreIsolatedBetweenApps(t *testing.T) {
	e, a, b, _ := matrixFixture(t)
	ctx := context.Background()
	scripts, err := e.m.Scripts(ctx, b.ID)
	if err != nil || len(scripts) != 1 {
		t.Fatal(scripts, err)
	}
	e.m.writeBatch(ctx, []ExecutionRecord{{ExecutionID: "secret-b", AppID: b.ID, ScriptID: scripts[0].ID, Version: 1,
		Method: "GET", Path: "/main", Status: 200, Outcome: "success", Lines: []ConsoleLine{line("info", "b's secret")}}})
	editor := e.login("editor") // editor of A only
	for _, path := range []string{
		"/executions?app=" + b.Slug, "/logs?app=" + b.Slug, "/logs?script=" + scripts[0].ID,
		"/executions/secret-b", "/logs/tail?app=" + b.Slug,
	} {
		st, body := e.send(e.request(editor, "GET", path, nil), nil)
		if st != http.StatusNotFound || strings.Contains(string(body), "b's secret") {
			t.Errorf("GET %s as editor of %s: %d %s, want 404", path, a.Slug, st, body)
		}
	}
	// A's script id with B's app still shows nothing of B.
	var page logPageBody
	if st, _ := e.send(e.request(e.login("owner"), "GET", "/logs?app="+a.Slug+"&script="+scripts[0].ID, nil), &page); st != 200 || len(page.Logs) != 0 {
		t.Errorf("B's script under app A: %d %+v", st, page.Logs)
	}
}

// BenchmarkExecutionLogWrite measures the writer's cost per execution
// (two console lines each) in batches of 128, against real Postgres.
func BenchmarkExecutionLogWrite(b *testing.B) {
	ctx := context.Background()
	m, err := Open(ctx, Config{DatabaseURL: pgtest.DSN(b), Compiler: fakeCompiler{}})
	if err != nil {
		b.Fatal(err)
	}
	defer m.Close()
	app, err := m.CreateApp(ctx, "bench", "")
	if err != nil {
		b.Fatal(err)
	}
	d, err := m.Deploy(ctx, DeployInput{App: "bench", Name: "s", Source: "x"})
	if err != nil {
		b.Fatal(err)
	}
	batch := make([]ExecutionRecord, 128)
	for i := range batch {
		batch[i] = ExecutionRecord{ExecutionID: fmt.Sprint(i), AppID: app.ID, ScriptID: d.ID, Version: 1, Method: "GET",
			Path: "/bench", Status: 200, Outcome: "success", Duration: time.Millisecond,
			Lines: []ConsoleLine{line("info", "handling the request"), line("warn", "something to look at")}}
	}
	b.ResetTimer()
	for range b.N {
		m.writeBatch(ctx, batch)
	}
	b.StopTimer()
	if st := m.ExecutionLogStats(); st.Failed != 0 || st.Written != int64(128*b.N) {
		b.Fatalf("stats %+v", st)
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(128*b.N)/1000, "µs/execution")
}

func FuzzParseTimeParam(f *testing.F) {
	for _, s := range []string{"15m", "2h", "2026-01-02T15:04:05Z", "2026-01-02T15:04:05.123+02:00", "-5m", "yesterday", ""} {
		f.Add(s)
	}
	now := time.Date(2026, 11, 27, 12, 0, 0, 0, time.UTC)
	f.Fuzz(func(t *testing.T, v string) {
		got, err := parseTimeParam("since", v, now)
		if err != nil {
			var e *Error
			if !errors.As(err, &e) || e.Status != http.StatusUnprocessableEntity {
				t.Fatalf("parseTimeParam(%q) failed without a 422: %v", v, err)
			}
			return
		}
		if v == "" && !got.IsZero() {
			t.Fatalf("empty value gave %v", got)
		}
		if d, derr := time.ParseDuration(v); derr == nil && d >= 0 && got.After(now) {
			t.Fatalf("duration %q back from now is in the future: %v", v, got)
		}
	})
}

func FuzzLevelNumber(f *testing.F) {
	for _, s := range []string{"debug", "info", "log", "warn", "warning", "error", "", "ERROR"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		n, ok := levelNumber(s)
		if ok && (n < 0 || n >= len(levels) || levelName(int16(n)) == "") {
			t.Fatalf("levelNumber(%q) = %d", s, n)
		}
	})
}
