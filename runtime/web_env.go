package runtime

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/dop251/goja"
)

// BindingSpec is one declared binding of a script, as deployed:
// {"NAME": {"type": "kv", "namespace": "..."}} gives Name "NAME", Type
// "kv" and Config the whole JSON object.
type BindingSpec struct {
	Name   string
	Type   string
	Config json.RawMessage
}

// CallInfo identifies the execution a binding serves. Services derive the
// app from it, never from arguments the script passes.
type CallInfo struct {
	AppID       string
	ScriptID    string
	ExecutionID string
	RequestID   string
}

// AsyncMethod is one method of a binding object. It runs on its own
// goroutine; its result becomes the value of the promise the script gets.
// Results may be nil, bool, numbers, strings, []byte (an ArrayBuffer),
// []any and map[string]any.
type AsyncMethod func(ctx context.Context, args []any) (any, error)

// BindingValue is what env.NAME becomes: a plain Value (a secret's
// string), or an object whose Methods return promises (a KV namespace).
type BindingValue struct {
	Value   any
	Methods map[string]AsyncMethod
}

// BindingProvider resolves the binding types the engine does not handle
// itself (it handles "text" and "json"). node implements it for "kv" and
// "secret".
type BindingProvider interface {
	Bind(ctx context.Context, call CallInfo, spec BindingSpec) (BindingValue, error)
}

// ErrUnknownBinding means a script declares a binding type nothing on this
// node provides.
var ErrUnknownBinding = errors.New("unsupported binding type")

// buildEnv makes the env object of one execution.
func (e *Engine) buildEnv(ctx context.Context, in *instance, req *ExecRequest) (*goja.Object, error) {
	vm := in.vm
	env := vm.NewObject()
	raw := req.Script.Bindings
	if len(raw) == 0 || string(raw) == "null" {
		return env, nil
	}
	var bs map[string]json.RawMessage
	if err := json.Unmarshal(raw, &bs); err != nil {
		return nil, fmt.Errorf("reading bindings: %w", err)
	}
	call := CallInfo{AppID: req.Script.AppID, ScriptID: req.Script.ID, ExecutionID: req.ExecutionID, RequestID: req.RequestID}
	for name, cfg := range bs {
		var head struct {
			Type  string          `json:"type"`
			Value json.RawMessage `json:"value"`
		}
		if err := json.Unmarshal(cfg, &head); err != nil {
			return nil, fmt.Errorf("binding %s: %w", name, err)
		}
		switch head.Type {
		case "text":
			var s string
			if err := json.Unmarshal(head.Value, &s); err != nil {
				return nil, fmt.Errorf("binding %s: %w", name, err)
			}
			_ = env.Set(name, s)
		case "json":
			var v any
			if err := json.Unmarshal(head.Value, &v); err != nil {
				return nil, fmt.Errorf("binding %s: %w", name, err)
			}
			_ = env.Set(name, vm.ToValue(v))
		default:
			if e.bindings == nil {
				return nil, fmt.Errorf("binding %s: %w %q", name, ErrUnknownBinding, head.Type)
			}
			bv, err := e.bindings.Bind(ctx, call, BindingSpec{Name: name, Type: head.Type, Config: cfg})
			if err != nil {
				return nil, fmt.Errorf("binding %s: %w", name, err)
			}
			_ = env.Set(name, e.bindingObject(in, bv))
		}
	}
	return env, nil
}

func (e *Engine) bindingObject(in *instance, bv BindingValue) goja.Value {
	vm := in.vm
	if bv.Methods == nil {
		return toJS(vm, bv.Value)
	}
	o := vm.NewObject()
	for name, m := range bv.Methods {
		_ = o.Set(name, func(call goja.FunctionCall) goja.Value {
			args := make([]any, len(call.Arguments))
			for i, a := range call.Arguments {
				args[i] = fromJS(vm, a)
			}
			return in.goAsync(func(ctx context.Context) (any, error) { return m(ctx, args) })
		})
	}
	return o
}

// goAsync runs fn on its own goroutine and returns a promise settled on
// the instance's loop with fn's result.
func (in *instance) goAsync(fn func(ctx context.Context) (any, error)) goja.Value {
	vm := in.vm
	p, resolve, reject := vm.NewPromise()
	x := in.exec
	if x == nil {
		_ = reject(vm.NewTypeError("no execution is running"))
		return vm.ToValue(p)
	}
	in.loop.pending++
	go func() {
		v, err := fn(x.ctx)
		in.loop.post(func() {
			if in.exec != x {
				return
			}
			in.loop.pending--
			if err != nil {
				_ = reject(vm.NewGoError(err))
				return
			}
			_ = resolve(toJS(vm, v))
		})
	}()
	return vm.ToValue(p)
}

// toJS converts a Go result, turning []byte into an ArrayBuffer.
func toJS(vm *goja.Runtime, v any) goja.Value {
	switch x := v.(type) {
	case nil:
		return goja.Null()
	case []byte:
		return vm.ToValue(vm.NewArrayBuffer(append([]byte(nil), x...)))
	case []any:
		out := make([]any, len(x))
		for i, e := range x {
			out[i] = toJS(vm, e)
		}
		return vm.NewArray(out...)
	case map[string]any:
		o := vm.NewObject()
		for k, e := range x {
			_ = o.Set(k, toJS(vm, e))
		}
		return o
	}
	return vm.ToValue(v)
}

// fromJS converts an argument, copying ArrayBuffers and views to []byte.
func fromJS(vm *goja.Runtime, v goja.Value) any {
	if v == nil || goja.IsUndefined(v) || goja.IsNull(v) {
		return nil
	}
	if o, ok := v.(*goja.Object); ok {
		if _, isAB := o.Export().(goja.ArrayBuffer); isAB || isView(vm, o) {
			return append([]byte(nil), bytesOf(vm, v)...)
		}
	}
	return v.Export()
}

func isView(vm *goja.Runtime, o *goja.Object) bool {
	isView, _ := goja.AssertFunction(vm.Get("ArrayBuffer").ToObject(vm).Get("isView"))
	r, err := isView(goja.Undefined(), o)
	return err == nil && r.ToBoolean()
}
