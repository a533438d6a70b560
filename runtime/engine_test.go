package runtime

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/picloud/picloud/internal/limits"
)

func deployed(t *testing.T, name, source, lang string) Script {
	t.Helper()
	code, err := Transform(context.Background(), source, lang)
	if err != nil {
		t.Fatalf("transform: %v", err)
	}
	return Script{ID: name, Name: name, Version: 1, Code: code, Hash: HashCode(code)}
}

func execute(t *testing.T, e *Engine, s Script, method, url, body string) (*httptest.ResponseRecorder, ExecResult, error) {
	t.Helper()
	w := httptest.NewRecorder()
	req := &ExecRequest{Script: s, Method: method, URL: url, Header: http.Header{"X-Test": {"1"}}, Body: []byte(body)}
	res, err := e.Execute(context.Background(), req, w)
	return w, res, err
}

func TestExecute(t *testing.T) {
	// Roomy limits: the race detector on a loaded machine makes even hello slow.
	e, err := New(Config{Limits: limits.Limits{WallTimeMS: 4000, CPUTimeMS: 1000, CallDepth: 256, LogLines: 10}})
	if err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name, lang, source, method, body string
		wantStatus                       int
		wantBody                         string
		wantErr                          error
	}{
		{name: "hello", source: `export default { fetch(req) { return new Response("hi " + new URL(req.url).pathname) } }`,
			method: "GET", wantStatus: 200, wantBody: "hi /p"},
		{name: "async json", source: `export default { async fetch(req) { const b = await req.json(); return Response.json({n: b.n + 1}, {status: 201}) } }`,
			method: "POST", body: `{"n":41}`, wantStatus: 201, wantBody: `{"n":42}`},
		{name: "typescript", lang: TypeScript, source: `interface X { a: number }
export default { async fetch(req: Request): Promise<Response> { const x: X = {a: 1}; return new Response(String(x.a)) } }`,
			method: "GET", wantStatus: 200, wantBody: "1"},
		{name: "timer", source: `export default { async fetch() { await new Promise(r => setTimeout(r, 5)); return new Response("late") } }`,
			method: "GET", wantStatus: 200, wantBody: "late"},
		{name: "throws", source: `export default { fetch() { throw new Error("boom") } }`, method: "GET", wantErr: ErrScript},
		{name: "not a response", source: `export default { fetch() { return 42 } }`, method: "GET", wantErr: ErrScript},
		{name: "never resolves", source: `export default { fetch() { return new Promise(() => {}) } }`, method: "GET", wantErr: ErrNeverResolved},
		{name: "infinite loop", source: `export default { fetch() { for (;;) {} } }`, method: "GET", wantErr: ErrLimit},
		{name: "idle forever", source: `export default { async fetch() { for (;;) await new Promise(r => setTimeout(r, 50)) } }`, method: "GET", wantErr: ErrTimeout},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			s := deployed(t, tc.name, tc.source, tc.lang)
			w, res, err := execute(t, e, s, tc.method, "http://localhost/p", tc.body)
			if tc.wantErr != nil {
				if !errors.Is(err, tc.wantErr) {
					t.Fatalf("err = %v, want %v", err, tc.wantErr)
				}
				if res.Outcome == OutcomeSuccess {
					t.Fatalf("outcome = success for a failed execution")
				}
				return
			}
			if err != nil {
				t.Fatalf("execute: %v (logs %v)", err, res.Logs)
			}
			if w.Code != tc.wantStatus || w.Body.String() != tc.wantBody {
				t.Fatalf("got %d %q, want %d %q", w.Code, w.Body.String(), tc.wantStatus, tc.wantBody)
			}
		})
	}
}

func TestTransformSyntaxError(t *testing.T) {
	_, err := Transform(context.Background(), "export default {\n  fetch() { return 1 +; }\n}", JavaScript)
	var se *SyntaxError
	if !errors.As(err, &se) {
		t.Fatalf("err = %v, want *SyntaxError", err)
	}
	if se.Line != 2 || se.Column == 0 || !strings.Contains(se.Message, "Unexpected") {
		t.Fatalf("got %+v, want line 2 with a column", se)
	}
}

func TestConsoleLogsAreCapped(t *testing.T) {
	e, err := New(Config{Limits: limits.Limits{WallTimeMS: 1000, LogLines: 3}})
	if err != nil {
		t.Fatal(err)
	}
	s := deployed(t, "logs", `export default { fetch() { for (let i = 0; i < 10; i++) console.log("line", i); return new Response("ok") } }`, "")
	_, res, err := execute(t, e, s, "GET", "http://localhost/", "")
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Logs) != 4 || res.Logs[0].Message != "line 0" || !strings.Contains(res.Logs[3].Message, "7 more lines dropped") {
		t.Fatalf("logs = %+v", res.Logs)
	}
}

// TestSpareRuntime checks a cold start takes the blank runtime built
// ahead, that another one is then built, and that none is built when
// spares are off.
func TestSpareRuntime(t *testing.T) {
	waitSpare := func(e *Engine, want int) {
		t.Helper()
		deadline := time.Now().Add(20 * time.Second)
		for len(e.spare) != want || e.building.Load() {
			if time.Now().After(deadline) {
				t.Fatalf("spares = %d, want %d", len(e.spare), want)
			}
			time.Sleep(5 * time.Millisecond)
		}
	}
	e, err := New(Config{})
	if err != nil {
		t.Fatal(err)
	}
	a := deployed(t, "a", `globalThis.leak = 1; export default { fetch() { return new Response("a") } }`, "")
	b := deployed(t, "b", `export default { fetch() { return new Response(String(globalThis.leak)) } }`, "")
	if w, _, err := execute(t, e, a, "GET", "http://localhost/", ""); err != nil || w.Body.String() != "a" {
		t.Fatalf("a = %q, %v", w.Body.String(), err)
	}
	waitSpare(e, 1)
	spare := <-e.spare
	e.spare <- spare
	w, _, err := execute(t, e, b, "GET", "http://localhost/", "")
	if err != nil || w.Body.String() != "undefined" {
		t.Fatalf("b = %q, %v", w.Body.String(), err)
	}
	if in := e.pool.get(poolKey(&b)); in != spare {
		t.Fatal("b's runtime is not the spare")
	}
	waitSpare(e, 1) // and the next one is built

	off, err := New(Config{SpareRuntimes: -1})
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := execute(t, off, a, "GET", "http://localhost/", ""); err != nil {
		t.Fatal(err)
	}
	time.Sleep(50 * time.Millisecond)
	if off.building.Load() || cap(off.spare) != 0 {
		t.Fatal("a spare is built with spares off")
	}
}
