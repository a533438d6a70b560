package runtime

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"time"

	"github.com/dop251/goja"
)

// installWeb gives an instance its Web API natives and tracks promise
// rejections nobody handles, so they can be logged.
func (e *Engine) installWeb(in *instance, n *goja.Object) {
	webNatives(in.vm, n)
	_ = n.Set("fetch", e.fetchNative(in))
	in.vm.SetPromiseRejectionTracker(func(p *goja.Promise, op goja.PromiseRejectionOperation) {
		x := in.exec
		if x == nil {
			return
		}
		switch op {
		case goja.PromiseRejectionReject:
			if x.unhandled == nil {
				x.unhandled = make(map[*goja.Promise]struct{})
			}
			x.unhandled[p] = struct{}{}
		case goja.PromiseRejectionHandle:
			delete(x.unhandled, p)
		}
	})
}

// addLog appends one line to the execution's logs within its limit.
func (x *execution) addLog(level, msg string) {
	if int64(len(x.logs)) >= x.limits.LogLines {
		x.dropped++
		return
	}
	if len(msg) > maxLogMessage {
		msg = msg[:maxLogMessage] + fmt.Sprintf("... (%d bytes cut)", len(msg)-maxLogMessage)
	}
	x.logs = append(x.logs, LogLine{Time: time.Now().UTC(), Level: level, Message: msg})
}

// newContext builds the ctx argument of the fetch handler.
func (e *Engine) newContext(in *instance, req *ExecRequest) (goja.Value, error) {
	vm := in.vm
	params := vm.NewObject()
	for k, v := range req.Params {
		_ = params.Set(k, v)
	}
	fn, _ := goja.AssertFunction(in.hooks.Get("newContext"))
	return fn(goja.Undefined(), params, vm.ToValue(req.RequestID), vm.ToValue(req.ExecutionID))
}

// respond writes the Response the handler resolved to. A stream body is
// written chunk by chunk, each flushed to the client as it comes.
func (e *Engine) respond(ctx context.Context, in *instance, req *ExecRequest, w http.ResponseWriter, ret goja.Value) (int, error) {
	vm := in.vm
	x := in.exec
	out, err := call(x, in.unwrap, goja.Undefined(), ret)
	if err != nil {
		return 0, scriptError(err)
	}
	if goja.IsNull(out) {
		return 0, fmt.Errorf("%w: fetch handler returned %s, not a Response", ErrScript, describe(ret))
	}
	parts := out.ToObject(vm)
	status := int(parts.Get("0").ToInteger())
	if status < 200 || status > 599 {
		// Only reachable through internals (a fetched 1xx, Response.error):
		// net/http would panic or send an interim response.
		return 0, fmt.Errorf("%w: the handler returned a Response with status %d", ErrScript, status)
	}
	var hdrPairs []string
	if err := vm.ExportTo(parts.Get("1"), &hdrPairs); err != nil {
		return 0, fmt.Errorf("reading response headers: %w", err)
	}
	h := w.Header()
	for i := 0; i+1 < len(hdrPairs); i += 2 {
		h.Add(hdrPairs[i], hdrPairs[i+1])
	}
	// The engine frames the body itself, as Workers does.
	for _, k := range []string{"Content-Length", "Transfer-Encoding", "Connection", "Keep-Alive", "Upgrade", "Trailer"} {
		h.Del(k)
	}
	if reader := parts.Get("3"); !goja.IsNull(reader) {
		return e.stream(ctx, in, req, w, status, reader)
	}
	var body []byte
	if b := parts.Get("2"); !goja.IsNull(b) && !goja.IsUndefined(b) {
		body = bytesOf(vm, b)
	}
	if int64(len(body)) > x.limits.ResponseBodyBytes {
		return 0, &LimitError{Limit: "response_body_bytes", Value: x.limits.ResponseBodyBytes,
			Detail: fmt.Sprintf("the body has %d bytes", len(body))}
	}
	if !bodyless(status) {
		h.Set("Content-Length", strconv.Itoa(len(body)))
	}
	w.WriteHeader(status)
	if len(body) > 0 && req.Method != http.MethodHead && !bodyless(status) {
		if _, err := w.Write(body); err != nil {
			return status, fmt.Errorf("writing response: %w", err)
		}
	}
	_ = http.NewResponseController(w).Flush()
	return status, nil
}

func bodyless(status int) bool {
	return status == http.StatusNoContent || status == http.StatusNotModified || status < 200
}

// stream copies a ReadableStream body to w. The client already has the
// status line when a chunk fails, so errors end the response early.
func (e *Engine) stream(ctx context.Context, in *instance, req *ExecRequest, w http.ResponseWriter, status int, reader goja.Value) (int, error) {
	vm := in.vm
	rc := http.NewResponseController(w)
	w.WriteHeader(status)
	_ = rc.Flush()
	next, _ := goja.AssertFunction(in.hooks.Get("nextChunk"))
	cancel := func(reason string) {
		c, _ := goja.AssertFunction(in.hooks.Get("cancelStream"))
		_, _ = c(goja.Undefined(), reader, vm.ToValue(reason))
	}
	if req.Method == http.MethodHead || bodyless(status) {
		cancel("no body is sent for this response")
		return status, nil
	}
	x := in.exec
	var sent int64
	for {
		p, err := call(x, next, goja.Undefined(), reader)
		if err != nil {
			return status, scriptError(err)
		}
		chunk, err := in.loop.await(ctx, x, p)
		if err != nil {
			if errors.Is(err, ErrNeverResolved) {
				err = fmt.Errorf("%w: the response stream stalled: nothing can write to it any more", ErrScript)
			}
			return status, err
		}
		if goja.IsNull(chunk) {
			return status, nil
		}
		b := bytesOf(vm, chunk)
		if len(b) == 0 {
			continue
		}
		if sent += int64(len(b)); sent > x.limits.ResponseBodyBytes {
			cancel("the response body is over its limit")
			return status, &LimitError{Limit: "response_body_bytes", Value: x.limits.ResponseBodyBytes,
				Detail: "the streamed body went over it"}
		}
		if _, err := w.Write(b); err != nil {
			cancel("the client went away")
			return status, fmt.Errorf("writing response: %w", err)
		}
		if err := rc.Flush(); err != nil && !errors.Is(err, http.ErrNotSupported) {
			return status, fmt.Errorf("flushing response: %w", err)
		}
	}
}

// logUnhandled logs the promise rejections nobody handled, except the
// handler's own result, whose rejection is the execution's error.
func (e *Engine) logUnhandled(in *instance, handlerResult goja.Value) {
	x := in.exec
	if handlerResult != nil {
		if hp, ok := handlerResult.Export().(*goja.Promise); ok {
			delete(x.unhandled, hp)
		}
	}
	for p := range x.unhandled {
		x.addLog("error", "Uncaught (in promise) "+rejection(p.Result()))
	}
	x.unhandled = nil
}

// afterResponse runs ctx.waitUntil work to its end within the wall time.
func (e *Engine) afterResponse(ctx context.Context, in *instance) error {
	waitAll, _ := goja.AssertFunction(in.hooks.Get("waitAll"))
	p, err := call(in.exec, waitAll, goja.Undefined())
	var werr error
	if err != nil {
		werr = scriptError(err)
	} else if !goja.IsNull(p) {
		if _, err := in.loop.await(ctx, in.exec, p); err != nil {
			werr = fmt.Errorf("ctx.waitUntil: %w", err)
		}
	}
	return werr
}
