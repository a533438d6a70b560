package runtime

import (
	"testing"
)

// TestHardenFreezesEverything walks, the slow and complete way (every
// property's descriptor, getters and setters included), everything
// reachable from the global object of a hardened runtime and checks it
// is all frozen and every global binding is read-only. harden.js takes
// shortcuts (function length and name are not read); this is what keeps
// them honest.
func TestHardenFreezesEverything(t *testing.T) {
	e, err := New(Config{})
	if err != nil {
		t.Fatal(err)
	}
	x := &execution{limits: e.limits, clock: e.watch.now, kill: make(chan struct{})}
	x.deadline.Store(e.watch.now() + e.limits.WallTime().Nanoseconds())
	in, err := e.newInstance(&Script{ID: "x", Version: 1, Code: helloCode(t)}, x)
	if err != nil {
		t.Fatal(err)
	}
	v, err := in.vm.RunString(`(function () {
  const seen = new Set([globalThis]), stack = [], bad = [];
  const push = (v, path) => {
    if (v !== null && (typeof v === "object" || typeof v === "function") && !seen.has(v)) { seen.add(v); stack.push([v, path]); }
  };
  for (const k of Reflect.ownKeys(globalThis)) {
    const d = Object.getOwnPropertyDescriptor(globalThis, k);
    if (d.configurable || d.writable) bad.push("global " + String(k) + " is writable or configurable");
    if ("value" in d) push(d.value, String(k)); else { push(d.get, String(k) + ".get"); push(d.set, String(k) + ".set"); }
  }
  push(Object.getPrototypeOf(globalThis), "[[Prototype]] of global");
  while (stack.length) {
    const [o, path] = stack.pop();
    if (!Object.isFrozen(o)) bad.push(path + " is not frozen");
    push(Object.getPrototypeOf(o), path + ".[[Prototype]]");
    for (const k of Reflect.ownKeys(o)) {
      const d = Object.getOwnPropertyDescriptor(o, k);
      if ("value" in d) push(d.value, path + "." + String(k));
      else { push(d.get, path + "." + String(k) + ".get"); push(d.set, path + "." + String(k) + ".set"); }
    }
  }
  return [seen.size, bad.slice(0, 20)];
})()`)
	if err != nil {
		t.Fatal(err)
	}
	var res []any
	if err := in.vm.ExportTo(v, &res); err != nil {
		t.Fatal(err)
	}
	if n, _ := res[0].(int64); n < 500 {
		t.Fatalf("walked only %d objects", n)
	}
	if bad := res[1].([]any); len(bad) > 0 {
		t.Fatalf("left mutable: %v", bad)
	}
}

func helloCode(t *testing.T) string {
	t.Helper()
	s := deployed(t, "hello", `export default { fetch() { return new Response("hi") } }`, "")
	return s.Code
}
