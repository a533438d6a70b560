package runtime

import (
	"context"
	_ "embed"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"strconv"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/dop251/goja"
)

//go:embed js/prelude.js
var preludeSource string

// Limits bound one execution.
type Limits struct {
	// WallTime bounds the whole execution, awaits included.
	WallTime time.Duration
	// MaxCallStack bounds JS call depth.
	MaxCallStack int
	// MaxLogLines bounds console calls kept per execution.
	MaxLogLines int
}

// DefaultLimits are used when a script sets none.
var DefaultLimits = Limits{WallTime: 30 * time.Second, MaxCallStack: 512, MaxLogLines: 1000}

// Sentinel errors of an execution.
var (
	// ErrScript means the script threw or returned something unusable; the
	// details are in the execution's logs, never in the response.
	ErrScript = errors.New("script failed")
	// ErrTimeout means the wall-time limit was reached.
	ErrTimeout = errors.New("script timed out")
	// ErrNeverResolved means the handler's promise can no longer settle.
	ErrNeverResolved = errors.New("script's response promise never resolved")
)

// Config configures an Engine.
type Config struct {
	Logger *slog.Logger
	Limits Limits
	// PoolSize is how many idle runtimes are kept per script version.
	PoolSize int
}

// Engine executes scripts. It is safe for concurrent use.
type Engine struct {
	log      *slog.Logger
	limits   Limits
	prelude  *goja.Program
	programs *programCache

	poolSize int
	mu       sync.Mutex
	pools    map[string]chan *instance // by script id + version
}

// New returns an Engine.
func New(cfg Config) (*Engine, error) {
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.Limits == (Limits{}) {
		cfg.Limits = DefaultLimits
	}
	if cfg.PoolSize <= 0 {
		cfg.PoolSize = 4
	}
	prelude, err := goja.Compile("prelude.js", preludeSource, true)
	if err != nil {
		return nil, fmt.Errorf("compiling prelude: %w", err)
	}
	return &Engine{
		log:      cfg.Logger.With("component", "runtime"),
		limits:   cfg.Limits,
		prelude:  prelude,
		programs: newProgramCache(),
		poolSize: cfg.PoolSize,
		pools:    make(map[string]chan *instance),
	}, nil
}

// Compile checks source and returns the code to store for it.
func (e *Engine) Compile(ctx context.Context, source, language string) (string, error) {
	return Transform(ctx, source, language)
}

// instance is a runtime with one script version loaded. It is used by one
// execution at a time.
type instance struct {
	vm      *goja.Runtime
	hooks   *goja.Object
	handler *goja.Object
	fetch   goja.Callable
	loop    *eventLoop
	exec    *execution // the execution currently using the instance
}

// execution is the per-request state the natives see.
type execution struct {
	logs    []LogLine
	dropped int
	limits  Limits
}

func poolKey(s *Script) string { return s.ID + "@" + strconv.Itoa(s.Version) }

func (e *Engine) acquire(s *Script) (*instance, error) {
	e.mu.Lock()
	pool := e.pools[poolKey(s)]
	e.mu.Unlock()
	if pool != nil {
		select {
		case in := <-pool:
			return in, nil
		default:
		}
	}
	return e.newInstance(s)
}

func (e *Engine) release(s *Script, in *instance) {
	key := poolKey(s)
	e.mu.Lock()
	pool := e.pools[key]
	if pool == nil {
		pool = make(chan *instance, e.poolSize)
		e.pools[key] = pool
	}
	e.mu.Unlock()
	select {
	case pool <- in:
	default: // pool full: let this one go
	}
}

func (e *Engine) newInstance(s *Script) (*instance, error) {
	prog, err := e.programs.get(s)
	if err != nil {
		return nil, err
	}
	vm := goja.New()
	vm.SetMaxCallStackSize(e.limits.MaxCallStack)
	in := &instance{vm: vm}
	in.loop = newEventLoop(vm)

	setup, err := vm.RunProgram(e.prelude)
	if err != nil {
		return nil, fmt.Errorf("running prelude: %w", err)
	}
	setupFn, _ := goja.AssertFunction(setup)
	hooks, err := setupFn(goja.Undefined(), vm.GlobalObject(), e.natives(in))
	if err != nil {
		return nil, fmt.Errorf("running prelude: %w", err)
	}
	in.hooks = hooks.ToObject(vm)
	in.loop.install(vm.GlobalObject())

	wrapper, err := vm.RunProgram(prog)
	if err != nil {
		return nil, fmt.Errorf("%w: loading module: %v", ErrScript, err)
	}
	wrapFn, _ := goja.AssertFunction(wrapper)
	module := vm.NewObject()
	exports := vm.NewObject()
	_ = module.Set("exports", exports)
	if _, err := wrapFn(goja.Undefined(), module, exports); err != nil {
		return nil, fmt.Errorf("%w: evaluating module: %v", ErrScript, err)
	}
	def := module.Get("exports").ToObject(vm).Get("default")
	if def == nil || goja.IsUndefined(def) || goja.IsNull(def) {
		return nil, fmt.Errorf("%w: the module has no default export (export default { fetch(request, env, ctx) { ... } })", ErrScript)
	}
	in.handler = def.ToObject(vm)
	fetch, ok := goja.AssertFunction(in.handler.Get("fetch"))
	if !ok {
		return nil, fmt.Errorf("%w: the default export has no fetch handler", ErrScript)
	}
	in.fetch = fetch
	return in, nil
}

func (e *Engine) natives(in *instance) *goja.Object {
	vm := in.vm
	n := vm.NewObject()
	_ = n.Set("log", func(level, msg string) {
		x := in.exec
		if x == nil {
			return
		}
		if len(x.logs) >= x.limits.MaxLogLines {
			x.dropped++
			return
		}
		x.logs = append(x.logs, LogLine{Time: time.Now().UTC(), Level: level, Message: msg})
	})
	_ = n.Set("utf8Encode", func(s string) goja.Value {
		return vm.ToValue(vm.NewArrayBuffer([]byte(s)))
	})
	_ = n.Set("utf8Decode", func(v goja.Value) string {
		b := bytesOf(vm, v)
		if utf8.Valid(b) {
			return string(b)
		}
		return string([]rune(string(b))) // replaces invalid sequences with U+FFFD
	})
	_ = n.Set("parseURL", func(raw, base string) (map[string]string, error) {
		u, err := url.Parse(raw)
		if err == nil && base != "" {
			var b *url.URL
			if b, err = url.Parse(base); err == nil {
				u = b.ResolveReference(u)
			}
		}
		if err != nil || !u.IsAbs() {
			panic(vm.NewTypeError("Invalid URL: %s", raw))
		}
		path := u.EscapedPath()
		if path == "" && (u.Scheme == "http" || u.Scheme == "https") {
			path = "/"
		}
		search := ""
		if u.RawQuery != "" {
			search = "?" + u.RawQuery
		}
		hash := ""
		if u.Fragment != "" {
			hash = "#" + u.EscapedFragment()
		}
		href := u.Scheme + "://" + u.Host + path + search + hash
		return map[string]string{"href": href, "protocol": u.Scheme + ":", "host": u.Host, "hostname": u.Hostname(),
			"port": u.Port(), "pathname": path, "search": search, "hash": hash}, nil
	})
	_ = n.Set("formDecode", func(s string) string {
		v, err := url.QueryUnescape(s)
		if err != nil {
			return s
		}
		return v
	})
	_ = n.Set("formEncode", url.QueryEscape)
	return n
}

// bytesOf returns the bytes of an ArrayBuffer or typed array value.
func bytesOf(vm *goja.Runtime, v goja.Value) []byte {
	switch x := v.Export().(type) {
	case goja.ArrayBuffer:
		return x.Bytes()
	case []byte:
		return x
	}
	o := v.ToObject(vm)
	buf, ok := o.Get("buffer").Export().(goja.ArrayBuffer)
	if !ok {
		return nil
	}
	off := int(o.Get("byteOffset").ToInteger())
	n := int(o.Get("byteLength").ToInteger())
	return buf.Bytes()[off : off+n]
}

// Execute runs the script's fetch handler for req and writes its response
// to w. On error nothing has been written unless the result says Wrote.
func (e *Engine) Execute(ctx context.Context, req *ExecRequest, w http.ResponseWriter) (res ExecResult, err error) {
	start := time.Now()
	res.Outcome = OutcomeSuccess
	limits := e.limits
	ctx, cancel := context.WithTimeout(ctx, limits.WallTime)
	defer cancel()

	in, err := e.acquire(&req.Script)
	if err != nil {
		if errors.Is(err, ErrScript) {
			e.log.Warn("script failed to load", "script_id", req.Script.ID, "err", err)
		}
		res.Outcome = OutcomeError
		res.Duration = time.Since(start)
		res.Logs = []LogLine{{Time: time.Now().UTC(), Level: "error", Message: err.Error()}}
		return res, err
	}
	x := &execution{limits: limits}
	in.exec = x
	healthy := true
	defer func() {
		in.exec = nil
		in.loop.reset()
		if healthy {
			e.release(&req.Script, in)
		} else {
			in.loop.close()
		}
		if x.dropped > 0 {
			x.logs = append(x.logs, LogLine{Time: time.Now().UTC(), Level: "warn",
				Message: fmt.Sprintf("log limit reached: %d more lines dropped (limit %d per execution)", x.dropped, limits.MaxLogLines)})
		}
		res.Logs = x.logs
		res.Duration = time.Since(start)
	}()

	stop := context.AfterFunc(ctx, func() { in.vm.Interrupt(ErrTimeout) })
	defer func() {
		if !stop() || ctx.Err() != nil {
			// The interrupt may have fired or be about to: never reuse.
			healthy = false
		}
		in.vm.ClearInterrupt()
	}()

	status, err := e.run(ctx, in, req, w)
	res.Status = status
	res.Wrote = status != 0
	if err != nil {
		healthy = false
		res.Outcome = OutcomeError
		if errors.Is(err, ErrTimeout) || errors.Is(ctx.Err(), context.DeadlineExceeded) {
			res.Outcome = OutcomeTimeout
			err = fmt.Errorf("%w after %s", ErrTimeout, limits.WallTime)
		}
		x.logs = append(x.logs, LogLine{Time: time.Now().UTC(), Level: "error", Message: err.Error()})
	}
	return res, err
}

func (e *Engine) run(ctx context.Context, in *instance, req *ExecRequest, w http.ResponseWriter) (int, error) {
	vm := in.vm
	pairs := make([]any, 0, 2*len(req.Header))
	for k, vs := range req.Header {
		for _, v := range vs {
			pairs = append(pairs, k, v)
		}
	}
	var body goja.Value = goja.Null()
	if len(req.Body) > 0 {
		body = vm.ToValue(vm.NewArrayBuffer(req.Body))
	}
	newRequest, _ := goja.AssertFunction(in.hooks.Get("newRequest"))
	request, err := newRequest(goja.Undefined(), vm.ToValue(req.URL), vm.ToValue(req.Method), vm.ToValue(pairs), body)
	if err != nil {
		return 0, scriptError(err)
	}
	env, err := e.env(vm, req.Script.Bindings)
	if err != nil {
		return 0, err
	}
	ectx := vm.NewObject()
	params := vm.NewObject()
	for k, v := range req.Params {
		_ = params.Set(k, v)
	}
	_ = ectx.Set("params", params)
	_ = ectx.Set("requestId", req.RequestID)
	_ = ectx.Set("executionId", req.ExecutionID)
	_ = ectx.Set("waitUntil", func(goja.Value) {})
	_ = ectx.Set("passThroughOnException", func() {})

	ret, err := in.fetch(in.handler, request, env, ectx)
	if err != nil {
		return 0, scriptError(err)
	}
	ret, err = in.loop.await(ctx, ret)
	if err != nil {
		return 0, err
	}
	unwrap, _ := goja.AssertFunction(in.hooks.Get("unwrapResponse"))
	out, err := unwrap(goja.Undefined(), ret)
	if err != nil {
		return 0, scriptError(err)
	}
	if goja.IsNull(out) {
		return 0, fmt.Errorf("%w: fetch handler returned %s, not a Response", ErrScript, describe(ret))
	}
	o := out.ToObject(vm)
	status := int(o.Get("status").ToInteger())
	var hdrPairs []string
	if err := vm.ExportTo(o.Get("headers"), &hdrPairs); err != nil {
		return 0, fmt.Errorf("reading response headers: %w", err)
	}
	h := w.Header()
	for i := 0; i+1 < len(hdrPairs); i += 2 {
		h.Add(hdrPairs[i], hdrPairs[i+1])
	}
	var respBody []byte
	if b := o.Get("body"); b != nil && !goja.IsNull(b) && !goja.IsUndefined(b) {
		respBody = bytesOf(vm, b)
	}
	if respBody != nil && h.Get("Content-Length") == "" {
		h.Set("Content-Length", strconv.Itoa(len(respBody)))
	}
	w.WriteHeader(status)
	if len(respBody) > 0 && req.Method != http.MethodHead {
		if _, err := w.Write(respBody); err != nil {
			return status, fmt.Errorf("writing response: %w", err)
		}
	}
	return status, nil
}

// env builds the env object from text and json bindings.
func (e *Engine) env(vm *goja.Runtime, raw json.RawMessage) (*goja.Object, error) {
	env := vm.NewObject()
	if len(raw) == 0 {
		return env, nil
	}
	var bs map[string]struct {
		Type  string          `json:"type"`
		Value json.RawMessage `json:"value"`
	}
	if err := json.Unmarshal(raw, &bs); err != nil {
		return nil, fmt.Errorf("reading bindings: %w", err)
	}
	for name, b := range bs {
		switch b.Type {
		case "text":
			var s string
			if err := json.Unmarshal(b.Value, &s); err != nil {
				return nil, fmt.Errorf("binding %s: %w", name, err)
			}
			_ = env.Set(name, s)
		case "json":
			var v any
			if err := json.Unmarshal(b.Value, &v); err != nil {
				return nil, fmt.Errorf("binding %s: %w", name, err)
			}
			_ = env.Set(name, vm.ToValue(v))
		}
	}
	return env, nil
}

func scriptError(err error) error {
	var ex *goja.Exception
	if errors.As(err, &ex) {
		return fmt.Errorf("%w: uncaught exception: %s", ErrScript, ex.String())
	}
	var ie *goja.InterruptedError
	if errors.As(err, &ie) {
		if e, ok := ie.Value().(error); ok {
			return e
		}
	}
	return fmt.Errorf("%w: %v", ErrScript, err)
}

func describe(v goja.Value) string {
	if v == nil || goja.IsUndefined(v) {
		return "undefined"
	}
	if goja.IsNull(v) {
		return "null"
	}
	return "a value of type " + v.ExportType().String()
}
