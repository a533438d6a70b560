package runtime

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/picloud/picloud/internal/limits"
)

func newTestEngine(t *testing.T, cfg Config) *Engine {
	t.Helper()
	if cfg.Limits == (limits.Limits{}) {
		cfg.Limits = limits.Limits{WallTimeMS: 20000, CPUTimeMS: 20000, CallDepth: 256, LogLines: 100}
	}
	e, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return e
}

// jsCase runs code as the body of an async fetch handler whose return
// value is sent back as JSON, and compares that JSON with want.
type jsCase struct {
	name   string
	method string
	header http.Header
	body   string
	code   string
	want   string
}

func runJSCases(t *testing.T, e *Engine, cases []jsCase) {
	t.Helper()
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			src := "export default { async fetch(request, env, ctx) {\nconst result = await (async () => {\n" + tc.code +
				"\n})();\nreturn Response.json(result);\n} }"
			s := deployed(t, strings.ReplaceAll(tc.name, " ", "-"), src, "")
			method := tc.method
			if method == "" {
				method = "GET"
				if tc.body != "" {
					method = "POST"
				}
			}
			w := httptest.NewRecorder()
			req := &ExecRequest{Script: s, Method: method, URL: "https://example.com/p?q=1", Header: tc.header, Body: []byte(tc.body),
				Params: map[string]string{"id": "42"}, RequestID: "req-1", ExecutionID: "exec-1"}
			res, err := e.Execute(context.Background(), req, w)
			if err != nil {
				t.Fatalf("execute: %v\nlogs: %+v", err, res.Logs)
			}
			if got := w.Body.String(); got != tc.want {
				t.Fatalf("got  %s\nwant %s\nlogs: %+v", got, tc.want, res.Logs)
			}
		})
	}
}

func TestWebHeadersRequestResponse(t *testing.T) {
	e := newTestEngine(t, Config{})
	var mp bytes.Buffer
	mw := multipart.NewWriter(&mp)
	_ = mw.WriteField("title", "hé")
	fw, _ := mw.CreateFormFile("upload", "a.bin")
	_, _ = fw.Write([]byte{0, 1, 2, 255})
	_ = mw.Close()

	runJSCases(t, e, []jsCase{
		{name: "headers case-insensitive sorted joined",
			code: `const h = new Headers({"X-B": "1", "x-a": "2"}); h.append("X-B", "3"); h.append("Set-Cookie", "a=1"); h.append("set-cookie", "b=2");
return {b: h.get("x-b"), a: h.get("X-A"), has: h.has("X-A"), entries: [...h], cookies: h.getSetCookie(), keys: [...h.keys()]}`,
			want: `{"b":"1, 3","a":"2","has":true,"entries":[["set-cookie","a=1"],["set-cookie","b=2"],["x-a","2"],["x-b","1, 3"]],"cookies":["a=1","b=2"],"keys":["set-cookie","set-cookie","x-a","x-b"]}`},
		{name: "headers set replaces append adds and bad names throw",
			code: `const h = new Headers(); h.append("a", "1"); h.append("a", "2"); h.set("A", "3"); h.delete("nope");
let bad = ""; try { h.set("bad name", "x") } catch (e) { bad = e.name }
let badv = ""; try { h.set("x", "a\r\nb") } catch (e) { badv = e.name }
return [h.get("a"), bad, badv, new Headers([["k", " v "]]).get("k")]`,
			want: `["3","TypeError","TypeError","v"]`},
		{name: "incoming request",
			header: http.Header{"Content-Type": {"application/json"}, "X-Test": {"1"}}, body: `{"n":1}`,
			code: `const j = await request.json(); let second = ""; try { await request.text() } catch (e) { second = e.name + ": " + e.message.slice(0, 26) }
return {m: request.method, url: request.url, ct: request.headers.get("content-type"), j, used: request.bodyUsed, second}`,
			want: `{"m":"POST","url":"https://example.com/p?q=1","ct":"application/json","j":{"n":1},"used":true,"second":"TypeError: Body has already been used"}`},
		{name: "body readers settle, never throw",
			body: `{"n":`,
			code: `const p = request.json(); const used = request.bodyUsed; const again = request.text();
let bad = "", twice = ""; try { await p } catch (e) { bad = e.name } try { await again } catch (e) { twice = e.name }
const r = new Response("é"); const [t, b] = [await r.text(), await new Response("é").bytes()];
return [p instanceof Promise, again instanceof Promise, used, bad, twice, t, b.length, await new Response(null).text()]`,
			want: `[true,true,true,"SyntaxError","TypeError","é",2,""]`},
		{name: "request clone reads twice",
			body: "hello",
			code: `const c = request.clone(); return [await request.text(), await c.text(), request.bodyUsed, c.bodyUsed]`,
			want: `["hello","hello",true,true]`},
		{name: "request arrayBuffer and bytes",
			body: "abc",
			code: `const c = request.clone(); const ab = await request.arrayBuffer(); const u = await c.bytes();
return [ab instanceof ArrayBuffer, ab.byteLength, u instanceof Uint8Array, Array.from(u)]`,
			want: `[true,3,true,[97,98,99]]`},
		{name: "request body stream",
			body: "streamed",
			code: `const r = request.body.getReader(); let s = ""; const d = new TextDecoder();
for (;;) { const {value, done} = await r.read(); if (done) break; s += d.decode(value, {stream: true}) }
return [s, request.bodyUsed]`,
			want: `["streamed",true]`},
		{name: "formData urlencoded",
			header: http.Header{"Content-Type": {"application/x-www-form-urlencoded"}}, body: "a=1&b=x+y&a=%C3%A9",
			code: `const f = await request.formData(); return {a: f.getAll("a"), b: f.get("b"), none: f.get("c")}`,
			want: `{"a":["1","é"],"b":"x y","none":null}`},
		{name: "formData multipart from the wire",
			header: http.Header{"Content-Type": {mw.FormDataContentType()}}, body: mp.String(),
			code: `const f = await request.formData(); const file = f.get("upload");
return {title: f.get("title"), isFile: file instanceof File, name: file.name, size: file.size, bytes: Array.from(new Uint8Array(await file.arrayBuffer()))}`,
			want: `{"title":"hé","isFile":true,"name":"a.bin","size":4,"bytes":[0,1,2,255]}`},
		{name: "formData multipart round trip",
			code: `const fd = new FormData(); fd.append("a", "1"); fd.append("f", new Blob(["xyz"], {type: "text/x"}), "n.txt"); fd.set("a", "2");
const r = new Request("https://x/", {method: "POST", body: fd}); const ct = r.headers.get("content-type");
const back = await r.formData(); const f = back.get("f");
return [ct.startsWith("multipart/form-data; boundary="), back.get("a"), f.name, f.type, await f.text()]`,
			want: `[true,"2","n.txt","text/x","xyz"]`},
		{name: "formData wrong type",
			header: http.Header{"Content-Type": {"text/plain"}}, body: "x",
			code: `try { await request.formData(); return "no error" } catch (e) { return e.name }`,
			want: `"TypeError"`},
		{name: "request constructor rules",
			code: `const out = []; for (const f of [() => new Request("https://x/", {method: "GET", body: "b"}), () => new Request("/relative"), () => new Request("https://x/", {method: "TRACE"})]) {
try { f(); out.push("ok") } catch (e) { out.push(e.name) } }
const r = new Request("https://x/a", {method: "post", headers: {"X": "1"}, body: "b"}); const r2 = new Request(r, {headers: {"Y": "2"}});
out.push(r.method, r2.method, r2.headers.get("y"), r2.headers.has("x"), await r2.text(), r.bodyUsed);
return out`,
			want: `["TypeError","TypeError","TypeError","POST","POST","2",false,"b",true]`},
		{name: "response status rules",
			code: `const out = []; for (const [b, s] of [[null, 199], [null, 600], ["x", 204], ["x", 304], ["x", 205], [null, 204], ["x", 599]]) {
try { out.push(new Response(b, {status: s}).status) } catch (e) { out.push(e.name) } } return out`,
			want: `["RangeError","RangeError","TypeError","TypeError","TypeError",204,599]`},
		{name: "response json redirect error",
			code: `const j = Response.json({a: 1}, {status: 201, headers: {"x-y": "z"}}); const r = Response.redirect("https://a.example/b?c", 301);
let bad = ""; try { Response.redirect("https://x/", 200) } catch (e) { bad = e.name }
return [j.status, j.headers.get("content-type"), j.headers.get("x-y"), await j.json(), r.status, r.headers.get("location"), bad, Response.error().type, Response.error().status]`,
			want: `[201,"application/json","z",{"a":1},301,"https://a.example/b?c","RangeError","error",0]`},
		{name: "response binary bodies",
			code: `const u = new Uint8Array([1, 2, 3, 4]); const out = [];
for (const b of [u.buffer, u, new DataView(u.buffer, 1, 2), new Uint16Array([513]), new Blob([u, "a"], {type: "Application/X"})]) {
const r = new Response(b); out.push([Array.from(new Uint8Array(await r.arrayBuffer())), r.headers.get("content-type")]) }
return out`,
			want: `[[[1,2,3,4],null],[[1,2,3,4],null],[[2,3],null],[[1,2],null],[[1,2,3,4,97],"application/x"]]`},
		{name: "response clone ok statusText defaults",
			code: `const r = new Response("body", {status: 404, statusText: "Nope"}); const c = r.clone();
return [await r.text(), await c.text(), c.status, c.statusText, r.ok, new Response().ok, new Response("s").headers.get("content-type")]`,
			want: `["body","body",404,"Nope",false,true,"text/plain;charset=UTF-8"]`},
		{name: "response stream clone",
			code: `const r = new Response(new ReadableStream({start(c) { c.enqueue(new TextEncoder().encode("a")); c.enqueue(new TextEncoder().encode("b")); c.close() }}));
const c = r.clone(); return [await r.text(), await c.text()]`,
			want: `["ab","ab"]`},
		{name: "blob slice text",
			code: `const b = new Blob(["héllo", " ", "world"]); return [b.size, await b.slice(0, 6).text(), await b.slice(-5).text(), b.slice(1, 2, "T/X").type]`,
			want: `[12,"héllo","world","t/x"]`},
		{name: "ctx params and ids",
			code: `return [ctx.params.id, ctx.requestId, ctx.executionId, typeof ctx.waitUntil, typeof ctx.passThroughOnException]`,
			want: `["42","req-1","exec-1","function","function"]`},
	})
}

func TestWebStreamsEncodingCrypto(t *testing.T) {
	e := newTestEngine(t, Config{})
	runJSCases(t, e, []jsCase{
		{name: "text encoder",
			code: `const te = new TextEncoder(); const dst = new Uint8Array(5); const r = te.encodeInto("aé😀", dst);
return [Array.from(te.encode("é")), r.read, r.written, Array.from(dst), te.encoding]`,
			want: `[[195,169],2,3,[97,195,169,0,0],"utf-8"]`},
		{name: "text decoder fatal bom stream",
			code: `const d = new TextDecoder(); const bad = new Uint8Array([0x61, 0xF0, 0x9F, 0x98, 0x62]);
let fatal = ""; try { new TextDecoder("utf-8", {fatal: true}).decode(bad) } catch (e) { fatal = e.name }
const bom = new Uint8Array([0xEF, 0xBB, 0xBF, 0x68, 0x69]);
const s = new TextDecoder(); const parts = [s.decode(new Uint8Array([0xE2, 0x82]), {stream: true}), s.decode(new Uint8Array([0xAC]), {stream: true}), s.decode()];
let label = ""; try { new TextDecoder("latin9") } catch (e) { label = e.name }
return [d.decode(bad), fatal, d.decode(bom), new TextDecoder("utf8", {ignoreBOM: true}).decode(bom).length, parts, label, d.decode()]`,
			want: `["a` + "\ufffd" + `b","TypeError","hi",3,["","€",""],"RangeError",""]`},
		{name: "atob btoa",
			code: `const out = [btoa("hello"), atob("aGVsbG8="), atob(" aGVs bG8 "), atob("aGVsbG8"), atob("YQ"), btoa(String.fromCharCode(255, 0))];
for (const bad of ["a", "aGVsbG8===", "a!bc", "€"]) { try { atob(bad); out.push("ok") } catch (e) { out.push(e.name + "/" + e.code + "/" + (e instanceof DOMException)) } }
try { btoa("€") } catch (e) { out.push(e.name) }
return out`,
			want: `["aGVsbG8=","hello","hello","hello","a","/wA=","InvalidCharacterError/5/true","InvalidCharacterError/5/true","InvalidCharacterError/5/true","InvalidCharacterError/5/true","InvalidCharacterError"]`},
		{name: "readable stream pull and for await",
			code: `let i = 0; const rs = new ReadableStream({ pull(c) { if (i < 3) c.enqueue(i++); else c.close() } });
const got = []; for await (const x of rs) got.push(x); return [got, rs.locked]`,
			want: `[[0,1,2],false]`},
		{name: "transform pipeThrough text streams",
			code: `const rs = new ReadableStream({ start(c) { c.enqueue("hé"); c.enqueue("llo"); c.close() } });
const upper = new TransformStream({ transform(chunk, c) { c.enqueue(chunk.toUpperCase()) } });
const out = rs.pipeThrough(upper).pipeThrough(new TextEncoderStream()).pipeThrough(new TextDecoderStream());
let s = ""; const r = out.getReader(); for (;;) { const {value, done} = await r.read(); if (done) break; s += value } return s`,
			want: `"HÉLLO"`},
		{name: "tee and cancel",
			code: `const [a, b] = new ReadableStream({ start(c) { c.enqueue(1); c.enqueue(2); c.close() } }).tee();
const ra = a.getReader(), rb = b.getReader(); const x = [(await ra.read()).value, (await rb.read()).value, (await ra.read()).value, (await ra.read()).done];
let cancelled = null; const s = new ReadableStream({ cancel(r) { cancelled = r } }); await s.cancel("why"); return [x, cancelled]`,
			want: `[[1,1,2,true],"why"]`},
		{name: "writable stream",
			code: `const got = []; const ws = new WritableStream({ write(c) { got.push(c) }, close() { got.push("closed") } });
const w = ws.getWriter(); await w.write("a"); await w.write("b"); await w.close(); return got`,
			want: `["a","b","closed"]`},
		{name: "structuredClone",
			code: `const o = {d: new Date(0), m: new Map([[1, {x: 1}]]), s: new Set([1]), u: new Uint8Array([1, 2]), nested: {a: [1, 2]}}; o.self = o;
const c = structuredClone(o); let fn = ""; try { structuredClone({f() {}}) } catch (e) { fn = e.name }
return [c !== o, c.self === c, c.d instanceof Date, c.d.getTime(), c.m.get(1).x, c.m.get(1) !== o.m.get(1), c.s.has(1), Array.from(c.u), c.u.buffer !== o.u.buffer, c.nested.a, fn]`,
			want: `[true,true,true,0,1,true,true,[1,2],true,[1,2],"DataCloneError"]`},
		{name: "crypto random",
			code: `const a = crypto.getRandomValues(new Uint8Array(32)); let q = "", tm = "";
try { crypto.getRandomValues(new Uint8Array(65537)) } catch (e) { q = e.name } try { crypto.getRandomValues(new Float64Array(2)) } catch (e) { tm = e.name }
const u = crypto.randomUUID(); return [a.length, a.some(x => x !== 0), q, tm, /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/.test(u), u !== crypto.randomUUID()]`,
			want: `[32,true,"QuotaExceededError","TypeMismatchError",true,true]`},
		{name: "crypto digest",
			code: `const hex = (b) => Array.from(new Uint8Array(b), x => x.toString(16).padStart(2, "0")).join(""); const data = new TextEncoder().encode("abc"); const out = [];
for (const a of ["SHA-1", "SHA-256", {name: "sha-384"}, "SHA-512"]) out.push(hex(await crypto.subtle.digest(a, data)).slice(0, 16));
try { await crypto.subtle.digest("SHA-3", data) } catch (e) { out.push(e.name) } return out`,
			want: `["a9993e364706816a","ba7816bf8f01cfea","cb00753f45a35e8b","ddaf35a193617aba","NotSupportedError"]`},
		{name: "crypto hmac",
			code: `const te = new TextEncoder(); const hex = (b) => Array.from(new Uint8Array(b), x => x.toString(16).padStart(2, "0")).join("");
const key = await crypto.subtle.importKey("raw", te.encode("Jefe"), {name: "HMAC", hash: "SHA-256"}, false, ["sign", "verify"]);
const sig = await crypto.subtle.sign("HMAC", key, te.encode("what do ya want for nothing?"));
const ok = await crypto.subtle.verify("HMAC", key, sig, te.encode("what do ya want for nothing?"));
const bad = await crypto.subtle.verify({name: "HMAC"}, key, sig, te.encode("other"));
let exp = ""; try { await crypto.subtle.exportKey("raw", key) } catch (e) { exp = e.name }
const signOnly = await crypto.subtle.importKey("raw", te.encode("k"), {name: "HMAC", hash: {name: "SHA-1"}}, true, ["sign"]);
let use = ""; try { await crypto.subtle.verify("HMAC", signOnly, sig, te.encode("x")) } catch (e) { use = e.name }
let len = ""; try { crypto.subtle.timingSafeEqual(new Uint8Array(1), new Uint8Array(2)) } catch (e) { len = e.name }
return [hex(sig), ok, bad, key.algorithm.hash.name, key.type, exp, use, new Uint8Array(await crypto.subtle.exportKey("raw", signOnly))[0],
  crypto.subtle.timingSafeEqual(te.encode("ab"), te.encode("ab")), crypto.subtle.timingSafeEqual(te.encode("ab"), te.encode("ac")), len]`,
			want: `["5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843",true,false,"SHA-256","secret","InvalidAccessError","InvalidAccessError",107,true,false,"TypeError"]`},
		{name: "timers and microtasks order",
			code: `const log = []; setTimeout(() => log.push("t2"), 80); const id = setTimeout(() => log.push("never"), 5); clearTimeout(id);
setTimeout(() => log.push("t1"), 1); queueMicrotask(() => log.push("micro")); Promise.resolve().then(() => log.push("then")); log.push("sync");
let n = 0; await new Promise(r => { const iv = setInterval(() => { n++; if (n === 3) { clearInterval(iv); r() } }, 2) });
await scheduler.wait(200); return [log, n]`,
			want: `[["sync","micro","then","t1","t2"],3]`},
		{name: "abort signal",
			code: `const c = new AbortController(); let fired = 0; c.signal.addEventListener("abort", () => fired++); c.abort(); c.abort();
const t = AbortSignal.timeout(5); await scheduler.wait(80);
let w = ""; try { await scheduler.wait(1000, {signal: AbortSignal.abort()}) } catch (e) { w = e.name }
return [c.signal.aborted, c.signal.reason.name, fired, t.aborted, t.reason.name, w]`,
			want: `[true,"AbortError",1,true,"TimeoutError","AbortError"]`},
		{name: "url basics",
			code: `const u = new URL("https://user:pw@EXAMPLE.com:443/a/../b?x=1&y=2#h"); const sp = u.searchParams; sp.append("z", "3 4"); sp.delete("x");
let bad = ""; try { new URL("nope") } catch (e) { bad = e.name } let badHref = ""; try { u.href = "::" } catch (e) { badHref = e.name }
return [u.href, u.origin, u.searchParams === sp, [...sp], bad, badHref, URL.canParse("a", "https://b/"), new URLSearchParams({a: "1", b: "2"}).toString(), JSON.stringify({u})]`,
			want: `["https://user:pw@example.com/b?y=2&z=3+4#h","https://example.com",true,[["y","2"],["z","3 4"]],"TypeError","TypeError",true,"a=1&b=2","{\"u\":\"https://user:pw@example.com/b?y=2&z=3+4#h\"}"]`},
		{name: "globals present",
			code: `return ["fetch", "Request", "Response", "Headers", "URL", "URLSearchParams", "TextEncoder", "TextDecoder", "atob", "btoa", "crypto", "structuredClone",
"ReadableStream", "WritableStream", "TransformStream", "TextEncoderStream", "TextDecoderStream", "Blob", "File", "FormData", "setTimeout", "clearTimeout",
"setInterval", "clearInterval", "queueMicrotask", "scheduler", "console", "AbortController", "DOMException", "navigator", "performance", "self"].filter(n => typeof globalThis[n] === "undefined")`,
			want: `[]`},
	})
}

func TestWebWire(t *testing.T) {
	e := newTestEngine(t, Config{})
	cases := []struct {
		name, method, source string
		wantStatus           int
		wantHeader           http.Header
		wantBody             string
	}{
		{name: "several set-cookie lines", source: `export default { fetch() { const h = new Headers(); h.append("Set-Cookie", "a=1; Path=/"); h.append("Set-Cookie", "b=2");
h.set("X-Multi", "x"); h.append("x-multi", "y"); return new Response("ok", {headers: h}) } }`,
			wantStatus: 200, wantHeader: http.Header{"Set-Cookie": {"a=1; Path=/", "b=2"}, "X-Multi": {"x", "y"}, "Content-Type": {"text/plain;charset=UTF-8"}}, wantBody: "ok"},
		// Responses with only a default content type build no Headers
		// until the script reads them (prelude.js, defaultContentType).
		{name: "string body, headers never read", source: `export default { fetch() { return new Response("hi") } }`,
			wantStatus: 200, wantHeader: http.Header{"Content-Type": {"text/plain;charset=UTF-8"}, "Content-Length": {"2"}}, wantBody: "hi"},
		{name: "json, headers never read", source: `export default { fetch() { return Response.json({a: 1}, {status: 201}) } }`,
			wantStatus: 201, wantHeader: http.Header{"Content-Type": {"application/json"}}, wantBody: `{"a":1}`},
		{name: "headers read then changed", source: `export default { fetch() { const r = new Response("hi"); r.headers.set("x-a", "1"); return r } }`,
			wantStatus: 200, wantHeader: http.Header{"Content-Type": {"text/plain;charset=UTF-8"}, "X-A": {"1"}}, wantBody: "hi"},
		{name: "content type replaced", source: `export default { fetch() { const r = new Response("<p>"); r.headers.set("content-type", "text/html"); return r } }`,
			wantStatus: 200, wantHeader: http.Header{"Content-Type": {"text/html"}}, wantBody: "<p>"},
		{name: "clone keeps the default content type", source: `export default { fetch() { return Response.json([1]).clone() } }`,
			wantStatus: 200, wantHeader: http.Header{"Content-Type": {"application/json"}}, wantBody: `[1]`},
		{name: "no body, no content type", source: `export default { async fetch() { const r = new Response(); return new Response(String(r.headers.has("content-type")) + [...r.headers].length) } }`,
			wantStatus: 200, wantBody: "false0"},
		// As in Workers, the result is read after the handler's microtasks.
		{name: "microtasks run before the response is read", source: `export default { fetch() { const r = new Response("x"); Promise.resolve().then(() => r.headers.set("x-late", "1")); return r } }`,
			wantStatus: 200, wantHeader: http.Header{"X-Late": {"1"}}, wantBody: "x"},
		{name: "binary body", source: `export default { fetch() { return new Response(new Uint8Array([0, 255, 10])) } }`,
			wantStatus: 200, wantHeader: http.Header{"Content-Length": {"3"}}, wantBody: "\x00\xff\n"},
		{name: "redirect", source: `export default { fetch(req) { return Response.redirect(new URL("/to", req.url), 308) } }`,
			wantStatus: 308, wantHeader: http.Header{"Location": {"https://example.com/to"}}},
		{name: "no content", source: `export default { fetch() { return new Response(null, {status: 204}) } }`, wantStatus: 204},
		{name: "head has no body", method: "HEAD", source: `export default { fetch() { return new Response("abc") } }`,
			wantStatus: 200, wantHeader: http.Header{"Content-Length": {"3"}}},
		{name: "stream body", source: `export default { fetch() { const {readable, writable} = new TransformStream(); const w = writable.getWriter(); const te = new TextEncoder();
(async () => { for (const p of ["a", "b", "c"]) { await scheduler.wait(1); await w.write(te.encode(p)) } await w.close() })(); return new Response(readable) } }`,
			wantStatus: 200, wantBody: "abc"},
		{name: "stream of strings through an encoder", source: `export default { fetch() { const rs = new ReadableStream({ start(c) { c.enqueue("x"); c.enqueue("é"); c.close() } });
return new Response(rs.pipeThrough(new TextEncoderStream()), {headers: {"content-type": "text/plain"}}) } }`,
			wantStatus: 200, wantBody: "xé"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			s := deployed(t, strings.ReplaceAll(tc.name, " ", "-"), tc.source, "")
			method := tc.method
			if method == "" {
				method = "GET"
			}
			w := httptest.NewRecorder()
			res, err := e.Execute(context.Background(), &ExecRequest{Script: s, Method: method, URL: "https://example.com/"}, w)
			if err != nil {
				t.Fatalf("execute: %v (logs %+v)", err, res.Logs)
			}
			if w.Code != tc.wantStatus || w.Body.String() != tc.wantBody {
				t.Fatalf("got %d %q, want %d %q", w.Code, w.Body.String(), tc.wantStatus, tc.wantBody)
			}
			for k, want := range tc.wantHeader {
				if got := w.Header().Values(k); strings.Join(got, "|") != strings.Join(want, "|") {
					t.Errorf("header %s = %q, want %q", k, got, want)
				}
			}
		})
	}
}

// TestWebStreamFlushesChunks checks over real HTTP that a streamed body
// reaches the client chunk by chunk, before the script finishes.
func TestWebStreamFlushesChunks(t *testing.T) {
	e := newTestEngine(t, Config{})
	s := deployed(t, "stream", `export default { fetch() { let n = 0; const te = new TextEncoder();
return new Response(new ReadableStream({ async pull(c) { if (n === 3) { c.close(); return } if (n > 0) await scheduler.wait(700); c.enqueue(te.encode("chunk" + n++ + "\n")) } }),
{headers: {"content-type": "text/plain"}}) } }`, "")
	// Warm a runtime first: a cold one (hardening included) is slow under -race.
	if _, err := e.Execute(context.Background(), &ExecRequest{Script: s, Method: "GET", URL: "http://x/"}, httptest.NewRecorder()); err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if _, err := e.Execute(r.Context(), &ExecRequest{Script: s, Method: r.Method, URL: "http://x/"}, w); err != nil {
			t.Errorf("execute: %v", err)
		}
	}))
	defer srv.Close()
	start := time.Now()
	resp, err := http.Get(srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	buf := make([]byte, 64)
	n, err := resp.Body.Read(buf)
	if err != nil || string(buf[:n]) != "chunk0\n" {
		t.Fatalf("first read = %q, %v", buf[:n], err)
	}
	if first := time.Since(start); first > 500*time.Millisecond {
		t.Fatalf("first chunk took %s: not flushed before the rest", first)
	}
	var rest bytes.Buffer
	if _, err := rest.ReadFrom(resp.Body); err != nil {
		t.Fatal(err)
	}
	if rest.String() != "chunk1\nchunk2\n" || resp.Header.Get("Content-Length") != "" {
		t.Fatalf("rest = %q, content-length %q", rest.String(), resp.Header.Get("Content-Length"))
	}
}

func TestWebLifecycle(t *testing.T) {
	e := newTestEngine(t, Config{})
	cases := []struct {
		name, source string
		wantErr      error
		wantStatus   int
		wantLogs     []string // regexps, each matching one line as "level: message"
	}{
		{name: "console levels", wantStatus: 200,
			source:   `export default { fetch() { console.debug("d"); console.log("l", {a: 1}); console.info("i"); console.warn("w"); console.error("e", new Map([[1, 2]])); return new Response("") } }`,
			wantLogs: []string{`^debug: d$`, `^info: l \{"a":1\}$`, `^info: i$`, `^warn: w$`, `^error: e Map\(1\) \{ 1 => 2 \}$`}},
		{name: "waitUntil runs after the response", wantStatus: 200,
			source: `export default { fetch(req, env, ctx) { ctx.waitUntil(scheduler.wait(50).then(() => console.log("later")));
ctx.waitUntil(Promise.reject(new Error("bg failed"))); console.log("now"); return new Response("r") } }`,
			wantLogs: []string{`^info: now$`, `(?s)^error: Uncaught Error: bg failed`, `^info: later$`}},
		{name: "unhandled rejection is logged", wantStatus: 200,
			source:   `export default { async fetch() { Promise.reject(new Error("lost")); const p = Promise.reject(new Error("caught")); p.catch(() => {}); await scheduler.wait(1); return new Response("") } }`,
			wantLogs: []string{`(?s)^error: Uncaught \(in promise\) Error: lost\n.*at fetch`}},
		{name: "throw gives the stack in the logs", wantErr: ErrScript,
			source: `function inner() { throw new Error("boom") }
export default { fetch() { inner() } }`,
			wantLogs: []string{`(?s)^error: script failed: uncaught exception: Error: boom.*at inner.*at fetch`}},
		{name: "async rejection gives the stack", wantErr: ErrScript,
			source:   `export default { async fetch() { await null; throw new TypeError("bad") } }`,
			wantLogs: []string{`(?s)^error: script failed: the handler rejected: TypeError: bad.*at fetch`}},
		{name: "unhandled rejection is logged when the handler fails", wantErr: ErrScript,
			source:   `export default { async fetch() { Promise.reject(new RangeError("also lost")); await null; throw new Error("main") } }`,
			wantLogs: []string{`(?s)^error: Uncaught \(in promise\) RangeError: also lost`, `(?s)^error: script failed: the handler rejected: Error: main`}},
		{name: "non-response", wantErr: ErrScript, source: `export default { fetch() { return {status: 200} } }`,
			wantLogs: []string{`^error: .*not a Response`}},
		{name: "response error", wantErr: ErrScript, source: `export default { fetch() { return Response.error() } }`},
		{name: "status outside 200-599 through internals", wantErr: ErrScript,
			source: `export default { fetch() { return Response._fromFetch({status: 0, statusText: "", headers: [], body: new ArrayBuffer(0), url: "", redirected: false}) } }`},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			s := deployed(t, strings.ReplaceAll(tc.name, " ", "-"), tc.source, "")
			w := httptest.NewRecorder()
			res, err := e.Execute(context.Background(), &ExecRequest{Script: s, Method: "GET", URL: "https://example.com/"}, w)
			if tc.wantErr != nil {
				if !errors.Is(err, tc.wantErr) || res.Wrote {
					t.Fatalf("err = %v, wrote %v; want %v before writing", err, res.Wrote, tc.wantErr)
				}
			} else if err != nil || w.Code != tc.wantStatus {
				t.Fatalf("err = %v, status %d (logs %+v)", err, w.Code, res.Logs)
			}
			lines := make([]string, len(res.Logs))
			for i, l := range res.Logs {
				lines[i] = l.Level + ": " + l.Message
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

// TestWebDatesAreUTC re-runs itself with TZ set to +05:30 (time.Local
// cannot be changed safely inside a process): scripts still see UTC.
func TestWebDatesAreUTC(t *testing.T) {
	if os.Getenv("PICLOUD_TEST_TZ_CHILD") == "" {
		cmd := exec.Command(os.Args[0], "-test.run=^TestWebDatesAreUTC$", "-test.v")
		cmd.Env = append(os.Environ(), "TZ=Asia/Kolkata", "PICLOUD_TEST_TZ_CHILD=1")
		out, err := cmd.CombinedOutput()
		if err != nil || !strings.Contains(string(out), "--- PASS: TestWebDatesAreUTC/utc") {
			t.Fatalf("child with TZ=Asia/Kolkata: %v\n%s", err, out)
		}
		return
	}
	if _, off := time.Now().Zone(); off != 5*3600+1800 {
		t.Fatalf("the child runs with offset %d, not +05:30: the test would prove nothing", off)
	}
	e := newTestEngine(t, Config{})
	runJSCases(t, e, []jsCase{{name: "utc",
		code: `const d = new Date(2024, 0, 2, 3, 4, 5); const p = new Date("2024-01-02T03:04:05");
return [new Date().getTimezoneOffset(), d.toISOString(), d.getHours(), p.toISOString(), new Date("2024-01-02").toISOString(), Date.parse("2024-01-02T03:04:05+01:00"),
  new Date(0).toString(), new Date(0).toLocaleString(), d instanceof Date, typeof Date(), new Date(NaN).getTimezoneOffset()]`,
		want: `[0,"2024-01-02T03:04:05.000Z",3,"2024-01-02T03:04:05.000Z","2024-01-02T00:00:00.000Z",1704161045000,"Thu Jan 01 1970 00:00:00 GMT+0000 (Coordinated Universal Time)","1/1/1970, 12:00:00 AM",true,"string",null]`}})
}

type fakeKV map[string]string

func (kv fakeKV) Bind(_ context.Context, call CallInfo, spec BindingSpec) (BindingValue, error) {
	switch spec.Type {
	case "secret":
		return BindingValue{Value: "s3cret-for-" + call.AppID}, nil
	case "kv":
		return BindingValue{Methods: map[string]AsyncMethod{
			"get": func(ctx context.Context, args []any) (any, error) {
				if v, ok := kv[args[0].(string)]; ok {
					return v, nil
				}
				return nil, nil
			},
			"fail": func(ctx context.Context, args []any) (any, error) { return nil, errors.New("kv down") },
		}}, nil
	}
	return BindingValue{}, ErrUnknownBinding
}

func TestWebEnvBindings(t *testing.T) {
	src := `export default { async fetch(req, env) { let f = ""; try { await env.KV.fail() } catch (e) { f = e.message }
return Response.json([env.T, env.J, env.S, await env.KV.get("k"), await env.KV.get("missing"), f]) } }`
	s := deployed(t, "env", src, "")
	s.AppID = "app1"
	s.Bindings = json.RawMessage(`{"T": {"type": "text", "value": "t"}, "J": {"type": "json", "value": {"a": [1]}},
"S": {"type": "secret", "name": "x"}, "KV": {"type": "kv", "namespace": "n"}}`)

	e := newTestEngine(t, Config{Bindings: fakeKV{"k": "v"}})
	w := httptest.NewRecorder()
	res, err := e.Execute(context.Background(), &ExecRequest{Script: s, Method: "GET", URL: "https://x/"}, w)
	if err != nil {
		t.Fatalf("execute: %v %+v", err, res.Logs)
	}
	if want := `["t",{"a":[1]},"s3cret-for-app1","v",null,"kv down"]`; w.Body.String() != want {
		t.Fatalf("got %s, want %s", w.Body.String(), want)
	}

	bare := newTestEngine(t, Config{})
	_, err = bare.Execute(context.Background(), &ExecRequest{Script: s, Method: "GET", URL: "https://x/"}, httptest.NewRecorder())
	if !errors.Is(err, ErrUnknownBinding) {
		t.Fatalf("without a provider err = %v, want ErrUnknownBinding", err)
	}
}
