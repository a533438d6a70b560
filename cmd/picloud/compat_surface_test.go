package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"path"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
)

// The helpers below are subtests of TestWorkersCompat: every Web API the
// runtime issue lists, run by a deployed script behind the real agent
// (Caddy, dispatcher, engine) and checked on what the HTTP client got.

type deployFunc func(name, source string, bindings map[string]any) string
type callFunc func(method, url, contentType string, body []byte) (*http.Response, []byte)

// surfaceCase runs code as the body of an async fetch handler; its return
// value is sent back with Response.json and compared with want.
type surfaceCase struct {
	name     string
	method   string
	header   http.Header
	body     string
	code     string
	bindings map[string]any
	want     string
}

func compatSurface(t *testing.T, deploy deployFunc, _ callFunc) {
	cases := []surfaceCase{
		// Request
		{name: "request method url headers json bodyUsed second read",
			header: http.Header{"Content-Type": {"application/json"}, "X-Test": {"1"}}, body: `{"n":1}`,
			code: `const j = await request.json(); let second = ""; try { await request.text() } catch (e) { second = e.name + ": " + e.message.slice(0, 26) }
const u = new URL(request.url);
return {m: request.method, path: u.pathname.startsWith("/api/v1/execute/"), search: u.search, ct: request.headers.get("content-type"), x: request.headers.get("X-TEST"), j, used: request.bodyUsed, second}`,
			want: `{"m":"POST","path":true,"search":"?q=1","ct":"application/json","x":"1","j":{"n":1},"used":true,"second":"TypeError: Body has already been used"}`},
		{name: "request text clone bodyUsed", body: "hello",
			code: `const used0 = request.bodyUsed; const c = request.clone(); return [used0, await request.text(), await c.text(), request.bodyUsed, c.bodyUsed]`,
			want: `[false,"hello","hello",true,true]`},
		{name: "request arrayBuffer", body: "abc",
			code: `const ab = await request.arrayBuffer(); return [ab instanceof ArrayBuffer, Array.from(new Uint8Array(ab))]`,
			want: `[true,[97,98,99]]`},
		{name: "request formData urlencoded",
			header: http.Header{"Content-Type": {"application/x-www-form-urlencoded"}}, body: "a=1&b=x+y&a=%C3%A9",
			code: `const f = await request.formData(); return {a: f.getAll("a"), b: f.get("b"), none: f.get("c")}`,
			want: `{"a":["1","é"],"b":"x y","none":null}`},
		// Response
		{name: "response status rules",
			code: `const out = []; for (const [b, s] of [[null, 199], [null, 600], ["x", 204], ["x", 304], [null, 204], [null, 304], ["x", 599]]) {
try { out.push(new Response(b, {status: s}).status) } catch (e) { out.push(e.name) } } return out`,
			want: `["RangeError","RangeError","TypeError","TypeError",204,304,599]`},
		{name: "response json and redirect",
			code: `const j = Response.json({a: 1}, {status: 201, headers: {"x-y": "z"}}); const r = Response.redirect("https://a.example/b?c", 301);
let bad = ""; try { Response.redirect("https://x/", 200) } catch (e) { bad = e.name }
return [j.status, j.headers.get("content-type"), j.headers.get("x-y"), await j.json(), r.status, r.headers.get("location"), bad]`,
			want: `[201,"application/json","z",{"a":1},301,"https://a.example/b?c","RangeError"]`},
		{name: "response binary bodies",
			code: `const u = new Uint8Array([1, 2, 3, 4]); const out = [];
for (const b of [u.buffer, u, new DataView(u.buffer, 1, 2), new Uint16Array([513]), new Blob([u, "a"], {type: "Application/X"})]) {
const r = new Response(b); out.push([Array.from(new Uint8Array(await r.arrayBuffer())), r.headers.get("content-type")]) }
return out`,
			want: `[[[1,2,3,4],null],[[1,2,3,4],null],[[2,3],null],[[1,2],null],[[1,2,3,4,97],"application/x"]]`},
		// Headers
		{name: "headers case-insensitive sorted joined set-cookie",
			code: `const h = new Headers({"X-B": "1", "x-a": "2"}); h.append("X-B", "3"); h.append("Set-Cookie", "a=1"); h.append("set-cookie", "b=2");
return {b: h.get("x-b"), a: h.get("X-A"), has: h.has("X-A"), entries: [...h], cookies: h.getSetCookie(), keys: [...h.keys()]}`,
			want: `{"b":"1, 3","a":"2","has":true,"entries":[["set-cookie","a=1"],["set-cookie","b=2"],["x-a","2"],["x-b","1, 3"]],"cookies":["a=1","b=2"],"keys":["set-cookie","set-cookie","x-a","x-b"]}`},
		{name: "headers append versus set",
			code: `const h = new Headers(); h.append("a", "1"); h.append("a", "2"); const appended = h.get("a"); h.set("A", "3");
let bad = ""; try { h.set("bad name", "x") } catch (e) { bad = e.name } return [appended, h.get("a"), bad]`,
			want: `["1, 2","3","TypeError"]`},
		// Streams
		{name: "readable stream pull and for await",
			code: `let i = 0; const rs = new ReadableStream({ pull(c) { if (i < 3) c.enqueue(i++); else c.close() } });
const got = []; for await (const x of rs) got.push(x); return [got, rs.locked]`,
			want: `[[0,1,2],false]`},
		{name: "transform and text encoder decoder streams",
			code: `const rs = new ReadableStream({ start(c) { c.enqueue("hé"); c.enqueue("llo"); c.close() } });
const upper = new TransformStream({ transform(chunk, c) { c.enqueue(chunk.toUpperCase()) } });
const out = rs.pipeThrough(upper).pipeThrough(new TextEncoderStream()).pipeThrough(new TextDecoderStream());
let s = ""; const r = out.getReader(); for (;;) { const {value, done} = await r.read(); if (done) break; s += value } return s`,
			want: `"HÉLLO"`},
		// URL
		{name: "url and urlsearchparams",
			code: `const u = new URL("https://user:pw@EXAMPLE.com:443/a/../b?x=1&y=2#h"); const sp = u.searchParams; sp.append("z", "3 4"); sp.delete("x");
let bad = ""; try { new URL("nope") } catch (e) { bad = e.name }
return [u.href, u.origin, [...sp], bad, URL.canParse("a", "https://b/"), new URLSearchParams({a: "1", b: "2"}).toString()]`,
			want: `["https://user:pw@example.com/b?y=2&z=3+4#h","https://example.com",[["y","2"],["z","3 4"]],"TypeError",true,"a=1&b=2"]`},
		// Encoding
		{name: "text encoder encodeInto",
			code: `const te = new TextEncoder(); const dst = new Uint8Array(5); const r = te.encodeInto("aé😀", dst);
return [Array.from(te.encode("é")), r.read, r.written, Array.from(dst), te.encoding]`,
			want: `[[195,169],2,3,[97,195,169,0,0],"utf-8"]`},
		{name: "text decoder fatal bom stream",
			code: `const d = new TextDecoder(); const bad = new Uint8Array([0x61, 0xF0, 0x9F, 0x98, 0x62]);
let fatal = ""; try { new TextDecoder("utf-8", {fatal: true}).decode(bad) } catch (e) { fatal = e.name }
const bom = new Uint8Array([0xEF, 0xBB, 0xBF, 0x68, 0x69]);
const s = new TextDecoder(); const parts = [s.decode(new Uint8Array([0xE2, 0x82]), {stream: true}), s.decode(new Uint8Array([0xAC]), {stream: true}), s.decode()];
return [d.decode(bad), fatal, d.decode(bom), new TextDecoder("utf8", {ignoreBOM: true}).decode(bom).length, parts]`,
			want: `["a` + "\ufffd" + `b","TypeError","hi",3,["","€",""]]`},
		{name: "atob btoa",
			code: `const out = [btoa("hello"), atob("aGVsbG8="), atob(" aGVs bG8 "), btoa(String.fromCharCode(255, 0))];
try { atob("a") } catch (e) { out.push(e.name) } try { btoa("€") } catch (e) { out.push(e.name) } return out`,
			want: `["aGVsbG8=","hello","hello","/wA=","InvalidCharacterError","InvalidCharacterError"]`},
		{name: "structuredClone",
			code: `const o = {d: new Date(0), m: new Map([[1, {x: 1}]]), s: new Set([1]), u: new Uint8Array([1, 2])}; o.self = o;
const c = structuredClone(o); let fn = ""; try { structuredClone({f() {}}) } catch (e) { fn = e.name }
return [c !== o, c.self === c, c.d instanceof Date, c.m.get(1).x, c.m.get(1) !== o.m.get(1), c.s.has(1), Array.from(c.u), fn]`,
			want: `[true,true,true,1,true,true,[1,2],"DataCloneError"]`},
		// Crypto
		{name: "crypto getRandomValues randomUUID",
			code: `const a = crypto.getRandomValues(new Uint8Array(32)); let q = ""; try { crypto.getRandomValues(new Uint8Array(65537)) } catch (e) { q = e.name }
const u = crypto.randomUUID(); return [a.length, a.some(x => x !== 0), q, /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/.test(u), u !== crypto.randomUUID()]`,
			want: `[32,true,"QuotaExceededError",true,true]`},
		{name: "crypto subtle digest sha-1 256 384 512",
			code: `const hex = (b) => Array.from(new Uint8Array(b), x => x.toString(16).padStart(2, "0")).join(""); const data = new TextEncoder().encode("abc"); const out = [];
for (const a of ["SHA-1", "SHA-256", "SHA-384", "SHA-512"]) out.push(hex(await crypto.subtle.digest(a, data)).slice(0, 16)); return out`,
			want: `["a9993e364706816a","ba7816bf8f01cfea","cb00753f45a35e8b","ddaf35a193617aba"]`},
		{name: "crypto subtle hmac sign verify timingSafeEqual",
			code: `const te = new TextEncoder(); const hex = (b) => Array.from(new Uint8Array(b), x => x.toString(16).padStart(2, "0")).join("");
const key = await crypto.subtle.importKey("raw", te.encode("Jefe"), {name: "HMAC", hash: "SHA-256"}, false, ["sign", "verify"]);
const sig = await crypto.subtle.sign("HMAC", key, te.encode("what do ya want for nothing?"));
return [hex(sig), await crypto.subtle.verify("HMAC", key, sig, te.encode("what do ya want for nothing?")), await crypto.subtle.verify("HMAC", key, sig, te.encode("other")),
  crypto.subtle.timingSafeEqual(te.encode("ab"), te.encode("ab")), crypto.subtle.timingSafeEqual(te.encode("ab"), te.encode("ac"))]`,
			want: `["5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843",true,false,true,false]`},
		// Timers and the event loop
		{name: "timers microtasks scheduler.wait",
			code: `const log = []; setTimeout(() => log.push("t2"), 80); const id = setTimeout(() => log.push("never"), 5); clearTimeout(id);
setTimeout(() => log.push("t1"), 1); queueMicrotask(() => log.push("micro")); Promise.resolve().then(() => log.push("then")); log.push("sync");
await scheduler.wait(200); return log`,
			want: `["sync","micro","then","t1","t2"]`},
		// ctx
		{name: "ctx request id is the X-Request-Id",
			header: http.Header{"X-Request-Id": {"compat-req-1"}},
			code:   `return [ctx.requestId, typeof ctx.executionId, ctx.executionId.length > 0, ctx.executionId !== ctx.requestId, Object.keys(ctx.params).length]`,
			want:   `["compat-req-1","string",true,true,0]`},
		// env bindings
		{name: "env text and json bindings",
			bindings: map[string]any{"T": map[string]any{"type": "text", "value": "t"}, "J": map[string]any{"type": "json", "value": map[string]any{"a": []int{1}}}},
			code:     `return [env.T, env.J, env.MISSING === undefined]`,
			want:     `["t",{"a":[1]},true]`},
	}
	for i, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			src := "export default { async fetch(request, env, ctx) {\nconst result = await (async () => {\n" + tc.code +
				"\n})();\nreturn Response.json(result);\n} }"
			url := deploy(fmt.Sprintf("surface-%d", i), src, tc.bindings)
			method := tc.method
			if method == "" {
				method = "GET"
				if tc.body != "" {
					method = "POST"
				}
			}
			req, _ := http.NewRequest(method, url+"?q=1", strings.NewReader(tc.body))
			for k, v := range tc.header {
				req.Header[k] = v
			}
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			b, _ := io.ReadAll(resp.Body)
			if resp.StatusCode != 200 || string(b) != tc.want {
				t.Fatalf("got  %d %s\nwant %s", resp.StatusCode, b, tc.want)
			}
		})
	}
}

// compatWire checks what reaches the client: status codes without bodies,
// redirects, joined and repeated headers in both directions, binary
// bodies and HEAD.
func compatWire(t *testing.T, deploy deployFunc) {
	noFollow := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	cases := []struct {
		name, method, source string
		reqHeader            http.Header
		wantStatus           int
		wantHeader           map[string]string // values joined with ", "
		wantBody             string
	}{
		{name: "204 without body", source: `export default { fetch() { return new Response(null, {status: 204, headers: {"x-k": "v"}}) } }`,
			wantStatus: 204, wantHeader: map[string]string{"X-K": "v"}},
		{name: "304 without body", source: `export default { fetch() { return new Response(null, {status: 304}) } }`, wantStatus: 304},
		{name: "redirect", source: `export default { fetch(req) { return Response.redirect(new URL("/to?x=1", req.url).href, 307) } }`,
			wantStatus: 307, wantHeader: map[string]string{"Location": "ORIGIN/to?x=1"}},
		{name: "appended header joined", source: `export default { fetch() { const h = new Headers(); h.set("X-Multi", "x"); h.append("x-multi", "y"); return new Response("ok", {headers: h}) } }`,
			wantStatus: 200, wantHeader: map[string]string{"X-Multi": "x, y", "Content-Type": "text/plain;charset=UTF-8"}, wantBody: "ok"},
		{name: "repeated request header joined", source: `export default { fetch(req) { return new Response(req.headers.get("x-a")) } }`,
			reqHeader: http.Header{"X-A": {"1", "2"}}, wantStatus: 200, wantBody: "1, 2"},
		{name: "arraybuffer body", source: `export default { fetch() { return new Response(new Uint8Array([0, 255, 10]).buffer) } }`,
			wantStatus: 200, wantHeader: map[string]string{"Content-Length": "3"}, wantBody: "\x00\xff\n"},
		{name: "dataview body", source: `export default { fetch() { return new Response(new DataView(new Uint8Array([9, 8, 7, 6]).buffer, 1, 2)) } }`,
			wantStatus: 200, wantBody: "\x08\x07"},
		{name: "status 599 passes", source: `export default { fetch() { return new Response("odd", {status: 599}) } }`, wantStatus: 599, wantBody: "odd"},
		{name: "head has no body", method: "HEAD", source: `export default { fetch() { return new Response("abc") } }`, wantStatus: 200},
	}
	for i, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			url := deploy(fmt.Sprintf("wire-%d", i), tc.source, nil)
			method := tc.method
			if method == "" {
				method = "GET"
			}
			req, _ := http.NewRequest(method, url, nil)
			for k, v := range tc.reqHeader {
				req.Header[k] = v
			}
			resp, err := noFollow.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			b, _ := io.ReadAll(resp.Body)
			if resp.StatusCode != tc.wantStatus || string(b) != tc.wantBody {
				t.Fatalf("got %d %q, want %d %q", resp.StatusCode, b, tc.wantStatus, tc.wantBody)
			}
			origin := url[:strings.Index(url, "/api/")]
			for k, v := range tc.wantHeader {
				v = strings.ReplaceAll(v, "ORIGIN", origin)
				if got := strings.Join(resp.Header.Values(k), ", "); got != v {
					t.Errorf("%s = %q, want %q", k, got, v)
				}
			}
		})
	}
}

type compatExecution struct {
	Outcome string `json:"outcome"`
	Status  int    `json:"status"`
	Logs    []struct {
		Level   string `json:"level"`
		Message string `json:"message"`
	} `json:"logs"`
}

// executions polls the admin API until the script has n stored executions.
func executions(t *testing.T, base, token, scriptID string, n int) []compatExecution {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		req, _ := http.NewRequest(http.MethodGet, base+"/api/v1/admin/executions?lines=true&script="+scriptID, nil)
		req.Header.Set("Authorization", "Bearer "+token)
		body, status := do(t, req)
		var out struct {
			Executions []compatExecution `json:"executions"`
		}
		if status != 200 {
			t.Fatalf("executions = %d %s", status, body)
		}
		if err := json.Unmarshal([]byte(body), &out); err != nil {
			t.Fatal(err)
		}
		if len(out.Executions) >= n {
			return out.Executions
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d executions stored for %s, want %d", len(out.Executions), scriptID, n)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// compatLifecycle reads back, through the execution log of the admin API,
// console levels, an unhandled rejection and the stack of a failure.
func compatLifecycle(t *testing.T, base, token string, deploy deployFunc, call callFunc) {
	cases := []struct {
		name, source string
		wantStatus   int
		wantOutcome  string
		wantLogs     []string // regexps over "level: message"
	}{
		{name: "console levels", wantStatus: 200, wantOutcome: "success",
			source:   `export default { fetch() { console.debug("d"); console.log("l", {a: 1}); console.info("i"); console.warn("w"); console.error("e"); return new Response("") } }`,
			wantLogs: []string{`^debug: d$`, `^info: l \{"a":1\}$`, `^info: i$`, `^warn: w$`, `^error: e$`}},
		{name: "unhandled rejection is logged", wantStatus: 200, wantOutcome: "success",
			source:   `export default { async fetch() { Promise.reject(new Error("lost")); await scheduler.wait(1); return new Response("") } }`,
			wantLogs: []string{`(?s)^error: Uncaught \(in promise\) Error: lost`}},
		{name: "throw gives a 500 and the stack in the logs", wantStatus: 500, wantOutcome: "error",
			source:   "function inner() { throw new Error(\"boom\") }\nexport default { fetch() { inner() } }",
			wantLogs: []string{`(?s)^error: .*Error: boom.*at inner.*at fetch`}},
		{name: "non-response gives a 500 and says why in the logs", wantStatus: 500, wantOutcome: "error",
			source:   `export default { fetch() { return "text" } }`,
			wantLogs: []string{`^error: .*not a Response`}},
	}
	for i, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			url := deploy(fmt.Sprintf("life-%d", i), tc.source, nil)
			if resp, body := call("GET", url, "", nil); resp.StatusCode != tc.wantStatus {
				t.Fatalf("status %d %s, want %d", resp.StatusCode, body, tc.wantStatus)
			}
			ex := executions(t, base, token, path.Base(url), 1)[0]
			if ex.Outcome != tc.wantOutcome || ex.Status != tc.wantStatus {
				t.Errorf("stored outcome %q status %d, want %q %d", ex.Outcome, ex.Status, tc.wantOutcome, tc.wantStatus)
			}
			lines := make([]string, len(ex.Logs))
			for j, l := range ex.Logs {
				lines[j] = l.Level + ": " + l.Message
			}
		next:
			for _, pat := range tc.wantLogs {
				re := regexp.MustCompile(pat)
				for _, l := range lines {
					if re.MatchString(l) {
						continue next
					}
				}
				t.Errorf("no log line matches %s in %q", pat, lines)
			}
		})
	}
}

// compatRouted reaches scripts through a route of the default app (which
// claims localhost) rather than /api/v1/execute: ctx.params carries the
// path parameters. It also deploys TypeScript and a module exporting
// scheduled next to fetch.
func compatRouted(t *testing.T, base, token string, deploy deployFunc) {
	var d struct{ ID string }
	if status := postJSON(t, base+"/api/v1/admin/scripts", token, map[string]any{"app": "default", "name": "typed", "language": "typescript",
		"source": `interface Out { params: Record<string, string>; ids: boolean }
export default {
  async fetch(request: Request, env: unknown, ctx: { params: Record<string, string>; requestId: string; executionId: string }): Promise<Response> {
    const out: Out = { params: ctx.params, ids: ctx.requestId.length > 0 && ctx.executionId.length > 0 };
    return Response.json(out);
  },
  async scheduled(event: unknown, env: unknown, ctx: unknown): Promise<void> {},
};`}, &d); status != http.StatusCreated {
		t.Fatalf("deploy typescript = %d", status)
	}
	var r struct{ ID string }
	if status := postJSON(t, base+"/api/v1/admin/routes", token, map[string]any{"app": "default", "script": "typed", "method": "GET", "path": "/compat/:id/*rest"}, &r); status != http.StatusCreated {
		t.Fatalf("create route = %d", status)
	}
	want := `{"params":{"id":"42","rest":"a/b.txt"},"ids":true}`
	deadline := time.Now().Add(10 * time.Second)
	for {
		body, status := get(t, base+"/compat/42/a/b.txt", "localhost")
		if status == 200 && body == want {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("GET /compat/42/a/b.txt = %d %s, want %s", status, body, want)
		}
		time.Sleep(50 * time.Millisecond)
	}
	// The same route does not answer for a host no app claims.
	if body, status := get(t, base+"/compat/42/x", "nobody.example"); status != 404 || !strings.Contains(body, "unknown_host") {
		t.Errorf("unclaimed host = %d %s", status, body)
	}
}

// compatFetchCaps checks fetch()'s per-execution subrequest limit, its
// response size cap and a script-side timeout against a local upstream.
func compatFetchCaps(t *testing.T, base, token, upstream string, call callFunc) {
	var d struct{ ID string }
	src := `export default { async fetch() {
  const out = [];
  for (let i = 0; i < 3; i++) { try { out.push((await fetch("UP/echo")).status) } catch (e) { out.push(e.message.includes("too many subrequests")) } }
  return Response.json(out);
} }`
	if status := postJSON(t, base+"/api/v1/admin/scripts", token, map[string]any{"app": "default", "name": "subreq",
		"source": strings.ReplaceAll(src, "UP", upstream), "limits": map[string]any{"subrequests": 2}}, &d); status != http.StatusCreated {
		t.Fatalf("deploy = %d", status)
	}
	if resp, body := call("GET", base+"/api/v1/execute/"+d.ID, "", nil); resp.StatusCode != 200 || string(body) != `[200,200,true]` {
		t.Errorf("subrequest limit: %d %s", resp.StatusCode, body)
	}

	src = `export default { async fetch() {
  const out = [];
  try { await fetch("UP/big"); out.push("fetched") } catch (e) { out.push(e.name, e.message.includes("too large")) }
  const t = Date.now();
  try { await fetch("UP/slow", {signal: AbortSignal.timeout(200)}); out.push("fetched") } catch (e) { out.push(e.name, Date.now() - t < 1500) }
  return Response.json(out);
} }`
	if status := postJSON(t, base+"/api/v1/admin/scripts", token, map[string]any{"app": "default", "name": "caps",
		"source": strings.ReplaceAll(src, "UP", upstream)}, &d); status != http.StatusCreated {
		t.Fatalf("deploy = %d", status)
	}
	resp, body := call("GET", base+"/api/v1/execute/"+d.ID, "", nil)
	if want := `["TypeError",true,"TimeoutError",true]`; resp.StatusCode != 200 || !bytes.Equal(body, []byte(want)) {
		t.Errorf("size cap and timeout: %d %s, want %s", resp.StatusCode, body, want)
	}
}

// compatMetrics scrapes the running agent's /metrics: the numbers come from
// the real engine, the real Postgres pool and the requests made above.
func compatMetrics(t *testing.T, base string) {
	// Two more calls of the seeded script: the second is a script cache hit.
	for i := 0; i < 2; i++ {
		if _, status := get(t, base+"/", "localhost"); status != 200 {
			t.Fatalf("/ = %d", status)
		}
	}
	body, status := get(t, base+"/metrics", "")
	if status != 200 {
		t.Fatalf("/metrics = %d", status)
	}
	parser := expfmt.NewTextParser(model.UTF8Validation)
	fams, err := parser.TextToMetricFamilies(strings.NewReader(body))
	if err != nil {
		t.Fatalf("parsing /metrics: %v", err)
	}
	sum := func(family string, labels map[string]string) float64 {
		fam := fams[family]
		if fam == nil {
			t.Fatalf("family %s missing", family)
		}
		var total float64
	next:
		for _, m := range fam.GetMetric() {
			for _, lp := range m.GetLabel() {
				if v, ok := labels[lp.GetName()]; ok && v != lp.GetValue() {
					continue next
				}
			}
			switch {
			case m.Counter != nil:
				total += m.Counter.GetValue()
			case m.Gauge != nil:
				total += m.Gauge.GetValue()
			case m.Histogram != nil:
				total += float64(m.Histogram.GetSampleCount())
			}
		}
		return total
	}
	checks := []struct {
		name, family string
		labels       map[string]string
		min          float64
	}{
		{"routed requests by route", "picloud_http_requests_total", map[string]string{"status_class": "2xx"}, 40},
		{"failed requests", "picloud_http_requests_total", map[string]string{"status_class": "5xx"}, 5},
		{"unknown host", "picloud_http_requests_total", map[string]string{"app": "", "status_class": "4xx"}, 1},
		{"latency histogram", "picloud_http_request_duration_seconds", nil, 40},
		{"successful executions", "picloud_executions_total", map[string]string{"outcome": "success"}, 40},
		{"failed executions", "picloud_executions_total", map[string]string{"outcome": "error"}, 5},
		{"script cache hits", "picloud_script_cache_total", map[string]string{"result": "hit"}, 1},
		{"runtime pools", "picloud_runtime_pools", nil, 1},
		{"idle runtimes", "picloud_runtime_instances_idle", nil, 1},
		{"runtimes created", "picloud_runtime_instances_created_total", nil, 2},
		{"gate capacity", "picloud_gate_capacity", nil, 32},
		{"postgres pool size", "picloud_db_pool_max_connections", nil, 1},
		{"postgres acquisitions", "picloud_db_pool_acquires_total", nil, 1},
	}
	for _, c := range checks {
		if got := sum(c.family, c.labels); got < c.min {
			t.Errorf("%s: %s%v = %v, want at least %v", c.name, c.family, c.labels, got, c.min)
		}
	}
	if _, ok := fams["picloud_gate_rejections_total"]; !ok {
		t.Error("picloud_gate_rejections_total missing")
	}
}
