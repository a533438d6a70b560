package runtime

import (
	"context"
	"errors"
	"net/http"
	"runtime/debug"
	"strings"
	"testing"
	"time"

	"github.com/picloud/picloud/internal/limits"
)

// TestHostileScripts runs each hostile script in-process and checks the
// limit it hits; the same engine then still serves a well-behaved script.
// The suite against a real agent with a concurrent victim is in
// cmd/picloud/hostile_test.go.
func TestHostileScripts(t *testing.T) {
	e, err := New(Config{Limits: limits.Limits{WallTimeMS: 1500, CPUTimeMS: 300, MemoryBytes: 32 << 20,
		ResponseBodyBytes: 1 << 20, RequestBodyBytes: 1 << 10, LogLines: 100}})
	if err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name, source, body string
		wantErr            error
		wantLimit          string // in the last log line
		wantOK             bool
		limits             limits.Limits // per-script overrides
	}{
		{name: "infinite loop", source: `for (;;) {}`, wantErr: ErrLimit, wantLimit: "cpu_time_ms"},
		{name: "deep recursion", source: `const f = (n) => f(n + 1) + 1; f(0);`, wantErr: ErrLimit, wantLimit: "call_depth"},
		// Doubling is slow enough in goja that the CPU limit may come first.
		{name: "string doubling", source: `let s = "x"; for (;;) s = s + s;`, wantErr: ErrLimit, wantLimit: "memory_bytes|cpu_time_ms"},
		{name: "string growth", source: `const a = []; for (;;) a.push("x".repeat(1 << 20));`, wantErr: ErrLimit, wantLimit: "memory_bytes|cpu_time_ms"},
		{name: "array growth", source: `const a = []; for (let i = 0; ; i++) a.push(new Array(1000).fill(i));`, wantErr: ErrLimit, wantLimit: "memory_bytes|cpu_time_ms"},
		// Allocation faster than the CPU limit: only the heap watchdog stops it.
		{name: "buffer growth", source: `const a = []; for (;;) a.push(new Uint8Array(8 << 20));`, wantErr: ErrLimit, wantLimit: "memory_bytes",
			limits: limits.Limits{CPUTimeMS: 10000, WallTimeMS: 20000}},
		{name: "repeat", source: `"x".repeat(2 ** 31);`, wantErr: ErrLimit, wantLimit: "memory_bytes"},
		{name: "padEnd", source: `"x".padEnd(2 ** 31);`, wantErr: ErrLimit, wantLimit: "memory_bytes"},
		{name: "sparse fill", source: `new Array(2 ** 30).fill(0);`, wantErr: ErrLimit, wantLimit: "memory_bytes"},
		{name: "sparse join", source: `new Array(2 ** 30).join("abc");`, wantErr: ErrLimit, wantLimit: "memory_bytes"},
		{name: "array from length", source: `Array.from({length: 2 ** 30});`, wantErr: ErrLimit, wantLimit: "memory_bytes"},
		{name: "typed array", source: `new Float64Array(2 ** 28);`, wantErr: ErrLimit, wantLimit: "memory_bytes"},
		{name: "array buffer", source: `new ArrayBuffer(2 ** 31);`, wantErr: ErrLimit, wantLimit: "memory_bytes"},
		{name: "caught guard still stops", source: `try { "x".repeat(2 ** 31) } catch (e) {} return new Response("escaped");`, wantErr: ErrLimit, wantLimit: "memory_bytes"},
		{name: "regexp backtracking", source: `const re = /^(a+)+\1?$/; const s = "a".repeat(40) + "!"; for (let i = 0; i < 100; i++) re.test(s);`,
			wantErr: ErrLimit, wantLimit: "cpu_time_ms"},
		{name: "promise storm", source: `for (;;) await null;`, wantErr: ErrLimit, wantLimit: "cpu_time_ms"},
		{name: "timeout chain", source: `const f = () => setTimeout(f, 1); f(); await new Promise(() => {});`, wantErr: ErrTimeout, wantLimit: "wall_time_ms"},
		{name: "timer storm", source: `for (;;) setTimeout(() => {}, 1e6);`, wantErr: ErrLimit, wantLimit: "pending_timers"},
		{name: "huge response", source: `return new Response("x".repeat(2 << 20));`, wantErr: ErrLimit, wantLimit: "response_body_bytes",
			limits: limits.Limits{CPUTimeMS: 10000, WallTimeMS: 20000}},
		{name: "huge request body", source: `return new Response("never")`, body: strings.Repeat("b", 2<<10), wantErr: ErrLimit, wantLimit: "request_body_bytes"},
		{name: "console flood", source: `for (let i = 0; i < 10000; i++) console.log("line " + i); return new Response("ok");`, wantOK: true, wantLimit: "log_lines",
			limits: limits.Limits{CPUTimeMS: 120000, WallTimeMS: 120000}}, // slow under -race
		{name: "await never resolves", source: `await new Promise(() => {});`, wantErr: ErrNeverResolved},
		{name: "throw number", source: `throw 42;`, wantErr: ErrScript},
		{name: "throw null", source: `throw null;`, wantErr: ErrScript},
		{name: "throw undefined async", source: `await null; throw undefined;`, wantErr: ErrScript},
		{name: "throw hostile object", source: `throw { toString() { throw new Error("no") }, get stack() { throw 1 } };`, wantErr: ErrScript},
		{name: "reject symbol", source: `return Promise.reject(Symbol("s"));`, wantErr: ErrScript},
		{name: "pollute Object.prototype", source: `Object.prototype.polluted = 1;`, wantErr: ErrScript},
		{name: "replace JSON.parse", source: `JSON.parse = () => "pwned";`, wantErr: ErrScript},
		{name: "replace Response", source: `Response = null;`, wantErr: ErrScript},
		{name: "redefine Array.prototype.map", source: `Object.defineProperty(Array.prototype, "map", {value: () => []});`, wantErr: ErrScript},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			s := deployed(t, tc.name, "export default { async fetch(req) {\n"+tc.source+"\n} }", "")
			s.Limits = tc.limits
			w, res, err := execute(t, e, s, "POST", "http://localhost/", tc.body)
			if tc.wantOK {
				if err != nil || w.Code != 200 {
					t.Fatalf("execute = %d, %v", w.Code, err)
				}
			} else if !errors.Is(err, tc.wantErr) {
				t.Fatalf("err = %v, want %v (logs %v)", err, tc.wantErr, res.Logs)
			}
			if tc.wantLimit != "" {
				last := res.Logs[len(res.Logs)-1].Message
				named := false
				for _, l := range strings.Split(tc.wantLimit, "|") {
					named = named || strings.Contains(last, "limit "+l+"=")
				}
				if !named {
					t.Fatalf("last log line %q does not name %s", last, tc.wantLimit)
				}
			}
			if res.Outcome == OutcomeSuccess && !tc.wantOK {
				t.Fatal("outcome success")
			}
		})
	}
}

// TestTamperingDoesNotLeak checks a tampering attempt, caught by the
// script, leaves the next execution of the same runtime and other scripts
// with pristine built-ins; script-level state (module scope) is kept, as
// in Workers.
func TestTamperingDoesNotLeak(t *testing.T) {
	e, err := New(Config{PoolSize: 1})
	if err != nil {
		t.Fatal(err)
	}
	s := deployed(t, "tamper", `let n = 0;
export default { fetch() {
  n++;
  const tries = [
    () => { Object.prototype.polluted = 1 },
    () => { JSON.parse = () => "pwned" },
    () => { globalThis.Response = null },
    () => { Array.prototype.push = null },
    () => { Object.setPrototypeOf(Object.prototype, {x: 1}) },
  ];
  let blocked = 0;
  for (const f of tries) { try { f() } catch (e) { blocked++ } }
  class MyError extends Error { constructor() { super("m"); this.name = "MyError" } }
  const o = {}; o.toString = () => "own";
  return Response.json({n, blocked, polluted: ({}).polluted, parse: JSON.parse("1"), name: new MyError().name, own: String(o)});
} }`, "")
	for i, want := range []string{
		`{"n":1,"blocked":5,"parse":1,"name":"MyError","own":"own"}`,
		`{"n":2,"blocked":5,"parse":1,"name":"MyError","own":"own"}`,
	} {
		w, res, err := execute(t, e, s, "GET", "http://localhost/", "")
		if err != nil || w.Body.String() != want {
			t.Fatalf("run %d = %q, %v (logs %v); want %s", i, w.Body.String(), err, res.Logs, want)
		}
	}
	if e.IdleRuntimes() != 1 {
		t.Fatalf("idle runtimes = %d, want the one reused", e.IdleRuntimes())
	}
}

// TestPoolEvictsLRU checks the global cap: the least recently used
// script's runtime goes first.
func TestPoolEvictsLRU(t *testing.T) {
	e, err := New(Config{PoolSize: 2, MaxIdle: 2})
	if err != nil {
		t.Fatal(err)
	}
	var ss []Script
	for _, n := range []string{"a", "b", "c"} {
		s := deployed(t, n, `export default { fetch() { return new Response("`+n+`") } }`, "")
		ss = append(ss, s)
		if _, _, err := execute(t, e, s, "GET", "http://localhost/", ""); err != nil {
			t.Fatal(err)
		}
	}
	if e.IdleRuntimes() != 2 {
		t.Fatalf("idle = %d, want 2", e.IdleRuntimes())
	}
	if in := e.pool.get(poolKey(&ss[0])); in != nil {
		t.Fatal("a, the least recently used, is still pooled")
	}
	for _, s := range ss[1:] {
		if in := e.pool.get(poolKey(&s)); in == nil {
			t.Fatalf("%s was evicted", s.ID)
		}
	}
}

// TestHostileUnhandledRejection checks a rejection nobody handles whose
// value throws when read is logged without crashing, the response still
// goes out, and the runtime (which goja left mid-call) is not reused.
func TestHostileUnhandledRejection(t *testing.T) {
	e, err := New(Config{PoolSize: 1})
	if err != nil {
		t.Fatal(err)
	}
	s := deployed(t, "hostile-rejection", `export default { fetch() {
  Promise.reject({ get stack() { throw 1 }, toString() { throw 2 } });
  return new Response("still here");
} }`, "")
	w, res, err := execute(t, e, s, "GET", "http://localhost/", "")
	if err != nil || w.Body.String() != "still here" {
		t.Fatalf("execute = %q, %v", w.Body.String(), err)
	}
	if n := len(res.Logs); n != 1 || !strings.Contains(res.Logs[0].Message, "Uncaught (in promise)") {
		t.Fatalf("logs = %v, want the one unhandled rejection", res.Logs)
	}
	if e.IdleRuntimes() != 0 {
		t.Fatal("the runtime was pooled after goja panicked out of it")
	}
}

// TestReplaceGuards checks replace and replaceAll are stopped before the
// native call allocates a huge result (the guard names itself in the
// limit error, the heap watchdog would not), and that ordinary large
// replacements, including ones whose cheap bound is over the limit, still
// work and give the standard results.
func TestReplaceGuards(t *testing.T) {
	e, err := New(Config{Limits: limits.Limits{CPUTimeMS: 20000, WallTimeMS: 30000, MemoryBytes: 32 << 20}})
	if err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name, source, wantGuard, wantBody string
	}{
		{name: "regexp, big replacement", source: `"x".repeat(1 << 20).replace(/x/g, "y".repeat(1 << 10))`, wantGuard: "RegExp.prototype[Symbol.replace]"},
		{name: "replaceAll string", source: `"a".repeat(1 << 20).replaceAll("a", "b".repeat(1 << 10))`, wantGuard: "String.prototype.replaceAll"},
		// The replacer is JS: the heap watchdog may stop it first.
		{name: "function results", source: `const big = "z".repeat(1 << 20); "a".repeat(4096).replace(/a/g, () => big)`, wantGuard: "RegExp.prototype[Symbol.replace]|heap grew"},
		{name: "prefix pattern", source: "\"a\".repeat(1 << 14).replace(/a/g, \"$`\")", wantGuard: "RegExp.prototype[Symbol.replace]"},
		{name: "empty pattern, many matches", source: `"x".repeat(1 << 24).replaceAll("", "")`, wantGuard: "String.prototype.replaceAll"},
		{name: "string pattern via replace", source: `"a".repeat(1 << 20).replace("a", "$'".repeat(64))`, wantGuard: "String.prototype.replace"},
		// Over the cheap bound (1 MB, a global regexp), so the matches are counted: few enough.
		{name: "large but fine", source: `return new Response(String(("a".repeat(99) + "  ").repeat(10000).replace(/\s+/g, "_").length))`, wantBody: "1000000"},
		{name: "replaceAll fine", source: `return new Response("a-b-c".replaceAll("-", "$&$&") + "|" + "abc".replace("b", (m, i) => m.toUpperCase() + i))`, wantBody: "a--b--c|aB1c"},
		{name: "regexp fine", source: "return new Response(\"x1y2\".replace(/(\\d)/g, \"[$1$`]\"))", wantBody: "x[1x]y[2x1y]"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			s := deployed(t, "replace-"+tc.name, "export default { fetch() {\n"+tc.source+"\n} }", "")
			w, res, err := execute(t, e, s, "GET", "http://localhost/", "")
			if tc.wantBody != "" {
				if err != nil || w.Body.String() != tc.wantBody {
					t.Fatalf("execute = %q, %v (logs %v), want %q", w.Body.String(), err, res.Logs, tc.wantBody)
				}
				return
			}
			last := res.Logs[len(res.Logs)-1].Message
			named := false
			for _, g := range strings.Split(tc.wantGuard, "|") {
				named = named || strings.Contains(last, g+" would allocate") || g == "heap grew" && strings.Contains(last, g)
			}
			if !errors.Is(err, ErrLimit) || !strings.Contains(last, "limit memory_bytes=") || !named {
				t.Fatalf("err = %v, last log %q; want the %s guard", err, last, tc.wantGuard)
			}
		})
	}
}

// TestHostileModuleScope checks code at a module's top level, which runs
// when a runtime is built for it, is held to the same limits as a
// handler (it used to run unbounded: a loop there hung the request for
// ever).
func TestHostileModuleScope(t *testing.T) {
	e, err := New(Config{Limits: limits.Limits{WallTimeMS: 3000, CPUTimeMS: 300, CallDepth: 256, MemoryBytes: 32 << 20}})
	if err != nil {
		t.Fatal(err)
	}
	cases := []struct{ name, source, wantLimit string }{
		{name: "infinite loop", source: `for (;;) {}`, wantLimit: "cpu_time_ms"},
		{name: "deep recursion", source: `const f = (n) => f(n + 1) + 1; f(0);`, wantLimit: "call_depth"},
		{name: "allocation", source: `"x".repeat(2 ** 31);`, wantLimit: "memory_bytes"},
		// Under the race detector the CPU limit may come first.
		{name: "growth", source: `const a = []; for (;;) a.push(new Uint8Array(8 << 20));`, wantLimit: "memory_bytes|cpu_time_ms"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			s := deployed(t, "module "+tc.name, tc.source+"\nexport default { fetch() { return new Response(\"never\") } }", "")
			_, res, err := execute(t, e, s, "GET", "http://localhost/", "")
			var le *LimitError
			if !errors.As(err, &le) || !strings.Contains("|"+tc.wantLimit+"|", "|"+le.Limit+"|") || res.Outcome != OutcomeLimit {
				t.Fatalf("err = %v, outcome %v; want limit %s", err, res.Outcome, tc.wantLimit)
			}
		})
	}
	ok := deployed(t, "module fine", `const greeting = "hi"; export default { fetch() { return new Response(greeting) } }`, "")
	if w, _, err := execute(t, e, ok, "GET", "http://localhost/", ""); err != nil || w.Body.String() != "hi" {
		t.Fatalf("a well-behaved script after them = %q, %v", w.Body.String(), err)
	}
}

// TestGarbageChurnIsNotBlamed: a script that allocates far more than its
// memory limit but keeps little of it alive finishes, and the watchdog
// leaves the collections to the Go runtime instead of forcing its own,
// which would slow every other execution on the node.
func TestGarbageChurnIsNotBlamed(t *testing.T) {
	e, err := New(Config{Limits: limits.Limits{WallTimeMS: 20000, CPUTimeMS: 10000, MemoryBytes: 16 << 20,
		ResponseBodyBytes: 1 << 20, RequestBodyBytes: 1 << 10, LogLines: 100}})
	if err != nil {
		t.Fatal(err)
	}
	// 300 buffers of 1 MiB: about 20 times the limit, one at a time.
	s := deployed(t, "churn", `export default { async fetch() {
		let sum = 0;
		for (let i = 0; i < 300; i++) { const a = new Uint8Array(1 << 20); a[0] = 1; sum += a.length; if (i % 30 == 0) await null; }
		return new Response(String(sum));
	} }`, "")
	w, res, err := execute(t, e, s, "GET", "http://localhost/", "")
	if err != nil || w.Body.String() != "314572800" {
		t.Fatalf("churn = %q, %v (logs %v)", w.Body.String(), err, res.Logs)
	}
	if n := e.watch.forced.Load(); n > 1 {
		t.Errorf("the watchdog forced %d collections for garbage", n)
	}
}

// TestMemoryBlameSparesTheBystander: a script running while another
// grows the heap sees that growth in its own window too (no collection
// in between to separate them); only the one that started first, the
// bomb, is stopped, and the bystander finishes once the bomb's heap is
// collected. The collector is off, as on a busy node with a high GOGC
// where collections are rare: the watchdog's own are the only ones.
func TestMemoryBlameSparesTheBystander(t *testing.T) {
	defer debug.SetGCPercent(debug.SetGCPercent(-1))
	e, err := New(Config{})
	if err != nil {
		t.Fatal(err)
	}
	// The bomb waits for the bystander to start, so that both windows
	// open on the same collection and grow alike.
	bomb := deployed(t, "bomb", `export default { fetch() {
		const end = Date.now() + 30; while (Date.now() < end);
		const a = []; for (;;) a.push(new Float64Array(1 << 17));
	} }`, "")
	bomb.Limits = limits.Defaults
	bomb.Limits.MemoryBytes, bomb.Limits.CPUTimeMS = 32<<20, 10000
	bystander := deployed(t, "bystander", `export default { fetch() {
		const end = Date.now() + 400; let n = 0;
		while (Date.now() < end) n++;
		return new Response("done");
	} }`, "")
	bystander.Limits = bomb.Limits
	// A warm bystander: its start allocates nothing.
	if _, _, err := execute(t, e, bystander, "GET", "http://localhost/", ""); err != nil {
		t.Fatal(err)
	}
	bombErr := make(chan error, 1)
	go func() {
		_, err := e.Execute(context.Background(), &ExecRequest{Script: bomb, Method: "GET", URL: "http://localhost/"}, &nopWriter{h: http.Header{}})
		bombErr <- err
	}()
	time.Sleep(time.Millisecond)
	w, res, err := execute(t, e, bystander, "GET", "http://localhost/", "")
	if err != nil || w.Body.String() != "done" {
		t.Fatalf("bystander = %q, %v (logs %v)", w.Body.String(), err, res.Logs)
	}
	var le *LimitError
	if err := <-bombErr; !errors.As(err, &le) || le.Limit != "memory_bytes" {
		t.Fatalf("bomb = %v, want the memory limit", err)
	}
}

// TestBlame covers the choice among executions over their memory limit
// (the watchdog's windows are what makes them suspects).
func TestBlame(t *testing.T) {
	x := func(started int64, overTicks int, stopped bool) *execution {
		e := &execution{started: started, overTicks: overTicks}
		if stopped {
			e.killed = errors.New("already stopped")
		}
		return e
	}
	// The bystander started just before the bomb: both windows hold the
	// bomb's growth, and the bystander's is the older.
	freshBystander, freshBomb := x(1, 1, false), x(2, 1, false)
	settledBomb := x(2, settleTicks, false)
	longBystander, longBomb := x(2, settleTicks+4, false), x(1, settleTicks, false)
	stoppedOne := x(1, settleTicks, true)
	cases := []struct {
		name     string
		suspects []*execution
		want     *execution
	}{
		{"a lone suspect is blamed at once", []*execution{freshBomb}, freshBomb},
		{"two fresh suspects: wait", []*execution{freshBystander, freshBomb}, nil},
		{"the one that stays over, not the older one that just crossed", []*execution{freshBystander, settledBomb}, settledBomb},
		{"both over long enough: the oldest", []*execution{longBystander, longBomb}, longBomb},
		{"a stopped one is not a candidate", []*execution{stoppedOne, freshBomb}, freshBomb},
		{"nothing to blame", nil, nil},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if got := blame(tc.suspects); got != tc.want {
				t.Errorf("blame = %+v, want %+v", got, tc.want)
			}
		})
	}
}
