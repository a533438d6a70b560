package runtime

import (
	"context"
	"fmt"
	"net/http"
	gort "runtime"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/dop251/goja"
)

// cpuNow is the process's user+system CPU time. The machine the
// benchmarks run on is shared, so wall time per op is noisy; CPU time per
// op (reported as cpu-ns/op) is what the figures in
// docs/runtime-isolation.md compare.
func cpuNow() time.Duration {
	var ru syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// measureCPU reports CPU per op from the timer reset on.
func measureCPU(b *testing.B) func() {
	b.ResetTimer()
	start := cpuNow()
	return func() {
		b.StopTimer()
		b.ReportMetric(float64((cpuNow()-start).Nanoseconds())/float64(b.N), "cpu-ns/op")
	}
}

// Benchmarks of the executor; run with
//
//	go test -run '^$' -bench . -benchmem -count 6 ./runtime/ | benchstat -
//
// The end-to-end one through embedded Caddy is edge.BenchmarkServerCPU.

const helloSource = `export default { fetch() { return new Response("Hello, world!") } }`

// jsonSource parses a JSON body of 50 items, keeps the active ones and
// returns a projection of them.
const jsonSource = `export default {
  async fetch(req) {
    const items = await req.json();
    const out = items.filter((x) => x.active).map((x) => ({ id: x.id, name: x.name.toUpperCase(), total: x.price * x.qty }));
    return Response.json({ count: out.length, items: out });
  },
};`

// jsonBody is about 2.5 KB: 50 items.
func jsonBody() string {
	var b strings.Builder
	b.WriteString("[")
	for i := 0; i < 50; i++ {
		if i > 0 {
			b.WriteString(",")
		}
		fmt.Fprintf(&b, `{"id":%d,"name":"item-%d","price":%d.5,"qty":%d,"active":%t}`, i, i, i*3, i%7, i%3 != 0)
	}
	b.WriteString("]")
	return b.String()
}

// source10KB is a module of about 10 KB of ordinary code.
func source10KB() string {
	var b strings.Builder
	for i := 0; b.Len() < 10<<10; i++ {
		fmt.Fprintf(&b, "function helper%d(items, factor) {\n  const out = [];\n  for (const it of items) {\n    if (it.value > %d) out.push({ key: it.key + \"-%d\", value: it.value * factor });\n  }\n  return out.sort((a, b) => a.value - b.value);\n}\n", i, i, i)
	}
	b.WriteString("export default { fetch() { return new Response(String(helper0([{key: 'a', value: 1}], 2).length)) } }\n")
	return b.String()
}

type nopWriter struct{ h http.Header }

func (w *nopWriter) Header() http.Header         { return w.h }
func (w *nopWriter) Write(p []byte) (int, error) { return len(p), nil }
func (w *nopWriter) WriteHeader(int)             {}

func benchScript(b *testing.B, name, source string) Script {
	b.Helper()
	code, err := Transform(context.Background(), source, JavaScript)
	if err != nil {
		b.Fatal(err)
	}
	return Script{ID: name, Name: name, Version: 1, Code: code, Hash: HashCode(code)}
}

func BenchmarkCompile10KB(b *testing.B) {
	src := source10KB()
	b.SetBytes(int64(len(src)))
	defer measureCPU(b)()
	for i := 0; i < b.N; i++ {
		code, err := Transform(context.Background(), src, JavaScript)
		if err != nil {
			b.Fatal(err)
		}
		if _, err := newProgramCache().get(&Script{Code: code}); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkFirstExecution is the first request after a deploy: the
// program is compiled and a runtime built, with no spare runtime (the
// whole cost of a cold start).
func BenchmarkFirstExecution(b *testing.B) {
	e, err := New(Config{SpareRuntimes: -1})
	if err != nil {
		b.Fatal(err)
	}
	s := benchScript(b, "first", helloSource)
	w := &nopWriter{h: http.Header{}}
	defer measureCPU(b)()
	for i := 0; i < b.N; i++ {
		s.Version = i + 1
		s.Hash = strconv.Itoa(i) // a fresh program each time
		req := &ExecRequest{Script: s, Method: "GET", URL: "http://localhost/"}
		if _, err := e.Execute(context.Background(), req, w); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkFirstExecutionSpare is the first request after a deploy when
// the engine's spare runtime is ready: what the request itself costs.
// thread-cpu-ns/op is the CPU of the goroutine's thread (locked to it),
// so the next spare, built meanwhile on another thread, is not counted.
func BenchmarkFirstExecutionSpare(b *testing.B) {
	e, err := New(Config{})
	if err != nil {
		b.Fatal(err)
	}
	s := benchScript(b, "first", helloSource)
	w := &nopWriter{h: http.Header{}}
	gort.LockOSThread()
	defer gort.UnlockOSThread()
	var cpu time.Duration
	e.refillSpare()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		b.StopTimer()
		for len(e.spare) == 0 || e.building.Load() {
			time.Sleep(time.Millisecond)
		}
		s.Version = i + 1
		s.Hash = strconv.Itoa(i)
		req := &ExecRequest{Script: s, Method: "GET", URL: "http://localhost/"}
		b.StartTimer()
		start := threadCPU()
		if _, err := e.Execute(context.Background(), req, w); err != nil {
			b.Fatal(err)
		}
		cpu += threadCPU() - start
	}
	b.StopTimer()
	b.ReportMetric(float64(cpu.Nanoseconds())/float64(b.N), "thread-cpu-ns/op")
}

// threadCPU is the calling thread's user+system CPU time.
func threadCPU() time.Duration {
	var ru syscall.Rusage
	_ = syscall.Getrusage(1, &ru) // RUSAGE_THREAD
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// benchWarm runs a warm handler with containment (as a node does) and
// without it (no guards, no frozen intrinsics, no watchdog): the
// difference is what containment costs per request.
func benchWarm(b *testing.B, source, method, body string) {
	b.Run("contained", func(b *testing.B) { benchWarmEngine(b, false, source, method, body) })
	b.Run("uncontained", func(b *testing.B) { benchWarmEngine(b, true, source, method, body) })
}

func benchWarmEngine(b *testing.B, uncontained bool, source, method, body string) {
	e, err := New(Config{})
	if err != nil {
		b.Fatal(err)
	}
	e.uncontained = uncontained
	s := benchScript(b, "warm", source)
	hdr := http.Header{"Content-Type": {"application/json"}, "Accept": {"*/*"}}
	bb := []byte(body)
	run := func() {
		w := &nopWriter{h: http.Header{}}
		req := &ExecRequest{Script: s, Method: method, URL: "http://localhost/api/items", Header: hdr, Body: bb}
		if _, err := e.Execute(context.Background(), req, w); err != nil {
			b.Fatal(err)
		}
	}
	run()
	b.ReportAllocs()
	defer measureCPU(b)()
	for i := 0; i < b.N; i++ {
		run()
	}
}

func BenchmarkWarmHello(b *testing.B) { benchWarm(b, helloSource, "GET", "") }

func BenchmarkWarmJSON(b *testing.B) { benchWarm(b, jsonSource, "POST", jsonBody()) }

// BenchmarkGojaObject is the floor under the JSON handler: what goja
// charges for one object like the benchmark's items (5 properties),
// built from Go (as JSON.parse does) or by a JS object literal (as the
// script's map callback does). Neither can be pre-sized: every object
// gets its own property map and name slice.
func BenchmarkGojaObject(b *testing.B) {
	vm := goja.New()
	keys := []string{"id", "name", "price", "qty", "active"}
	vals := []goja.Value{vm.ToValue(3), vm.ToValue("item-3"), vm.ToValue(9.5), vm.ToValue(3), vm.ToValue(true)}
	b.Run("go-set", func(b *testing.B) {
		b.ReportAllocs()
		for i := 0; i < b.N; i++ {
			o := vm.NewObject()
			for k, key := range keys {
				if err := o.Set(key, vals[k]); err != nil {
					b.Fatal(err)
				}
			}
		}
	})
	b.Run("js-literal", func(b *testing.B) {
		fv, err := vm.RunString(`(function (a, b, c, d, e) { return { id: a, name: b, price: c, qty: d, active: e }; })`)
		if err != nil {
			b.Fatal(err)
		}
		f, _ := goja.AssertFunction(fv)
		b.ReportAllocs()
		for i := 0; i < b.N; i++ {
			if _, err := f(goja.Undefined(), vals...); err != nil {
				b.Fatal(err)
			}
		}
	})
}
