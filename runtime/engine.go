package runtime

import (
	"container/list"
	"context"
	_ "embed"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/dlclark/regexp2/v2"
	"github.com/dop251/goja"

	"github.com/picloud/picloud/internal/limits"
)

//go:embed js/prelude.js
var preludeSource string

//go:embed js/harden.js
var hardenSource string

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

// regexpTimeout bounds one match of the backtracking regexp engine goja
// falls back to for lookarounds and backreferences; Interrupt cannot stop
// a match midway. A timed-out match finds nothing, and the CPU limit then
// stops a script that keeps trying.
const regexpTimeout = 250 * time.Millisecond

var setRegexpTimeout sync.Once

// Config configures an Engine.
type Config struct {
	Logger *slog.Logger
	// Limits are the defaults for scripts that override nothing; zero
	// fields take limits.Defaults.
	Limits limits.Limits
	// PoolSize is how many idle runtimes are kept per script version.
	PoolSize int
	// Outbound bounds fetch(); zero fields take DefaultOutbound's values.
	Outbound OutboundConfig
	// Bindings resolves binding types other than text and json (kv,
	// secret); nil refuses them.
	Bindings BindingProvider
	// MaxIdle bounds idle runtimes over all scripts (LRU eviction).
	MaxIdle int
	// IdleTTL evicts runtimes idle for longer.
	IdleTTL time.Duration
	// HeapCap is the node heap level above which the running script with
	// the largest heap growth is stopped; 0 means none.
	HeapCap int64
	// SpareRuntimes is how many blank hardened runtimes are built ahead
	// for cold starts (0 means 1; negative means none).
	SpareRuntimes int
}

// Engine executes scripts. It is safe for concurrent use.
type Engine struct {
	log      *slog.Logger
	limits   limits.Limits
	prelude  *goja.Program
	harden   *goja.Program
	programs *programCache
	pool     *pool
	watch    *watchdog

	outbound OutboundConfig
	client   *http.Client
	bindings BindingProvider

	spare    chan *instance // blank runtimes built ahead (refillSpare)
	building atomic.Bool
	// busy counts runtimes executing now; created, runtimes built.
	busy, created atomic.Int64

	// uncontained turns off the allocation guards, the frozen intrinsics
	// and the watchdog. Only benchmarks set it, to measure what
	// containment costs.
	uncontained bool
}

// New returns an Engine.
func New(cfg Config) (*Engine, error) {
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.PoolSize <= 0 {
		cfg.PoolSize = 4
	}
	if cfg.MaxIdle <= 0 {
		cfg.MaxIdle = 512
	}
	if cfg.IdleTTL <= 0 {
		cfg.IdleTTL = 10 * time.Minute
	}
	if cfg.SpareRuntimes == 0 {
		cfg.SpareRuntimes = 1
	}
	setRegexpTimeout.Do(func() { regexp2.DefaultMatchTimeout = regexpTimeout })
	prelude, err := goja.Compile("prelude.js", preludeSource, true)
	if err != nil {
		return nil, fmt.Errorf("compiling prelude: %w", err)
	}
	harden, err := goja.Compile("harden.js", hardenSource, true)
	if err != nil {
		return nil, fmt.Errorf("compiling harden: %w", err)
	}
	log := cfg.Logger.With("component", "runtime")
	outbound := cfg.Outbound.withDefaults()
	return &Engine{
		outbound: outbound,
		client:   newOutboundClient(outbound),
		bindings: cfg.Bindings,
		log:      log,
		limits:   withDefaults(cfg.Limits, limits.Defaults),
		prelude:  prelude,
		harden:   harden,
		programs: newProgramCache(),
		pool:     newPool(cfg.PoolSize, cfg.MaxIdle, cfg.IdleTTL),
		watch:    newWatchdog(log, cfg.HeapCap),
		spare:    make(chan *instance, max(cfg.SpareRuntimes, 0)),
	}, nil
}

// withDefaults fills l's zero fields from d.
func withDefaults(l, d limits.Limits) limits.Limits {
	pick := func(v, def int64) int64 {
		if v > 0 {
			return v
		}
		return def
	}
	return limits.Limits{
		WallTimeMS:        pick(l.WallTimeMS, d.WallTimeMS),
		CPUTimeMS:         pick(l.CPUTimeMS, d.CPUTimeMS),
		CallDepth:         pick(l.CallDepth, d.CallDepth),
		RequestBodyBytes:  pick(l.RequestBodyBytes, d.RequestBodyBytes),
		ResponseBodyBytes: pick(l.ResponseBodyBytes, d.ResponseBodyBytes),
		Subrequests:       pick(l.Subrequests, d.Subrequests),
		LogLines:          pick(l.LogLines, d.LogLines),
		MemoryBytes:       pick(l.MemoryBytes, d.MemoryBytes),
	}
}

// Compile checks source and returns the code to store for it.
func (e *Engine) Compile(ctx context.Context, source, language string) (string, error) {
	return Transform(ctx, source, language)
}

// IdleRuntimes is the number of pooled runtimes, for metrics and tests.
func (e *Engine) IdleRuntimes() int { return e.pool.size() }

// instance is a runtime with one script version loaded. It is used by one
// execution at a time.
type instance struct {
	key     string
	vm      *goja.Runtime
	hooks   *goja.Object
	handler *goja.Object
	fetch   goja.Value // the handler's fetch function
	loop    *eventLoop
	exec    *execution // the execution currently using the instance

	// The prelude's hooks (js/prelude.js), looked up once.
	begin, newReq, unwrap, waitAll, reset, nextChunk, cancelStream goja.Callable
	// out is what unwrapResponse handed over through native.setResponse.
	out responseParts
	// lastURL was last parsed to lastHref (checkRequest).
	lastURL, lastHref string
	// loading bounds the module's evaluation (load).
	loading *execution

	elem      *list.Element // in the pool's LRU while idle
	idleSince time.Time
}

func (in *instance) discard() { in.loop.close() }

// guarded is the execution the allocation guards answer to: the running
// one, or the one whose request is loading the module.
func (in *instance) guarded() *execution {
	if x := in.exec; x != nil {
		return x
	}
	return in.loading
}

// maxLogMessage bounds one console line; longer ones are cut.
const maxLogMessage = 16 << 10

// execution is the per-request state the natives and the watchdog see.
type execution struct {
	in      *instance
	ctx     context.Context
	logs    []LogLine
	dropped int
	limits  limits.Limits
	// subrequests counts fetch() calls; unhandled holds rejected promises
	// without a handler yet.
	subrequests int64
	unhandled   map[*goja.Promise]struct{}
	// waited is set by ctx.waitUntil: there is work after the response.
	waited bool
	// coldStart means a runtime was built for it: the next spare is
	// built once it is over, not competing with it.
	coldStart bool
	// poisoned means goja panicked out of JS (a hostile value's getter):
	// the runtime must not be reused.
	poisoned bool

	deadline   atomic.Int64 // watchdog clock, ns
	sliceStart atomic.Int64 // watchdog clock when the running JS slice began; 0 outside JS
	cpuUsed    atomic.Int64 // ns of JS run so far, finished slices
	heapStart  *heapSample
	started    int64 // watchdog clock when it was registered
	overTicks  int   // consecutive watchdog checks it was over its memory limit (watchdog goroutine only)
	clock      func() int64

	mu     sync.Mutex
	killed error         // why the watchdog or a guard stopped it
	kill   chan struct{} // closed when killed
}

// enter and exit bracket every call into JS so the watchdog can bound
// synchronous run time.
func (x *execution) enter() { x.sliceStart.Store(max(x.clock(), 1)) }
func (x *execution) exit() {
	if s := x.sliceStart.Swap(0); s != 0 {
		x.cpuUsed.Add(x.clock() - s)
	}
}
func (x *execution) inJS() bool { return x.sliceStart.Load() != 0 }

// cpuAt is the JS run time at clock value now.
func (x *execution) cpuAt(now int64) int64 {
	used := x.cpuUsed.Load()
	if s := x.sliceStart.Load(); s != 0 {
		used += now - s
	}
	return used
}

// stop ends the execution with err: JS is interrupted at its next step
// and the event loop stops waiting.
func (x *execution) stop(err error) {
	x.mu.Lock()
	defer x.mu.Unlock()
	if x.killed != nil {
		return
	}
	x.killed = err
	close(x.kill)
	if x.in != nil {
		x.in.vm.Interrupt(err)
	}
}

// attach gives x the runtime it runs in, so that a stop interrupts it;
// a stop that came first interrupts it now.
func (x *execution) attach(in *instance) {
	x.mu.Lock()
	defer x.mu.Unlock()
	x.in = in
	if x.killed != nil {
		in.vm.Interrupt(x.killed)
	}
}

// detach ends x's hold on its runtime, so that a late stop (the watchdog
// may act on a snapshot taken before x finished) cannot interrupt the
// runtime once it is back in the pool. It returns why x was stopped, if
// it was.
func (x *execution) detach() error {
	x.mu.Lock()
	defer x.mu.Unlock()
	x.in = nil
	return x.killed
}

func (x *execution) stopErr() error {
	x.mu.Lock()
	defer x.mu.Unlock()
	return x.killed
}

// Subrequest counts one outgoing request of the current execution and
// fails once the subrequests limit is used up; fetch implementations call
// it before each request.
func (x *execution) Subrequest() error {
	x.subrequests++
	if x.subrequests > x.limits.Subrequests {
		return &LimitError{Limit: "subrequests", Value: x.limits.Subrequests}
	}
	return nil
}

func poolKey(s *Script) string { return s.ID + "@" + strconv.Itoa(s.Version) }

// acquire returns a runtime with s loaded; x bounds the evaluation of
// the module when a new one is built.
func (e *Engine) acquire(s *Script, x *execution) (*instance, error) {
	key := poolKey(s)
	if in := e.pool.get(key); in != nil {
		return in, nil
	}
	in, err := e.newInstance(s, x)
	if err != nil {
		return nil, err
	}
	in.key = key
	return in, nil
}

func (e *Engine) newInstance(s *Script, x *execution) (*instance, error) {
	prog, err := e.programs.get(s)
	if err != nil {
		return nil, err
	}
	in := e.takeSpare()
	if in == nil {
		if in, err = e.newBlank(); err != nil {
			return nil, err
		}
	}
	x.coldStart = true
	return e.load(in, prog, x)
}

// takeSpare returns the blank runtime built ahead, if one is ready.
func (e *Engine) takeSpare() *instance {
	select {
	case in := <-e.spare:
		return in
	default:
		return nil
	}
}

// refillSpare builds the next blank runtime in the background when no
// execution runs, unless one is ready or being built. Building one (prelude, allocation guards,
// freezing the intrinsics) is most of a cold start; done ahead, a new
// script's first request only runs its module.
func (e *Engine) refillSpare() {
	if cap(e.spare) == 0 || len(e.spare) == cap(e.spare) || !e.building.CompareAndSwap(false, true) {
		return
	}
	go func() {
		defer e.building.Store(false)
		// Spare work is for idle time: wait for a moment without
		// executions (they must not compete with it), and give up after
		// a while on a busy node; the next cold start tries again.
		for i := 0; e.watch.busy(); i++ {
			if i == 200 {
				return
			}
			time.Sleep(5 * time.Millisecond)
		}
		in, err := e.newBlank()
		if err != nil {
			e.log.Error("building a spare runtime", "err", err)
			return
		}
		select {
		case e.spare <- in:
		default:
			in.discard()
		}
	}()
}

// newBlank builds a hardened runtime with the prelude and no script: no
// script code has run in it, so any script may take it.
func (e *Engine) newBlank() (*instance, error) {
	e.created.Add(1)
	vm := goja.New()
	in := &instance{vm: vm}
	in.loop = newEventLoop(vm, in)
	in.loop.install(vm.GlobalObject()) // before the prelude, which wraps the timers

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
	for name, fn := range map[string]*goja.Callable{"begin": &in.begin, "newRequest": &in.newReq,
		"unwrapResponse": &in.unwrap, "waitAll": &in.waitAll, "reset": &in.reset,
		"nextChunk": &in.nextChunk, "cancelStream": &in.cancelStream} {
		var ok bool
		if *fn, ok = goja.AssertFunction(in.hooks.Get(name)); !ok {
			return nil, fmt.Errorf("running prelude: no %s hook", name)
		}
	}
	if e.uncontained {
		installJSONParse(vm)
		installJSONStringify(vm)
		return in, nil
	}
	if err := e.hardenRuntime(in); err != nil {
		return nil, err
	}
	return in, nil
}

// load evaluates a script's module in a blank runtime. The module's
// top-level code runs under x's wall, CPU, call-depth and memory limits
// (the watchdog sees it as x), but not as an execution: as in Workers,
// it gets no request context (console output and fetch are refused).
func (e *Engine) load(in *instance, prog *goja.Program, x *execution) (_ *instance, err error) {
	vm := in.vm
	x.attach(in)
	vm.SetMaxCallStackSize(int(x.limits.CallDepth))
	in.loading = x
	x.enter()
	defer func() {
		x.exit()
		in.loading = nil
		if err != nil || x.stopErr() != nil {
			if k := x.detach(); k != nil {
				err = k // the watchdog's reason beats the interrupt it caused
			}
			in.discard()
		}
	}()
	wrapper, err := vm.RunProgram(prog)
	if err != nil {
		return nil, fmt.Errorf("%w: loading module: %v", ErrScript, err)
	}
	wrapFn, _ := goja.AssertFunction(wrapper)
	module := vm.NewObject()
	exports := vm.NewObject()
	_ = module.Set("exports", exports)
	if _, err := wrapFn(goja.Undefined(), module, exports); err != nil {
		if so := (*goja.StackOverflowError)(nil); errors.As(err, &so) {
			return nil, &LimitError{Limit: "call_depth", Value: x.limits.CallDepth}
		}
		return nil, fmt.Errorf("%w: evaluating module: %v", ErrScript, err)
	}
	def := module.Get("exports").ToObject(vm).Get("default")
	if def == nil || goja.IsUndefined(def) || goja.IsNull(def) {
		return nil, fmt.Errorf("%w: the module has no default export (export default { fetch(request, env, ctx) { ... } })", ErrScript)
	}
	in.handler = def.ToObject(vm)
	// A module may handle requests, cron ticks or both (as in Workers);
	// the missing one fails when invoked.
	fetch := in.handler.Get("fetch")
	_, hasFetch := goja.AssertFunction(fetch)
	if _, hasScheduled := goja.AssertFunction(in.handler.Get("scheduled")); !hasFetch && !hasScheduled {
		return nil, fmt.Errorf("%w: the default export has neither a fetch nor a scheduled handler", ErrScript)
	}
	if hasFetch {
		in.fetch = fetch
	}
	return in, nil
}

// hardenRuntime installs allocation guards and freezes the intrinsics
// (js/harden.js).
func (e *Engine) hardenRuntime(in *instance) error {
	vm := in.vm
	g := vm.NewObject()
	// The guards run on many allocations: no reflection (goja.FunctionCall).
	_ = g.Set("limit", func(goja.FunctionCall) goja.Value {
		if x := in.guarded(); x != nil {
			return vm.ToValue(x.limits.MemoryBytes)
		}
		return vm.ToValue(e.limits.MemoryBytes)
	})
	_ = g.Set("hit", func(call goja.FunctionCall) goja.Value {
		if x := in.guarded(); x != nil {
			x.stop(&LimitError{Limit: "memory_bytes", Value: x.limits.MemoryBytes,
				Detail: fmt.Sprintf("%s would allocate about %.0f bytes", call.Argument(0).String(), call.Argument(1).ToFloat())})
		}
		return goja.Undefined()
	})
	installJSONParse(vm)
	installJSONStringify(vm)
	fn, err := vm.RunProgram(e.harden)
	if err != nil {
		return fmt.Errorf("running harden: %w", err)
	}
	hardenFn, _ := goja.AssertFunction(fn)
	if _, err := hardenFn(goja.Undefined(), vm.GlobalObject(), g); err != nil {
		return fmt.Errorf("running harden: %w", err)
	}
	return nil
}

func (e *Engine) natives(in *instance) *goja.Object {
	vm := in.vm
	n := vm.NewObject()
	// Every console call lands here: no reflection (goja.FunctionCall).
	_ = n.Set("log", func(call goja.FunctionCall) goja.Value {
		if x := in.exec; x != nil {
			x.addLog(call.Argument(0).String(), call.Argument(1).String())
		}
		return goja.Undefined()
	})
	e.installWeb(in, n)
	responseNatives(in, n)
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
// to w.
func (e *Engine) Execute(ctx context.Context, req *ExecRequest, w http.ResponseWriter) (res ExecResult, err error) {
	start := time.Now()
	lim := withDefaults(req.Script.Limits, e.limits)
	if int64(len(req.Body)) > lim.RequestBodyBytes {
		err = &LimitError{Limit: "request_body_bytes", Value: lim.RequestBodyBytes, Detail: fmt.Sprintf("the body has %d bytes", len(req.Body))}
		return e.failed(ExecResult{}, start, OutcomeLimit, err), err
	}
	return e.invoke(ctx, &req.Script, lim, req.RequestID, start, func(ctx context.Context, in *instance, x *execution, res *ExecResult) error {
		status, err := e.run(ctx, in, x, req, w)
		res.Status = status
		res.Wrote = status != 0
		return err
	})
}

// invoke runs body in a runtime of s under lim: what every invocation of
// a script (a request, a cron tick) shares. The execution is registered
// with the watchdog before a cold start evaluates the module; the runtime
// goes back to the pool only if nothing stopped or poisoned it.
func (e *Engine) invoke(ctx context.Context, s *Script, lim limits.Limits, requestID string, start time.Time,
	body func(context.Context, *instance, *execution, *ExecResult) error) (res ExecResult, err error) {
	res.Outcome = OutcomeSuccess
	// Work the execution started (fetches, binding calls) ends with it.
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	x := &execution{ctx: ctx, limits: lim, clock: e.watch.now, kill: make(chan struct{})}
	x.deadline.Store(e.watch.now() + lim.WallTime().Nanoseconds())
	if !e.uncontained {
		e.watch.add(x)
	}
	defer func() {
		if x.coldStart {
			e.refillSpare()
		}
	}()
	in, err := e.acquire(s, x)
	if err != nil {
		e.unwatch(x)
		outcome := OutcomeError
		var le *LimitError
		switch {
		case errors.As(err, &le):
			outcome = OutcomeLimit
			if errors.Is(err, ErrTimeout) {
				outcome = OutcomeTimeout
			}
			e.log.Warn("script stopped by a limit", "script_id", s.ID, "version", s.Version,
				"request_id", requestID, "limit", le.Limit, "err", err)
		case errors.Is(err, ErrScript):
			e.log.Warn("script failed to load", "script_id", s.ID, "err", err)
		}
		return e.failed(res, start, outcome, err), err
	}
	x.attach(in)
	e.busy.Add(1)
	defer e.busy.Add(-1)
	// The handler gets its whole wall time whatever a cold start took.
	x.deadline.Store(e.watch.now() + lim.WallTime().Nanoseconds())
	in.exec = x
	in.vm.SetMaxCallStackSize(int(lim.CallDepth))
	timers := in.loop.nextID
	defer func() {
		e.unwatch(x)
		in.exec = nil
		in.loop.reset()
		in.out = responseParts{}
		// The prelude keeps waitUntil promises and intervals: clear them
		// if this execution made any.
		if x.waited || in.loop.nextID != timers {
			_, _ = in.reset(goja.Undefined())
		}
		// A stopped runtime may be mid-way through anything: never reuse it.
		if killed := x.detach(); err == nil && killed == nil && !x.poisoned {
			in.vm.ClearInterrupt()
			e.pool.put(in, time.Now())
		} else {
			in.discard()
		}
		if x.dropped > 0 {
			msg := fmt.Sprintf("limit log_lines=%d reached: %d more lines dropped", lim.LogLines, x.dropped)
			x.logs = append(x.logs, LogLine{Time: time.Now().UTC(), Level: "warn", Message: msg})
			e.log.Warn("script hit a limit", "script_id", s.ID, "version", s.Version,
				"request_id", requestID, "limit", "log_lines", "err", msg)
		}
		res.Logs = x.logs
		res.Duration = time.Since(start)
	}()

	if err = body(ctx, in, x, &res); err != nil {
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
		// Limits are the operator's business too, not only the script
		// owner's: say which one was hit in the node's log.
		var le *LimitError
		if errors.As(err, &le) {
			e.log.Warn("script stopped by a limit", "script_id", s.ID, "version", s.Version,
				"request_id", requestID, "limit", le.Limit, "err", err)
		}
		x.logs = append(x.logs, LogLine{Time: time.Now().UTC(), Level: "error", Message: err.Error()})
	}
	return res, err
}

func (e *Engine) failed(res ExecResult, start time.Time, o Outcome, err error) ExecResult {
	res.Outcome = o
	res.Duration = time.Since(start)
	res.Logs = []LogLine{{Time: time.Now().UTC(), Level: "error", Message: err.Error()}}
	return res
}

// call runs fn as one slice of synchronous JS.
func call(x *execution, fn goja.Callable, this goja.Value, args ...goja.Value) (goja.Value, error) {
	x.enter()
	defer x.exit()
	return fn(this, args...)
}

func (e *Engine) run(ctx context.Context, in *instance, x *execution, req *ExecRequest, w http.ResponseWriter) (int, error) {
	vm := in.vm
	var body goja.Value = goja.Null()
	if len(req.Body) > 0 {
		// The runtime's own copy: a script may keep and change it.
		body = vm.ToValue(vm.NewArrayBuffer(append([]byte(nil), req.Body...)))
	}
	href, method, pairs, ok := checkRequest(in, req)
	var request goja.Value = goja.Null()
	if !ok {
		// Something new Request would refuse or change: let it say what.
		raw := make([]any, 0, 2*len(req.Header))
		for k, vs := range req.Header {
			for _, v := range vs {
				raw = append(raw, k, v)
			}
		}
		var err error
		request, err = call(x, in.newReq, goja.Undefined(), vm.ToValue(req.URL), vm.ToValue(req.Method), vm.ToValue(raw), body)
		if err != nil {
			return 0, scriptError(err)
		}
	}
	env, err := e.buildEnv(ctx, in, req)
	if err != nil {
		return 0, err
	}
	params := vm.NewObject()
	for k, v := range req.Params {
		_ = params.Set(k, v)
	}
	if req.Method == http.MethodGet || req.Method == http.MethodHead {
		body = goja.Null() // as new Request would have it (checkRequest)
	}
	if in.fetch == nil {
		return 0, fmt.Errorf("%w: %w", ErrScript, ErrNoFetch)
	}
	ret, err := call(x, in.begin, goja.Undefined(), in.fetch, in.handler, env, params,
		vm.ToValue(req.RequestID), vm.ToValue(req.ExecutionID), request,
		vm.ToValue(href), vm.ToValue(method), pairs, body)
	defer e.logUnhandled(in, ret)
	if err != nil {
		return 0, scriptError(err)
	}
	result, err := in.loop.await(ctx, x, ret)
	if err != nil {
		return 0, err
	}
	status, err := e.respond(ctx, in, req, w, result)
	if err != nil {
		return status, err
	}
	return status, e.afterResponse(ctx, in)
}

func scriptError(err error) error {
	var so *goja.StackOverflowError
	if errors.As(err, &so) {
		return so
	}
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

// unwatch ends the watchdog's view of x.
func (e *Engine) unwatch(x *execution) {
	if !e.uncontained {
		e.watch.remove(x)
	}
}
