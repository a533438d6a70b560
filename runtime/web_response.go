package runtime

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"reflect"
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

// respond writes the Response the handler resolved to. A stream body is
// written chunk by chunk, each flushed to the client as it comes.
func (e *Engine) respond(ctx context.Context, in *instance, req *ExecRequest, w http.ResponseWriter, ret goja.Value) (int, error) {
	vm := in.vm
	x := in.exec
	in.out = responseParts{}
	isResponse, err := call(x, in.unwrap, goja.Undefined(), ret)
	if err != nil {
		return 0, scriptError(err)
	}
	if !isResponse.ToBoolean() {
		return 0, fmt.Errorf("%w: fetch handler returned %s, not a Response", ErrScript, describe(ret))
	}
	parts := in.out
	status := int(parts.status.ToInteger())
	if status < 200 || status > 599 {
		// Only reachable through internals (a fetched 1xx, Response.error):
		// net/http would panic or send an interim response.
		return 0, fmt.Errorf("%w: the handler returned a Response with status %d", ErrScript, status)
	}
	h := w.Header()
	if goja.IsNull(parts.pairs) {
		if isString(parts.contentType) {
			h["Content-Type"] = []string{parts.contentType.String()}
		}
	} else {
		hdrPairs, _ := parts.pairs.Export().([]any)
		for i := 0; i+1 < len(hdrPairs); i += 2 {
			k, _ := hdrPairs[i].(string)
			v, _ := hdrPairs[i+1].(string)
			h.Add(k, v)
		}
		// The engine frames the body itself, as Workers does.
		for _, k := range []string{"Content-Length", "Transfer-Encoding", "Connection", "Keep-Alive", "Upgrade", "Trailer"} {
			h.Del(k)
		}
	}
	if reader := parts.reader; !goja.IsNull(reader) {
		return e.stream(ctx, in, req, w, status, reader)
	}
	var body []byte
	switch b := parts.body; {
	case goja.IsNull(b) || goja.IsUndefined(b):
	case isString(b):
		body = []byte(b.String()) // a string body, encoded once, here
	default:
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
	next := in.nextChunk
	cancel := func(reason string) {
		_, _ = in.cancelStream(goja.Undefined(), reader, vm.ToValue(reason))
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
	if len(x.unhandled) == 0 {
		return
	}
	if hp, ok := asPromise(handlerResult); ok {
		delete(x.unhandled, hp)
	}
	for p := range x.unhandled {
		msg, ok := describeRejection(p.Result())
		if !ok {
			x.poisoned = true
		}
		x.addLog("error", "Uncaught (in promise) "+msg)
	}
	x.unhandled = nil
}

// afterResponse runs ctx.waitUntil work to its end within the wall time.
func (e *Engine) afterResponse(ctx context.Context, in *instance) error {
	if !in.exec.waited {
		return nil // no ctx.waitUntil
	}
	p, err := call(in.exec, in.waitAll, goja.Undefined())
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

var promiseType = reflect.TypeOf((*goja.Promise)(nil))

// asPromise returns v's promise if v is one, without exporting other
// objects (Export copies a plain object into a map).
func asPromise(v goja.Value) (*goja.Promise, bool) {
	o, ok := v.(*goja.Object)
	if !ok || o.ExportType() != promiseType {
		return nil, false
	}
	p, ok := o.Export().(*goja.Promise)
	return p, ok
}

// isString reports whether v is a JS string primitive.
func isString(v goja.Value) bool {
	_, ok := v.(goja.String)
	return ok
}
