package runtime

import (
	"context"
	"net/http"
	"testing"
)

func TestPooledScripts(t *testing.T) {
	e := newTestEngine(t, Config{})
	if n := e.PooledScripts(); n != 0 {
		t.Fatalf("fresh engine pools %d scripts", n)
	}
	a := deployed(t, "a", `export default { fetch() { return new Response("a") } }`, "")
	b := deployed(t, "b", `export default { fetch() { return new Response("b") } }`, "")
	for _, s := range []Script{a, a, b} {
		if _, _, err := execute(t, e, s, "GET", "https://x/", ""); err != nil {
			t.Fatal(err)
		}
	}
	if n := e.PooledScripts(); n != 2 {
		t.Errorf("pooled scripts = %d, want 2 (one pool per script version)", n)
	}
	if n := e.IdleRuntimes(); n < 2 {
		t.Errorf("idle runtimes = %d, want at least 2", n)
	}
}

func TestBusyAndCreatedRuntimes(t *testing.T) {
	e := newTestEngine(t, Config{SpareRuntimes: -1})
	if e.BusyRuntimes() != 0 || e.RuntimesCreated() != 0 {
		t.Fatalf("fresh engine: busy %d, created %d", e.BusyRuntimes(), e.RuntimesCreated())
	}
	slow := deployed(t, "slow", `export default { fetch() {
		const end = Date.now() + 300; while (Date.now() < end);
		return new Response("ok");
	} }`, "")
	done := make(chan error, 1)
	go func() {
		_, err := e.Execute(context.Background(), &ExecRequest{Script: slow, Method: "GET", URL: "http://x/"}, &nopWriter{h: http.Header{}})
		done <- err
	}()
	sawBusy := false
	for !sawBusy {
		select {
		case err := <-done:
			t.Fatalf("finished (%v) without ever reading busy 1", err)
		default:
			sawBusy = e.BusyRuntimes() == 1
		}
	}
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if n := e.BusyRuntimes(); n != 0 {
		t.Errorf("busy after the execution = %d", n)
	}
	// A warm runtime is reused; a new script builds one more.
	if _, _, err := execute(t, e, slow, "GET", "http://x/", ""); err != nil {
		t.Fatal(err)
	}
	other := deployed(t, "other", `export default { fetch() { return new Response("o") } }`, "")
	if _, _, err := execute(t, e, other, "GET", "http://x/", ""); err != nil {
		t.Fatal(err)
	}
	if n := e.RuntimesCreated(); n != 2 {
		t.Errorf("runtimes created = %d, want 2", n)
	}
}
