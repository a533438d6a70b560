package runtime

import (
	"errors"
	"fmt"
	"log/slog"
	gort "runtime"
	"runtime/metrics"
	"slices"
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
	// memStopped are executions stopped for memory that still run, with
	// when they were stopped; until they are gone and their heap collected
	// (settleCycle), what the heap holds may be theirs, so nobody else is
	// blamed for it, for at most memStopGrace.
	memStopped  map[*execution]time.Time
	settleCycle uint64
	cycleSample []metrics.Sample
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
		running: make(map[*execution]struct{}), memStopped: make(map[*execution]time.Time),
		cycleSample: []metrics.Sample{{Name: "/gc/cycles/total:gc-cycles"}},
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
	x.started = w.now()
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
	if _, ok := w.memStopped[x]; ok {
		delete(w.memStopped, x)
		// A cycle running now may still mark x's heap; the one after
		// cannot (x's runtime is dropped as soon as this returns).
		metrics.Read(w.cycleSample)
		if w.cycleSample[0].Value.Kind() == metrics.KindUint64 {
			w.settleCycle = w.cycleSample[0].Value.Uint64() + 2
		}
	}
	w.mu.Unlock()
}

// memStopGrace bounds the wait for an execution stopped for memory to
// leave: one stuck in a long native call (the interrupt lands when it
// returns) must not shield another bomb for long.
const memStopGrace = time.Second

// stopping reports whether an execution stopped for memory less than
// memStopGrace ago still runs.
func (w *watchdog) stopping() bool {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.stoppingLocked()
}

func (w *watchdog) stoppingLocked() bool {
	for _, at := range w.memStopped {
		if time.Since(at) < memStopGrace {
			return true
		}
	}
	return false
}

// settled reports whether a heap measured at GC cycle count cycles holds
// nothing of the executions stopped for memory (or they overran
// memStopGrace).
func (w *watchdog) settled(cycles uint64) bool {
	w.mu.Lock()
	defer w.mu.Unlock()
	return !w.stoppingLocked() && cycles >= w.settleCycle
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
	for _, x := range xs {
		if slices.Contains(suspects, x) {
			x.overTicks++
		} else {
			x.overTicks = 0
		}
	}
	if len(suspects) == 0 || w.stopping() {
		return
	}
	// The object count includes garbage, so blame only on live bytes. A
	// collection the runtime finished in the last 100 ms measured them for
	// free; a script that churns garbage triggers one every few
	// milliseconds and must not make the watchdog force more, which would
	// slow every other app. Otherwise collect, at most 5 times a second.
	if time.Since(w.lastCycle) > 100*time.Millisecond || !w.settled(heap.cycles) {
		if time.Since(w.lastGC) < 200*time.Millisecond {
			return
		}
		w.lastGC = time.Now()
		w.forced.Add(1)
		gort.GC()
		heap = w.readHeap()
		if !w.settled(heap.cycles) {
			return
		}
	}
	oldest := blame(w.memorySuspects(suspects, heap.live, func(x *execution) int64 { return liveGrowth(x, heap) }))
	if oldest == nil {
		return
	}
	w.mu.Lock()
	if _, running := w.running[oldest]; running {
		w.memStopped[oldest] = time.Now()
	}
	w.mu.Unlock()
	oldest.stop(&LimitError{Limit: "memory_bytes", Value: oldest.limits.MemoryBytes,
		Detail: fmt.Sprintf("live heap grew by %d bytes while it ran (node heap %d bytes)", liveGrowth(oldest, heap), heap.live)})
}

// settleTicks is how many consecutive checks an execution must have been
// over its limit to be blamed when others are over theirs too.
const settleTicks = 3

// blame picks the execution to stop among those over their memory limit.
// The heap an execution is blamed for is what grew since the last
// collection before it started, which includes what others allocated
// meanwhile. Executions running together see nested windows, and the
// oldest one's holds the others': blame only the oldest, and judge the
// rest once its heap is collected. A short request that merely started
// just before a fast bomb shares the bomb's window and is older; it is
// gone a tick or two later while the bomb is still over. So with several
// suspects, only those over for settleTicks checks are candidates, and
// the decision waits until one is.
func blame(suspects []*execution) *execution {
	var candidates []*execution
	for _, x := range suspects {
		if x.stopErr() == nil { // not already stopped and unwinding
			candidates = append(candidates, x)
		}
	}
	var oldest *execution
	for _, x := range candidates {
		if len(candidates) > 1 && x.overTicks < settleTicks {
			continue
		}
		if oldest == nil || x.started < oldest.started {
			oldest = x
		}
	}
	return oldest
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
