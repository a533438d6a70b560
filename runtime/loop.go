package runtime

import (
	"context"
	"fmt"
	"time"

	"github.com/dop251/goja"
)

// eventLoop runs timers and other asynchronous work of one instance on the
// goroutine that executes it. Work finishing elsewhere is handed back
// through jobs; pending counts what may still enqueue a job.
type eventLoop struct {
	vm      *goja.Runtime
	in      *instance
	jobs    chan func()
	pending int
	nextID  int64
	timers  map[int64]*time.Timer
	// done is closed when the instance is thrown away, releasing goroutines
	// that would otherwise wait to hand it a job.
	done chan struct{}
}

// maxPendingTimers bounds the timers one execution may have pending: each
// is a Go timer, and a storm of them would otherwise be a memory bomb.
const maxPendingTimers = 1000

func newEventLoop(vm *goja.Runtime, in *instance) *eventLoop {
	return &eventLoop{vm: vm, in: in, jobs: make(chan func(), 64), timers: make(map[int64]*time.Timer), done: make(chan struct{})}
}

func (l *eventLoop) install(global *goja.Object) {
	_ = global.Set("setTimeout", l.setTimeout)
	_ = global.Set("clearTimeout", l.clearTimeout)
	_ = global.Set("queueMicrotask", func(fn goja.Callable) {
		p, resolve, _ := l.vm.NewPromise()
		_ = resolve(goja.Undefined())
		then, _ := goja.AssertFunction(l.vm.ToValue(p).ToObject(l.vm).Get("then"))
		_, _ = then(l.vm.ToValue(p), l.vm.ToValue(func() { _, _ = fn(goja.Undefined()) }))
	})
}

func (l *eventLoop) setTimeout(call goja.FunctionCall) goja.Value {
	fn, ok := goja.AssertFunction(call.Argument(0))
	if !ok {
		panic(l.vm.NewTypeError("setTimeout: callback is not a function"))
	}
	if len(l.timers) >= maxPendingTimers {
		if x := l.in.exec; x != nil {
			x.stop(&LimitError{Limit: "pending_timers", Value: maxPendingTimers})
		}
		panic(l.vm.NewGoError(fmt.Errorf("too many pending timers (limit %d)", maxPendingTimers)))
	}
	delay := time.Duration(call.Argument(1).ToInteger()) * time.Millisecond
	args := append([]goja.Value(nil), call.Arguments[min(2, len(call.Arguments)):]...)
	l.nextID++
	id := l.nextID
	l.pending++
	l.timers[id] = time.AfterFunc(max(delay, 0), func() {
		l.post(func() {
			if _, live := l.timers[id]; !live {
				return
			}
			delete(l.timers, id)
			l.pending--
			if _, err := fn(goja.Undefined(), args...); err != nil {
				panic(err)
			}
		})
	})
	return l.vm.ToValue(id)
}

func (l *eventLoop) clearTimeout(id int64) {
	if t, ok := l.timers[id]; ok {
		t.Stop()
		delete(l.timers, id)
		l.pending--
	}
}

// post hands job to the loop's goroutine unless the instance is gone.
func (l *eventLoop) post(job func()) {
	select {
	case l.jobs <- job:
	case <-l.done:
	}
}

// close releases everything waiting on a discarded instance.
func (l *eventLoop) close() {
	l.reset()
	close(l.done)
}

// await runs the loop until v, if it is a promise, settles.
func (l *eventLoop) await(ctx context.Context, x *execution, v goja.Value) (result goja.Value, err error) {
	p, ok := asPromise(v)
	if !ok {
		return v, nil
	}
	defer func() {
		// A job's exception surfaces as a panic carrying the goja error.
		if r := recover(); r != nil {
			x.exit()
			if e, ok := r.(error); ok {
				err = scriptError(e)
				return
			}
			panic(r)
		}
	}()
	for p.State() == goja.PromiseStatePending {
		if l.pending == 0 && len(l.jobs) == 0 {
			return nil, ErrNeverResolved
		}
		select {
		case job := <-l.jobs:
			x.enter()
			job()
			x.exit()
		case <-x.kill:
			return nil, x.stopErr()
		case <-ctx.Done():
			return nil, fmt.Errorf("%w: %w", ErrScript, context.Cause(ctx))
		}
	}
	if p.State() == goja.PromiseStateRejected {
		return nil, fmt.Errorf("%w: the handler rejected: %s", ErrScript, rejection(p.Result()))
	}
	return p.Result(), nil
}

// rejection describes a rejection value; a value that throws when read
// panics out of it (await turns that into an uncaught exception).
func rejection(v goja.Value) string { return rejectionText(v) }

// describeRejection is rejection that also says whether v could be read
// safely: a hostile stack getter or toString that throws leaves the
// runtime in an unknown state (goja panics out of it), so its instance
// must not be reused.
func describeRejection(v goja.Value) (s string, ok bool) {
	defer func() {
		if r := recover(); r != nil {
			s, ok = "(a value that could not be converted to a string)", false
		}
	}()
	return rejectionText(v), true
}

func rejectionText(v goja.Value) string {
	if o, ok := v.(*goja.Object); ok {
		if s := o.Get("stack"); s != nil && !goja.IsUndefined(s) {
			return s.String()
		}
	}
	return v.String()
}

// reset drops what an execution left behind so the next one starts clean.
func (l *eventLoop) reset() {
	for id, t := range l.timers {
		t.Stop()
		delete(l.timers, id)
	}
	l.pending = 0
	for {
		select {
		case <-l.jobs:
		default:
			return
		}
	}
}
