package edge

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/picloud/picloud/internal/route"
)

const whoScript = `export default { fetch(req, env, ctx) { return Response.json({ app: "APP", params: ctx.params }) } }`

// TestTwoPhaseDispatch: Host picks the app (most specific claim wins),
// then that app's routes pick the script; an unknown host is a JSON 404,
// and /api/v1/execute/{id} answers on any host.
func TestTwoPhaseDispatch(t *testing.T) {
	f := newFixture(t, nil)
	for _, app := range []string{"exact", "wild", "param"} {
		f.addScript(t, "s-"+app, app, strings.Replace(whoScript, "APP", app, 1))
	}
	f.setRouting([]route.Claim{
		{ID: "c1", Pattern: "shop.example.com", AppID: "exact"},
		{ID: "c2", Pattern: "*.example.com", AppID: "wild"},
		{ID: "c3", Pattern: "{tenant}.apps.test", AppID: "param"},
	}, map[string][]route.Route{
		"exact": {{ID: "r1", Method: "GET", Path: "/who", Target: "s-exact"}},
		"wild":  {{ID: "r2", Method: "GET", Path: "/who", Target: "s-wild"}},
		"param": {{ID: "r3", Method: "GET", Path: "/who/:id", Target: "s-param"}},
	})
	type reply struct {
		App    string
		Params map[string]string
		Error  struct{ Code string }
	}
	tests := []struct {
		name, host, path string
		status           int
		app              string
		params           map[string]string
		code             string
	}{
		{"exact claim beats wildcard", "shop.example.com", "/who", 200, "exact", nil, ""},
		{"wildcard", "blog.example.com", "/who", 200, "wild", nil, ""},
		{"wildcard covers several labels", "a.b.example.com", "/who", 200, "wild", nil, ""},
		{"wildcard needs a label", "example.com", "/who", 404, "", nil, "unknown_host"},
		{"host and path params", "acme.apps.test", "/who/7", 200, "param", map[string]string{"tenant": "acme", "id": "7"}, ""},
		{"unknown host", "nobody.test", "/who", 404, "", nil, "unknown_host"},
		{"claimed host without the route", "shop.example.com", "/nope", 404, "", nil, "no_route"},
		{"execute on an unclaimed host", "nobody.test", "/api/v1/execute/s-exact", 200, "exact", nil, ""},
		{"execute ignores the host's app", "blog.example.com", "/api/v1/execute/s-param", 200, "param", nil, ""},
		{"execute of an unknown script", "shop.example.com", "/api/v1/execute/nope", 404, "", nil, "script_not_found"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			status, hdr, body := get(t, f.base+tt.path, tt.host)
			if status != tt.status {
				t.Fatalf("status %d, want %d: %s", status, tt.status, body)
			}
			if ct := hdr.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
				t.Errorf("content type %q, want JSON", ct)
			}
			var r reply
			if err := json.Unmarshal([]byte(body), &r); err != nil {
				t.Fatalf("body %q: %v", body, err)
			}
			if r.App != tt.app || r.Error.Code != tt.code {
				t.Fatalf("app %q code %q, want %q %q (%s)", r.App, r.Error.Code, tt.app, tt.code, body)
			}
			for k, v := range tt.params {
				if r.Params[k] != v {
					t.Errorf("params[%s] = %q, want %q", k, r.Params[k], v)
				}
			}
		})
	}
}

// TestSlowClientDoesNotHoldASlot: with one execution slot, a client that
// sends headers and then trickles its body neither takes the slot nor
// delays others, and is cut off after BodyReadTimeout without its
// script running.
func TestSlowClientDoesNotHoldASlot(t *testing.T) {
	f := newFixture(t, func(c *Config) {
		c.MaxConcurrent = 1
		c.BodyReadTimeout = time.Second
	})
	f.addScript(t, "s-len", "app1", `export default { async fetch(req) { return new Response("got " + (await req.text()).length) } }`)
	f.setRouting([]route.Claim{{ID: "c1", Pattern: "localhost", AppID: "app1"}},
		map[string][]route.Route{"app1": {{ID: "r1", Method: "POST", Path: "/len", Target: "s-len"}}})

	slow, err := net.Dial("tcp", strings.TrimPrefix(f.base, "http://"))
	if err != nil {
		t.Fatal(err)
	}
	defer slow.Close()
	start := time.Now()
	if _, err := fmt.Fprint(slow, "POST /len HTTP/1.1\r\nHost: localhost\r\nContent-Length: 100\r\n\r\nabc"); err != nil {
		t.Fatal(err)
	}
	// The slow request has reached the handler and sits reading its body.
	time.Sleep(300 * time.Millisecond)
	if n := len(f.srv.gate); n != 0 {
		t.Fatalf("%d slots taken while a client is still sending its body", n)
	}
	for i := 0; i < 3; i++ {
		req, _ := http.NewRequest(http.MethodPost, f.base+"/len", strings.NewReader("hello"))
		req.Host = "localhost"
		resp, err := client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 200 || string(b) != "got 5" {
			t.Fatalf("request beside a slow client = %d %q", resp.StatusCode, b)
		}
	}

	// The slow client is answered with an error or dropped once its read
	// times out; its script never runs.
	_ = slow.SetReadDeadline(time.Now().Add(10 * time.Second))
	resp, err := http.ReadResponse(bufio.NewReader(slow), nil)
	if err == nil {
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode < 400 {
			t.Fatalf("slow client got %d %q", resp.StatusCode, b)
		}
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("slow client held its connection for %v with a 1s body read timeout", d)
	}
	waitFor(t, 5*time.Second, func() bool { return f.srv.inflight.Load() == 0 })
	st := f.srv.Stats()
	if st.GateRejections != 0 || st.Executions["success"] != 3 || st.Executions["error"] != 0 {
		t.Errorf("rejections %d, executions %v: want 0 rejections and only the 3 complete requests executed", st.GateRejections, st.Executions)
	}
}
