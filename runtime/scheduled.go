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

// ErrNoFetch means a request reached a module whose default export has no
// fetch handler (it only handles cron ticks). It comes wrapped with
// ErrScript.
var ErrNoFetch = errors.New("the default export has no fetch handler (export default { fetch(request, env, ctx) { ... } })")

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
// console capture as Execute.
func (e *Engine) Scheduled(ctx context.Context, req *ScheduledRequest) (ExecResult, error) {
	return e.invoke(ctx, &req.Script, withDefaults(req.Script.Limits, e.limits), req.RequestID, time.Now(),
		func(ctx context.Context, in *instance, x *execution, _ *ExecResult) error {
			return e.runScheduled(ctx, in, x, req)
		})
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
