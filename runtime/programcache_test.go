package runtime

import (
	"context"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/picloud/picloud/internal/limits"
)

// Compiled programs are shared by content hash: two scripts (or versions)
// with the same code compile once; other code compiles on its own.
func TestProgramCacheByContentHash(t *testing.T) {
	a := deployed(t, "a", `export default { fetch() { return new Response("same") } }`, "")
	b := a
	b.ID, b.Name, b.Version = "b", "b", 7
	b.Hash = "" // computed from the code when the caller has none
	c := deployed(t, "c", `export default { fetch() { return new Response("other") } }`, "")
	cache := newProgramCache()
	pa, err := cache.get(&a)
	if err != nil {
		t.Fatal(err)
	}
	pb, _ := cache.get(&b)
	pc, _ := cache.get(&c)
	if pa != pb {
		t.Error("the same code compiled twice")
	}
	if pa == pc {
		t.Error("different code shares a program")
	}
	if n := len(cache.programs); n != 2 {
		t.Errorf("%d programs cached, want 2", n)
	}
}

// ctx.waitUntil work runs after the response but within the execution's
// wall time: work outliving it is cut, and the execution still ends.
func TestWaitUntilIsBoundedByWallTime(t *testing.T) {
	e := newTestEngine(t, Config{})
	s := deployed(t, "bg", `export default { fetch(req, env, ctx) {
  ctx.waitUntil(scheduler.wait(100).then(() => console.log("soon")));
  ctx.waitUntil(scheduler.wait(10000).then(() => console.log("too late")));
  return new Response("r");
} }`, "")
	s.Limits = limits.Limits{WallTimeMS: 1000}
	w := httptest.NewRecorder()
	start := time.Now()
	res, _ := e.Execute(context.Background(), &ExecRequest{Script: s, Method: "GET", URL: "https://x/"}, w)
	d := time.Since(start)
	if w.Code != 200 || w.Body.String() != "r" {
		t.Fatalf("response %d %q", w.Code, w.Body.String())
	}
	if d > 5*time.Second {
		t.Fatalf("execution took %v with a 1 s wall time", d)
	}
	var msgs []string
	for _, l := range res.Logs {
		msgs = append(msgs, l.Message)
	}
	all := strings.Join(msgs, "\n")
	if !strings.Contains(all, "soon") || strings.Contains(all, "too late") {
		t.Errorf("logs %q: want the short background work only", msgs)
	}
}
