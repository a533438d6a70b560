package runtime

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/netip"
	goruntime "runtime"
	"strings"
	"testing"
	"time"
)

func upstream(t *testing.T) *httptest.Server {
	t.Helper()
	mux := http.NewServeMux()
	mux.HandleFunc("/echo", func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		w.Header().Add("Set-Cookie", "a=1")
		w.Header().Add("Set-Cookie", "b=2")
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprintf(w, `{"method":%q,"body":%q,"x":%q}`, r.Method, b, r.Header.Get("X-Custom"))
	})
	mux.HandleFunc("/missing", func(w http.ResponseWriter, r *http.Request) { http.Error(w, "nope", http.StatusNotFound) })
	mux.HandleFunc("/redirect", func(w http.ResponseWriter, r *http.Request) { http.Redirect(w, r, "/echo", http.StatusFound) })
	mux.HandleFunc("/big", func(w http.ResponseWriter, r *http.Request) { _, _ = w.Write(make([]byte, 2048)) })
	mux.HandleFunc("/slow", func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-time.After(2 * time.Second):
		case <-r.Context().Done():
		}
	})
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	return srv
}

func TestWebFetch(t *testing.T) {
	srv := upstream(t)
	e := newTestEngine(t, Config{Outbound: OutboundConfig{AllowPrivate: true, MaxResponseBytes: 1024, MaxSubrequests: 3, Timeout: 300 * time.Millisecond}})
	u := func(code string) string { return strings.ReplaceAll(code, "UP", srv.URL) }
	runJSCases(t, e, []jsCase{
		{name: "get json with headers",
			code: u(`const r = await fetch("UP/echo", {headers: {"X-Custom": "hi"}}); return [r.status, r.ok, r.headers.get("content-type"), r.headers.getSetCookie(), await r.json(), r.url === "UP/echo", r.redirected]`),
			want: `[200,true,"application/json",["a=1","b=2"],{"method":"GET","body":"","x":"hi"},true,false]`},
		{name: "post a Request with a body",
			code: u(`const r = await fetch(new Request("UP/echo", {method: "POST", body: JSON.stringify({a: 1})})); return (await r.json()).body`),
			want: `"{\"a\":1}"`},
		{name: "non-2xx does not throw",
			code: u(`const r = await fetch("UP/missing"); return [r.status, r.ok, r.statusText, (await r.text()).trim()]`),
			want: `[404,false,"Not Found","nope"]`},
		{name: "redirect modes",
			code: u(`const f = await fetch("UP/redirect"); const m = await fetch("UP/redirect", {redirect: "manual"});
let err = ""; try { await fetch("UP/redirect", {redirect: "error"}) } catch (e) { err = e.name }
return [f.status, f.redirected, f.url.endsWith("/echo"), m.status, m.headers.get("location"), err]`),
			want: `[200,true,true,302,"/echo","TypeError"]`},
		{name: "size cap",
			code: u(`try { await fetch("UP/big"); return "fetched" } catch (e) { return [e.name, e.message.includes("too large")] }`),
			want: `["TypeError",true]`},
		{name: "timeout",
			code: u(`const t = Date.now(); try { await fetch("UP/slow"); return "fetched" } catch (e) { return [e.name, Date.now() - t < 1500] }`),
			want: `["TypeError",true]`},
		{name: "abort signal",
			code: u(`const c = new AbortController(); setTimeout(() => c.abort(), 10); try { await fetch("UP/slow", {signal: c.signal}); return "fetched" } catch (e) { return e.name }`),
			want: `"AbortError"`},
		{name: "schemes",
			code: `const out = []; for (const x of ["ftp://example.com/", "file:///etc/passwd", "data:text/plain,hi"]) { try { await fetch(x); out.push("ok") } catch (e) { out.push(e.name) } } return out`,
			want: `["TypeError","TypeError","TypeError"]`},
		{name: "subrequest limit",
			code: u(`const out = []; for (let i = 0; i < 4; i++) { try { out.push((await fetch("UP/echo")).status) } catch (e) { out.push(e.message.includes("too many subrequests")) } } return out`),
			want: `[200,200,200,true]`},
	})
}

func TestWebFetchRefusesPrivate(t *testing.T) {
	srv := upstream(t)
	port := srv.URL[strings.LastIndex(srv.URL, ":")+1:]
	e := newTestEngine(t, Config{})
	runJSCases(t, e, []jsCase{{name: "loopback literal and name",
		code: `const out = []; for (const x of ["` + srv.URL + `/echo", "http://localhost:` + port + `/echo", "http://[::1]:` + port + `/", "http://0.0.0.0:` + port + `/", "http://169.254.169.254/latest"]) {
try { await fetch(x); out.push("reached") } catch (e) { out.push(e.message.includes("destination address is not allowed")) } } return out`,
		want: `[true,true,true,true,true]`}})
}

func TestCheckAddr(t *testing.T) {
	cases := []struct {
		ip      string
		allowed bool
	}{
		{"127.0.0.1", false}, {"10.1.2.3", false}, {"172.16.0.1", false}, {"192.168.1.1", false},
		{"169.254.169.254", false}, {"0.0.0.0", false}, {"100.64.0.1", false}, {"224.0.0.1", false},
		{"255.255.255.255", false}, {"::1", false}, {"::", false}, {"fe80::1", false}, {"fc00::1", false},
		{"::ffff:127.0.0.1", false}, {"::ffff:10.0.0.1", false}, {"ff02::1", false}, {"64:ff9b::7f00:1", false},
		{"93.184.216.34", true}, {"1.1.1.1", true}, {"2606:4700:4700::1111", true}, {"::ffff:8.8.8.8", true},
	}
	for _, tc := range cases {
		t.Run(tc.ip, func(t *testing.T) {
			err := checkAddr(netip.MustParseAddr(tc.ip))
			if (err == nil) != tc.allowed {
				t.Fatalf("checkAddr(%s) = %v, want allowed %v", tc.ip, err, tc.allowed)
			}
		})
	}
}

// TestWebFetchEndsWithExecution checks that a fetch still in flight when
// the handler returns is cancelled: its goroutine and connection go away.
func TestWebFetchEndsWithExecution(t *testing.T) {
	srv := upstream(t)
	e := newTestEngine(t, Config{Outbound: OutboundConfig{AllowPrivate: true}})
	s := deployed(t, "abandon", `export default { fetch() { fetch("`+srv.URL+`/slow").catch(() => {}); return new Response("done") } }`, "")
	before := goruntime.NumGoroutine()
	start := time.Now()
	for i := 0; i < 5; i++ {
		if _, err := e.Execute(context.Background(), &ExecRequest{Script: s, Method: "GET", URL: "http://x/"}, httptest.NewRecorder()); err != nil {
			t.Fatal(err)
		}
	}
	// Waiting for the abandoned fetches would take 5 × 2s; allow for a
	// loaded machine without asserting a speed.
	if d := time.Since(start); d > 8*time.Second {
		t.Fatalf("executions waited for their abandoned fetches: %s", d)
	}
	e.client.CloseIdleConnections()
	deadline := time.Now().Add(time.Second) // /slow would hold them for 2s
	for goruntime.NumGoroutine() > before+2 {
		if time.Now().After(deadline) {
			t.Fatalf("goroutines: %d before, %d after", before, goruntime.NumGoroutine())
		}
		time.Sleep(20 * time.Millisecond)
		e.client.CloseIdleConnections()
	}
}
