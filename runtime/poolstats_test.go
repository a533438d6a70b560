package runtime

import "testing"

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
