package runtime

import (
	"errors"
	"fmt"
	"log/slog"
	gort "runtime"
	"runtime/metrics"
	"sync"
	"sync/atomic"
	"time"
)

// ErrLimit means an execution hit one of its limits; the concrete error is
// *LimitError naming it.
var ErrLimit = errors.New("script exceeded a limit")

// LimitError names the limit an execution hit.
type LimitError struct {
	// Limit is the knob's name as in limits.Limits' JSON.
	Limit string
	// Value is the limit in force.
	Value int64
	// Detail says what crossed it.
	Detail string
}

func (e *LimitError) Error() string {
	if e.Detail != "" {
		return fmt.Sprintf("limit %s=%d exceeded: %s", e.Limit, e.Value, e.Detail)
	}
	return fmt.Sprintf("limit %s=%d exceeded", e.Limit, e.Value)
}

// Is lets errors.Is(err, ErrLimit) match; wall time also matches ErrTimeout.
func (e *LimitError) Is(target error) bool {
	return target == ErrLimit || (target == ErrTimeout && e.Limit == "wall_time_ms")
}

// watchdog enforces the limits that need a clock or the heap: wall time,
// synchronous JS time and memory. One goroutine per engine samples the
// running executions every tick while there are any, so an execution
// costs a map insert and delete, not a timer.
type watchdog struct {
	log  *slog.Logger
	tick time.Duration
	// heapCap is the node-wide heap level above which the execution with
	// the largest growth is stopped even within its own limit.
	heapCap int64
	epoch   time.Time

	mu      sync.Mutex
	running map[*execution]struct{}
	active  bool // the sampling goroutine runs
	scratch []*execution

	heap   atomic.Pointer[heapSample] // the last sample
	lastGC time.Time                  // when the watchdog last forced a collection
	forced atomic.Int64               // collections the watchdog forced
	// lastCycle is when the watchdog first saw the current GC cycle count.
	lastCycle time.Time
	sample    []metrics.Sample
}

// heapSample is the node's heap as the Go runtime reports it, without
// stopping the world.
type heapSample struct {
	objects int64  // bytes in objects, garbage not yet swept included
	live    int64  // bytes marked live by the last completed collection
	cycles  uint64 // completed collections
}

func newWatchdog(log *slog.Logger, heapCap int64) *watchdog {
	w := &watchdog{log: log, tick: 5 * time.Millisecond, heapCap: heapCap, epoch: time.Now(),
		running: make(map[*execution]struct{}),
		sample: []metrics.Sample{{Name: "/memory/classes/heap/objects:bytes"},
			{Name: "/gc/heap/live:bytes"}, {Name: "/gc/cycles/total:gc-cycles"}}}
	w.heap.Store(&heapSample{})
	return w
}

// now is a monotonic clock in nanoseconds.
func (w *watchdog) now() int64 { return int64(time.Since(w.epoch)) }

func (w *watchdog) readHeap() *heapSample {
	metrics.Read(w.sample)
	u := func(i int) uint64 {
		if w.sample[i].Value.Kind() != metrics.KindUint64 {
			return 0
		}
		return w.sample[i].Value.Uint64()
	}
	h := &heapSample{objects: int64(u(0)), live: int64(u(1)), cycles: u(2)}
	if prev := w.heap.Swap(h); prev.cycles != h.cycles {
		w.lastCycle = time.Now()
	}
	return h
}

func (w *watchdog) add(x *execution) {
	w.mu.Lock()
	w.running[x] = struct{}{}
	start := !w.active
	w.active = true
	if start {
		// The last sample is stale after an idle spell.
		w.readHeap()
	}
	x.heapStart = w.heap.Load()
	w.mu.Unlock()
	if start {
		go w.loop()
	}
}

// busy reports whether any execution is running.
func (w *watchdog) busy() bool {
	w.mu.Lock()
	defer w.mu.Unlock()
	return len(w.running) > 0
}

func (w *watchdog) remove(x *execution) {
	w.mu.Lock()
	delete(w.running, x)
	w.mu.Unlock()
}

func (w *watchdog) loop() {
	t := time.NewTicker(w.tick)
	defer t.Stop()
	idle := 0
	for range t.C {
		w.mu.Lock()
		if len(w.running) == 0 {
			idle++
			if idle > 200 { // a second without work: stop ticking
				w.active = false
				w.mu.Unlock()
				return
			}
			w.mu.Unlock()
			continue
		}
		idle = 0
		w.scratch = w.scratch[:0]
		for x := range w.running {
			w.scratch = append(w.scratch, x)
		}
		w.mu.Unlock()
		w.check(w.scratch)
	}
}

// check stops executions over their wall, CPU or memory limits.
func (w *watchdog) check(xs []*execution) {
	now := w.now()
	for _, x := range xs {
		if now > x.deadline.Load() {
			x.stop(&LimitError{Limit: "wall_time_ms", Value: x.limits.WallTimeMS})
			continue
		}
		if used := x.cpuAt(now); used > x.limits.CPUTime().Nanoseconds() {
			x.stop(&LimitError{Limit: "cpu_time_ms", Value: x.limits.CPUTimeMS,
				Detail: fmt.Sprintf("ran synchronous JS for %s", time.Duration(used).Round(time.Millisecond))})
		}
	}
	heap := w.readHeap()
	suspects := w.memorySuspects(xs, heap.objects, func(x *execution) int64 { return heap.objects - x.heapStart.objects })
	if len(suspects) == 0 {
		return
	}
	// The object count includes garbage, so blame only on live bytes. A
	// collection the runtime finished in the last 100 ms measured them for
	// free; a script that churns garbage triggers one every few
	// milliseconds and must not make the watchdog force more, which would
	// slow every other app. Otherwise collect, at most 5 times a second.
	if time.Since(w.lastCycle) > 100*time.Millisecond {
		if time.Since(w.lastGC) < 200*time.Millisecond {
			return
		}
		w.lastGC = time.Now()
		w.forced.Add(1)
		gort.GC()
		heap = w.readHeap()
	}
	for _, x := range w.memorySuspects(suspects, heap.live, func(x *execution) int64 { return liveGrowth(x, heap) }) {
		x.stop(&LimitError{Limit: "memory_bytes", Value: x.limits.MemoryBytes,
			Detail: fmt.Sprintf("live heap grew by %d bytes while it ran (node heap %d bytes)", liveGrowth(x, heap), heap.live)})
	}
}

// liveGrowth is the growth of what the last collection found live. A
// collection older than the execution says nothing about it.
func liveGrowth(x *execution, h *heapSample) int64 {
	if h.cycles == x.heapStart.cycles {
		return 0
	}
	return h.live - x.heapStart.live
}

// memorySuspects are the executions running JS whose heap growth exceeds
// their limit, or, when the node's heap is over its cap, the one with the
// largest growth.
func (w *watchdog) memorySuspects(xs []*execution, level int64, growth func(*execution) int64) []*execution {
	var out []*execution
	var worst *execution
	for _, x := range xs {
		if !x.inJS() {
			continue
		}
		g := growth(x)
		if g > x.limits.MemoryBytes {
			out = append(out, x)
		} else if worst == nil || g > growth(worst) {
			worst = x
		}
	}
	if len(out) == 0 && w.heapCap > 0 && level > w.heapCap && worst != nil {
		out = append(out, worst)
	}
	return out
}
