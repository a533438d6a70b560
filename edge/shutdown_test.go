package edge

import (
	"io"
	"net/http"
	"testing"
	"time"

	"github.com/picloud/picloud/internal/route"
)

const sleepScript = `export default {
  async fetch(request) {
    const ms = Number(new URL(request.url).searchParams.get("ms"));
    await new Promise(r => setTimeout(r, ms));
    return new Response("slept " + ms);
  },
};`

type result struct {
	status int
	body   string
	err    error
}

// inflight starts a request and waits until its execution holds a slot.
func inflight(t *testing.T, f *fixture, url string) <-chan result {
	t.Helper()
	done := make(chan result, 1)
	go func() {
		resp, err := client.Get(url)
		if err != nil {
			done <- result{err: err}
			return
		}
		defer resp.Body.Close()
		b, err := io.ReadAll(resp.Body)
		done <- result{status: resp.StatusCode, body: string(b), err: err}
	}()
	deadline := time.Now().Add(10 * time.Second)
	for len(f.srv.gate) == 0 {
		if time.Now().After(deadline) {
			t.Fatal("request never reached the runtime")
		}
		time.Sleep(5 * time.Millisecond)
	}
	return done
}

func sleepFixture(t *testing.T, grace time.Duration) *fixture {
	f := newFixture(t, func(c *Config) { c.ShutdownGrace = grace })
	f.addScript(t, "s-sleep", "app1", sleepScript)
	f.setRouting([]route.Claim{{ID: "c1", Pattern: "localhost", AppID: "app1"}},
		map[string][]route.Route{"app1": {{ID: "r1", Method: "GET", Path: "/sleep", Target: "s-sleep"}}})
	return f
}

func TestGracefulShutdownFinishesInFlight(t *testing.T) {
	f := sleepFixture(t, 10*time.Second)
	base := "http://localhost:" + f.base[len("http://127.0.0.1:"):]
	done := inflight(t, f, base+"/sleep?ms=1000")

	start := time.Now()
	stopped := make(chan error, 1)
	go func() { stopped <- f.srv.Stop() }()

	// New connections are refused while the old request drains.
	time.Sleep(200 * time.Millisecond)
	if resp, err := (&http.Client{Timeout: 2 * time.Second, Transport: &http.Transport{DisableKeepAlives: true}}).Get(f.base + "/healthz"); err == nil {
		resp.Body.Close()
		t.Errorf("a new request was served during shutdown: %d", resp.StatusCode)
	}

	if err := <-stopped; err != nil {
		t.Fatal(err)
	}
	d := time.Since(start)
	select {
	case r := <-done:
		if r.err != nil || r.status != 200 || r.body != "slept 1000" {
			t.Fatalf("in-flight request: %d %q %v", r.status, r.body, r.err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Stop returned but the in-flight request never completed")
	}
	if d < 500*time.Millisecond || d > 8*time.Second {
		t.Errorf("Stop took %v: it should wait for the request, not for the whole grace period", d)
	}
}

func TestGracefulShutdownDeadline(t *testing.T) {
	f := sleepFixture(t, 300*time.Millisecond)
	base := "http://localhost:" + f.base[len("http://127.0.0.1:"):]
	done := inflight(t, f, base+"/sleep?ms=20000")

	start := time.Now()
	if err := f.srv.Stop(); err != nil {
		t.Logf("stop: %v", err)
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("Stop took %v with a 300ms grace period", d)
	}
	select {
	case r := <-done:
		if r.err == nil && r.status == 200 {
			t.Errorf("request outlived the deadline and succeeded: %q", r.body)
		}
	case <-time.After(10 * time.Second):
		t.Error("the cut request never ended")
	}
}
