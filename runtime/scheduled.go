package runtime

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/dop251/goja"
)

// ErrNoScheduled means a cron trigger fired for a module whose default
// export has no scheduled handler. It comes wrapped with ErrScript.
var ErrNoScheduled = errors.New("the default export has no scheduled handler (export default { scheduled(event, env, ctx) { ... } })")

// ScheduledRequest is one invocation of a script's scheduled handler by a
// cron trigger.
type ScheduledRequest struct {
	Script Script
	// Cron is the trigger's schedule, event.cron in the script.
	Cron string
	// ScheduledTime is the tick that fired, event.scheduledTime (ms).
	ScheduledTime time.Time
	RequestID     string
	ExecutionID   string
}

// Scheduled runs the script's scheduled(event, env, ctx) handler to its
// end, ctx.waitUntil work included, under the same limits, watchdog and
// console capture as Execute. It is kept apart from Execute so the fetch
// path stays as tuned; the set-up and tear-down below mirror Execute's.
func (e *Engine) Scheduled(ctx context.Context, req *ScheduledRequest) (res ExecResult, err error) {
	start := time.Now()
	res.Outcome = OutcomeSuccess
	lim := withDefaults(req.Script.Limits, e.limits)

	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	x := &execution{ctx: ctx, limits: lim, clock: e.watch.now, kill: make(chan struct{})}
	x.deadline.Store(e.watch.now() + lim.WallTime().Nanoseconds())
	e.watch.add(x)
	defer func() {
		if x.coldStart {
			e.refillSpare()
		}
	}()
	in, err := e.acquire(&req.Script, x)
	if err != nil {
		e.watch.remove(x)
		outcome := OutcomeError
		var le *LimitError
		if errors.As(err, &le) {
			outcome = OutcomeLimit
			if errors.Is(err, ErrTimeout) {
				outcome = OutcomeTimeout
			}
		}
		e.log.Warn("scheduled script failed to load", "script_id", req.Script.ID, "version", req.Script.Version, "err", err)
		return e.failed(res, start, outcome, err), err
	}
	x.attach(in)
	e.busy.Add(1)
	defer e.busy.Add(-1)
	x.deadline.Store(e.watch.now() + lim.WallTime().Nanoseconds())
	in.exec = x
	in.vm.SetMaxCallStackSize(int(lim.CallDepth))
	timers := in.loop.nextID
	defer func() {
		e.watch.remove(x)
		in.exec = nil
		in.loop.reset()
		in.out = responseParts{}
		if x.waited || in.loop.nextID != timers {
			_, _ = in.reset(goja.Undefined())
		}
		if killed := x.detach(); err == nil && killed == nil && !x.poisoned {
			in.vm.ClearInterrupt()
			e.pool.put(in, time.Now())
		} else {
			in.discard()
		}
		if x.dropped > 0 {
			msg := fmt.Sprintf("limit log_lines=%d reached: %d more lines dropped", lim.LogLines, x.dropped)
			x.logs = append(x.logs, LogLine{Time: time.Now().UTC(), Level: "warn", Message: msg})
		}
		res.Logs = x.logs
		res.Duration = time.Since(start)
	}()

	err = e.runScheduled(ctx, in, x, req)
	if err != nil {
		if k := x.stopErr(); k != nil {
			err = k // the watchdog's reason beats the interrupt it caused
		}
		var so *goja.StackOverflowError
		if errors.As(err, &so) {
			err = &LimitError{Limit: "call_depth", Value: lim.CallDepth}
		}
		res.Outcome = OutcomeError
		switch {
		case errors.Is(err, ErrTimeout):
			res.Outcome = OutcomeTimeout
		case errors.Is(err, ErrLimit):
			res.Outcome = OutcomeLimit
		}
		var le *LimitError
		if errors.As(err, &le) {
			e.log.Warn("scheduled script stopped by a limit", "script_id", req.Script.ID, "version", req.Script.Version,
				"request_id", req.RequestID, "limit", le.Limit, "err", err)
		}
		x.logs = append(x.logs, LogLine{Time: time.Now().UTC(), Level: "error", Message: err.Error()})
	}
	return res, err
}

func (e *Engine) runScheduled(ctx context.Context, in *instance, x *execution, req *ScheduledRequest) error {
	vm := in.vm
	hook, ok := goja.AssertFunction(in.hooks.Get("scheduled"))
	if !ok {
		return errors.New("running scheduled: no scheduled hook in the prelude")
	}
	env, err := e.buildEnv(ctx, in, &ExecRequest{Script: req.Script, RequestID: req.RequestID, ExecutionID: req.ExecutionID})
	if err != nil {
		return err
	}
	ret, err := call(x, hook, goja.Undefined(), in.handler, env, vm.ToValue(req.Cron),
		vm.ToValue(req.ScheduledTime.UnixMilli()), vm.ToValue(req.RequestID), vm.ToValue(req.ExecutionID))
	defer e.logUnhandled(in, ret)
	if err != nil {
		return scriptError(err)
	}
	if o, isObj := ret.(*goja.Object); isObj && o.SameAs(in.hooks.Get("noScheduled")) {
		return fmt.Errorf("%w: %w", ErrScript, ErrNoScheduled)
	}
	if _, err := in.loop.await(ctx, x, ret); err != nil {
		return err
	}
	return e.afterResponse(ctx, in)
}
