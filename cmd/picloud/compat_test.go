package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"io"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/picloud/picloud/internal/testnet"
)

// TestWorkersCompat runs Workers-style scripts through the real HTTP path
// of a running `picloud dev` (Caddy, dispatcher, engine): what a client
// sees on the wire, not what unit calls return. The node runs with a
// non-UTC TZ and PICLOUD_HTTP_ALLOW_PRIVATE so fetch() can reach a local
// upstream.
func TestWorkersCompat(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the real binary")
	}
	bin := buildPicloud(t)
	dataDir := nodeDataDir(t, "picloud-compat-")

	var mu sync.Mutex
	var background []string
	up := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		if r.URL.Path == "/record" {
			mu.Lock()
			background = append(background, string(b))
			mu.Unlock()
		}
		if r.URL.Path == "/slow" {
			select {
			case <-r.Context().Done():
			case <-time.After(3 * time.Second):
			}
			return
		}
		if r.URL.Path == "/big" {
			// One byte over the runtime's 16 MiB fetch body cap.
			_, _ = w.Write(bytes.Repeat([]byte("b"), 16<<20+1))
			return
		}
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(map[string]string{"path": r.URL.Path, "ua": r.Header.Get("X-From")})
	}))
	defer up.Close()

	base := "http://" + testnet.FreeAddr(t)
	env := append(os.Environ(),
		"PICLOUD_BIND="+strings.TrimPrefix(base, "http://"),
		"PICLOUD_DATA_DIR="+filepath.Join(dataDir, "picloud"),
		"PICLOUD_ADMIN_USER=alice",
		"PICLOUD_ADMIN_PASSWORD=s3cret-pass",
		"PICLOUD_HTTP_ALLOW_PRIVATE=true",
		"TZ=Asia/Kolkata",
		"DATABASE_URL=",
	)
	node := startNode(t, bin, env, base)
	defer node.stop(t)
	token := login(t, base, "alice", "s3cret-pass")

	deploy := func(name, source string, bindings map[string]any) string {
		t.Helper()
		var d struct {
			ID string `json:"id"`
		}
		body := map[string]any{"app": "default", "name": name, "source": source}
		if bindings != nil {
			body["bindings"] = bindings
		}
		if status := postJSON(t, base+"/api/v1/admin/scripts", token, body, &d); status != http.StatusCreated {
			t.Fatalf("deploy %s = %d", name, status)
		}
		return base + "/api/v1/execute/" + d.ID
	}
	call := func(method, url, contentType string, body []byte) (*http.Response, []byte) {
		t.Helper()
		req, _ := http.NewRequest(method, url, bytes.NewReader(body))
		if contentType != "" {
			req.Header.Set("Content-Type", contentType)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp, b
	}

	t.Run("web APIs", func(t *testing.T) {
		url := deploy("apis", `export default { async fetch(request, env, ctx) {
  const u = new URL(request.url);
  const te = new TextEncoder();
  const digest = await crypto.subtle.digest("SHA-256", te.encode("abc"));
  const key = await crypto.subtle.importKey("raw", te.encode("k"), { name: "HMAC", hash: "SHA-256" }, false, ["sign", "verify"]);
  const sig = await crypto.subtle.sign("HMAC", key, te.encode("m"));
  return Response.json({
    q: u.searchParams.get("q"),
    b64: btoa(atob("aGk=")),
    digest: [...new Uint8Array(digest)].slice(0, 4),
    verified: await crypto.subtle.verify("HMAC", key, sig, te.encode("m")),
    tz: new Date().getTimezoneOffset(),
    hours: new Date(Date.UTC(2024, 0, 1, 5)).getHours(),
    clone: structuredClone(new Map([["a", 1]])).get("a"),
    env: env.GREETING,
    ids: typeof ctx.requestId === "string" && typeof ctx.executionId === "string",
  });
} }`, map[string]any{"GREETING": map[string]any{"type": "text", "value": "hi"}})
		resp, body := call("GET", url+"?q=%C3%A9", "", nil)
		want := `{"q":"é","b64":"aGk=","digest":[186,120,22,191],"verified":true,"tz":0,"hours":5,"clone":1,"env":"hi","ids":true}`
		if resp.StatusCode != 200 || string(body) != want {
			t.Fatalf("got %d %s\nwant %s", resp.StatusCode, body, want)
		}
	})

	t.Run("headers and cookies on the wire", func(t *testing.T) {
		url := deploy("cookies", `export default { fetch(request) {
  const h = new Headers({ "X-Seen": request.headers.get("content-type") });
  h.append("Set-Cookie", "a=1; Path=/");
  h.append("Set-Cookie", "b=2; HttpOnly");
  return new Response(new Uint8Array([1, 2, 3]), { status: 201, headers: h });
} }`, nil)
		resp, body := call("POST", url, "text/x-test", []byte("x"))
		if resp.StatusCode != 201 || !bytes.Equal(body, []byte{1, 2, 3}) {
			t.Fatalf("got %d %v", resp.StatusCode, body)
		}
		if c := resp.Header.Values("Set-Cookie"); len(c) != 2 || c[0] != "a=1; Path=/" || c[1] != "b=2; HttpOnly" {
			t.Fatalf("Set-Cookie lines = %q", c)
		}
		if resp.Header.Get("X-Seen") != "text/x-test" {
			t.Fatalf("X-Seen = %q", resp.Header.Get("X-Seen"))
		}
	})

	t.Run("multipart formData and binary bodies", func(t *testing.T) {
		url := deploy("forms", `export default { async fetch(request) {
  const f = await request.formData();
  const file = f.get("file");
  const bytes = new Uint8Array(await file.arrayBuffer()).reverse();
  return new Response(new Blob([f.get("name") + ":", bytes], { type: "application/octet-stream" }));
} }`, nil)
		var b bytes.Buffer
		mw := multipart.NewWriter(&b)
		_ = mw.WriteField("name", "pi")
		fw, _ := mw.CreateFormFile("file", "f.bin")
		_, _ = fw.Write([]byte{0, 1, 254})
		_ = mw.Close()
		resp, body := call("POST", url, mw.FormDataContentType(), b.Bytes())
		if resp.StatusCode != 200 || string(body) != "pi:\xfe\x01\x00" || resp.Header.Get("Content-Type") != "application/octet-stream" {
			t.Fatalf("got %d %q %q", resp.StatusCode, body, resp.Header.Get("Content-Type"))
		}
	})

	t.Run("streamed body arrives chunk by chunk", func(t *testing.T) {
		url := deploy("stream", `export default { fetch() {
  const { readable, writable } = new TransformStream();
  const w = writable.getWriter();
  (async () => {
    for (let i = 0; i < 3; i++) { await w.write("line " + i + "\n"); await scheduler.wait(400); }
    await w.close();
  })();
  return new Response(readable.pipeThrough(new TextEncoderStream()), { headers: { "content-type": "text/plain" } });
} }`, nil)
		start := time.Now()
		resp, err := http.Get(url)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		r := bufio.NewReader(resp.Body)
		line, err := r.ReadString('\n')
		if err != nil || line != "line 0\n" {
			t.Fatalf("first line %q, %v", line, err)
		}
		if d := time.Since(start); d > 350*time.Millisecond {
			t.Fatalf("first line after %s: the stream was buffered", d)
		}
		rest, _ := io.ReadAll(r)
		if string(rest) != "line 1\nline 2\n" {
			t.Fatalf("rest %q", rest)
		}
	})

	t.Run("fetch and waitUntil", func(t *testing.T) {
		url := deploy("outbound", `export default { async fetch(request, env, ctx) {
  const r = await fetch("`+up.URL+`/hello", { headers: { "X-From": "script" } });
  ctx.waitUntil(scheduler.wait(200).then(() => fetch("`+up.URL+`/record", { method: "POST", body: "after" })));
  return new Response(JSON.stringify(await r.json()), r);
} }`, nil)
		resp, body := call("GET", url, "", nil)
		if resp.StatusCode != 200 || string(body) != `{"path":"/hello","ua":"script"}` {
			t.Fatalf("got %d %s", resp.StatusCode, body)
		}
		deadline := time.Now().Add(5 * time.Second)
		for {
			mu.Lock()
			got := strings.Join(background, ",")
			mu.Unlock()
			if got == "after" {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("waitUntil work did not run: %q", got)
			}
			time.Sleep(20 * time.Millisecond)
		}
	})

	t.Run("web API surface", func(t *testing.T) { compatSurface(t, deploy, call) })
	t.Run("wire behaviour", func(t *testing.T) { compatWire(t, deploy) })
	t.Run("logs, unhandled rejections and stacks", func(t *testing.T) { compatLifecycle(t, base, token, deploy, call) })
	t.Run("route params, TypeScript and scheduled", func(t *testing.T) { compatRouted(t, base, token, deploy) })
	t.Run("fetch caps", func(t *testing.T) { compatFetchCaps(t, base, token, up.URL, call) })

	t.Run("failures reveal nothing", func(t *testing.T) {
		for name, src := range map[string]string{
			"throws":       `export default { fetch() { throw new Error("db password is hunter2") } }`,
			"rejects":      `export default { async fetch() { await null; throw new Error("db password is hunter2") } }`,
			"not-response": `export default { fetch() { return { secret: "hunter2" } } }`,
		} {
			resp, body := call("GET", deploy(name, src, nil), "", nil)
			if resp.StatusCode != 500 || strings.Contains(string(body), "hunter2") || strings.Contains(string(body), "at fetch") {
				t.Errorf("%s: got %d %s", name, resp.StatusCode, body)
			}
		}
	})

	// Last: the agent's /metrics after all of the above, parsed with the
	// Prometheus text parser, with the real runtime and Postgres pool.
	t.Run("metrics scrape", func(t *testing.T) { compatMetrics(t, base) })
}
