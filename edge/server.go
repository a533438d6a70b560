package edge

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/caddyserver/caddy/v2"
	"github.com/caddyserver/certmagic"

	"github.com/picloud/picloud/internal/route"
	"github.com/picloud/picloud/runtime"
)

// Executor runs a script for one request and writes its response.
type Executor interface {
	Execute(ctx context.Context, req *runtime.ExecRequest, w http.ResponseWriter) (runtime.ExecResult, error)
}

// ErrScriptNotFound is what a Catalog returns for an unknown script id.
var ErrScriptNotFound = errors.New("script not found")

// Catalog is the edge's read-only view of the control plane.
type Catalog interface {
	// Script returns the current version of a script, or ErrScriptNotFound.
	Script(ctx context.Context, id string) (runtime.Script, error)
	// Routing returns every domain claim and every app's routes.
	Routing(ctx context.Context) (Routing, error)
}

// Routing is the input of dispatch: domain claims, and routes by app id
// (each route's Target is a script id).
type Routing struct {
	Claims []route.Claim
	Routes map[string][]route.Route
}

// ExecutionRecorder receives every finished execution, e.g. to store its
// logs. It must not block.
type ExecutionRecorder interface {
	RecordExecution(ctx context.Context, rec ExecutionRecord)
}

// ExecutionRecord describes one execution for logs and metrics.
type ExecutionRecord struct {
	ExecutionID string
	RequestID   string
	AppID       string
	ScriptID    string
	Version     int
	Method      string
	Path        string
	Result      runtime.ExecResult
	Err         error
}

// Version is what /version reports.
type Version struct {
	Product       string `json:"product"`
	SDK           string `json:"sdk"`
	API           int    `json:"api"`
	Schema        int    `json:"schema"`
	Wire          int    `json:"wire"`
	PublicBaseURL string `json:"public_base_url"`
}

// Config configures a Server.
type Config struct {
	// Dashboard, if set, serves /admin and everything under /admin/ that
	// the edge does not serve itself.
	Dashboard http.Handler
	// Bind is the HTTP listen address, e.g. 127.0.0.1:8080.
	Bind string
	// StorageDir holds Caddy's certificates and locks when CertStore is
	// nil (tests, single-process use without a cluster).
	StorageDir string
	// CertStore, when set, is Caddy's storage: the PiCloud CA, certificates
	// and locks shared by every node of the cluster.
	CertStore KVStore
	Admin     http.Handler // served under /api/v1/admin/
	Executor  Executor
	Catalog   Catalog
	Recorder  ExecutionRecorder // optional
	Version   Version
	Logger    *slog.Logger
	// MaxConcurrent bounds simultaneous executions; overflow is 503.
	MaxConcurrent int
	// MaxRequestBody bounds a request body handed to a script.
	MaxRequestBody int64
	// RuntimeStats and DatabaseStats feed /metrics; both optional.
	RuntimeStats  RuntimeStats
	DatabaseStats DatabaseStats
	// AccessLog, when set, receives one line per request; nil uses Logger.
	AccessLog *slog.Logger
	// TLS turns HTTPS on; nil serves plain HTTP on Bind.
	TLS *TLSConfig
	// ShutdownGrace bounds how long Stop waits for in-flight requests
	// (default 10s).
	ShutdownGrace time.Duration
	// BodyReadTimeout bounds reading a request (headers and body), so slow
	// clients cannot hold a connection or a slot (default 30s).
	BodyReadTimeout time.Duration
}

// Server is the node's HTTP front door.
type Server struct {
	cfg     Config
	log     *slog.Logger
	access  *slog.Logger
	key     string
	gate    chan struct{}
	metrics *metrics
	storage certmagic.Storage

	// inflight counts requests being served; Stop waits for it to reach
	// zero, then cancels what remains through stopCtx.
	inflight   atomic.Int64
	stopCtx    context.Context
	stopCancel context.CancelFunc

	loadMu    sync.Mutex // serializes Caddy config loads
	acmeNames []string   // public names in the loaded config

	mu       sync.Mutex
	routing  *dispatchTable
	scripts  map[string]runtime.Script
	versionJ []byte
}

// dispatchTable is Routing compiled for matching.
type dispatchTable struct {
	domains *route.DomainTable
	apps    map[string]*route.Table
}

// New validates cfg and returns a Server; Start serves it.
func New(cfg Config) (*Server, error) {
	if cfg.Executor == nil || cfg.Catalog == nil || cfg.Admin == nil {
		return nil, errors.New("edge: executor, catalog and admin handler are required")
	}
	if cfg.Bind == "" {
		return nil, errors.New("edge: a bind address is required")
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.MaxConcurrent <= 0 {
		cfg.MaxConcurrent = 32
	}
	if cfg.MaxRequestBody <= 0 {
		cfg.MaxRequestBody = 10 << 20
	}
	vj, err := json.Marshal(cfg.Version)
	if err != nil {
		return nil, err
	}
	if cfg.ShutdownGrace <= 0 {
		cfg.ShutdownGrace = 10 * time.Second
	}
	if cfg.BodyReadTimeout <= 0 {
		cfg.BodyReadTimeout = 30 * time.Second
	}
	if cfg.TLS != nil && cfg.TLS.HTTPSBind == "" {
		return nil, errors.New("edge: TLS needs an HTTPS bind address")
	}
	if cfg.AccessLog == nil {
		cfg.AccessLog = cfg.Logger
	}
	b := make([]byte, 8)
	_, _ = rand.Read(b)
	s := &Server{
		cfg:      cfg,
		log:      cfg.Logger.With("component", "edge"),
		access:   cfg.AccessLog.With("component", "access"),
		key:      hex.EncodeToString(b),
		gate:     make(chan struct{}, cfg.MaxConcurrent),
		scripts:  make(map[string]runtime.Script),
		versionJ: append(vj, '\n'),
	}
	s.stopCtx, s.stopCancel = context.WithCancel(context.Background())
	s.metrics = newMetrics(s)
	if cfg.CertStore != nil {
		s.storage = &kvStorage{kv: cfg.CertStore}
	} else {
		s.storage = &certmagic.FileStorage{Path: cfg.StorageDir}
	}
	return s, nil
}

// Start loads the Caddy config that serves s. It returns once listening.
func (s *Server) Start() error {
	servers.Store(s.key, s)
	if err := s.load(context.Background()); err != nil {
		servers.Delete(s.key)
		return err
	}
	if s.cfg.TLS != nil {
		s.log.Info("serving https", "bind", s.cfg.TLS.HTTPSBind, "redirect_from", s.cfg.Bind,
			"lan_names", s.cfg.TLS.LANNames, "acme", s.cfg.TLS.ACME.Enabled)
	} else {
		s.log.Info("serving http", "bind", s.cfg.Bind)
	}
	return nil
}

// load generates and loads the Caddy config. The first node to start with
// HTTPS creates the PiCloud CA; the cluster-wide lock makes the others wait
// and load that same root from the store.
func (s *Server) load(ctx context.Context) error {
	s.loadMu.Lock()
	defer s.loadMu.Unlock()
	p := configParams{instance: s.key, httpBind: s.cfg.Bind, grace: s.cfg.ShutdownGrace,
		bodyRead: s.cfg.BodyReadTimeout, tls: s.cfg.TLS}
	if s.cfg.CertStore != nil {
		p.storage = map[string]any{"module": "picloud", "instance": s.key}
	} else {
		p.storage = map[string]any{"module": "file_system", "root": s.cfg.StorageDir}
	}
	if s.cfg.TLS != nil && s.cfg.TLS.ACME.Enabled {
		t, err := s.dispatch(ctx)
		if err != nil {
			return fmt.Errorf("loading domain claims: %w", err)
		}
		p.acmeNames = acmeNames(t.domains.Claims())
	}
	cfg, err := caddyConfig(p)
	if err != nil {
		return err
	}
	if s.cfg.TLS != nil {
		if err := s.storage.Lock(ctx, "picloud_ca_init"); err != nil {
			return fmt.Errorf("locking the CA: %w", err)
		}
		defer func() {
			if err := s.storage.Unlock(context.WithoutCancel(ctx), "picloud_ca_init"); err != nil {
				s.log.Warn("unlocking the CA", "err", err)
			}
		}()
	}
	if err := caddy.Load(cfg, true); err != nil {
		return fmt.Errorf("starting http server on %s: %w", s.cfg.Bind, err)
	}
	s.acmeNames = p.acmeNames
	return nil
}

// reloadIfNeeded reloads Caddy when the set of public names for ACME
// changed; every other claimed host is served on demand without a reload.
func (s *Server) reloadIfNeeded() {
	if s.cfg.TLS == nil || !s.cfg.TLS.ACME.Enabled || s.stopCtx.Err() != nil {
		return
	}
	ctx := context.Background()
	t, err := s.dispatch(ctx)
	if err != nil {
		s.log.Warn("loading domain claims for acme", "err", err)
		return
	}
	s.loadMu.Lock()
	same := slices.Equal(acmeNames(t.domains.Claims()), s.acmeNames)
	s.loadMu.Unlock()
	if same || s.stopCtx.Err() != nil {
		return
	}
	if err := s.load(ctx); err != nil {
		s.log.Error("reloading https config", "err", err)
		return
	}
	s.log.Info("reloaded https config", "acme_names", s.acmeNames)
}

// Stop stops serving: it stops accepting connections, lets in-flight
// requests finish for up to ShutdownGrace, then cancels the rest (their
// scripts see a canceled context) and returns once they have ended.
func (s *Server) Stop() error {
	defer servers.Delete(s.key)
	// Caddy closes the listeners and shuts the servers down in the
	// background; it does not wait for handlers unless the process exits.
	err := caddy.Stop()
	if err != nil {
		err = fmt.Errorf("stopping http server: %w", err)
	}
	deadline := time.Now().Add(s.cfg.ShutdownGrace)
	for s.inflight.Load() > 0 && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	if n := s.inflight.Load(); n > 0 {
		s.log.Warn("grace period over; canceling in-flight requests", "requests", n)
	}
	s.stopCancel()
	// Canceled scripts return promptly; do not hang on one that does not.
	deadline = time.Now().Add(5 * time.Second)
	for s.inflight.Load() > 0 && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	return err
}

// Invalidate drops cached scripts and routing after a control-plane change.
func (s *Server) Invalidate(what string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if id, ok := strings.CutPrefix(what, "script:"); ok {
		delete(s.scripts, id)
		return
	}
	s.routing = nil
	clear(s.scripts)
	go s.reloadIfNeeded()
}

// reqInfo is what dispatch learned about a request, for its access log
// line and metrics.
type reqInfo struct {
	id     string
	app    string
	script string
	route  string
}

// ServeHTTP dispatches one request.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	start := time.Now()
	reqID := r.Header.Get("X-Request-Id")
	if reqID == "" || len(reqID) > 128 || !printableASCII(reqID) {
		reqID = newID()
	}
	w.Header().Set("X-Request-Id", reqID)
	s.inflight.Add(1)
	defer s.inflight.Add(-1)
	// Requests end when the client goes away or when Stop's grace period
	// is over.
	ctx, cancel := context.WithCancel(r.Context())
	defer cancel()
	stop := context.AfterFunc(s.stopCtx, cancel)
	defer stop()
	r = r.WithContext(ctx)
	rw := &respWriter{ResponseWriter: w}
	info := &reqInfo{id: reqID}
	defer s.finish(rw, r, info, start)
	s.serve(rw, r, info)
}

func (s *Server) serve(w http.ResponseWriter, r *http.Request, info *reqInfo) {
	p := r.URL.Path
	switch {
	case p == "/healthz":
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		_, _ = io.WriteString(w, "ok")
	case p == "/version":
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write(s.versionJ)
	case p == "/admin/ca.crt":
		s.serveRootCert(w, r)
	case p == "/metrics":
		s.metrics.handler.ServeHTTP(w, r)
	case p == "/api/v1/admin" || strings.HasPrefix(p, "/api/v1/admin/"):
		s.cfg.Admin.ServeHTTP(w, r)
	case s.cfg.Dashboard != nil && (p == "/admin" || strings.HasPrefix(p, "/admin/")):
		s.cfg.Dashboard.ServeHTTP(w, r)
	case strings.HasPrefix(p, "/api/v1/execute/"):
		s.serveExecute(w, r, info, strings.TrimPrefix(p, "/api/v1/execute/"))
	case route.IsReserved(p):
		writeError(w, http.StatusNotFound, "not_found", "no such endpoint: "+p)
	default:
		s.serveRoute(w, r, info)
	}
}

// finish writes the access log line and the request metrics.
func (s *Server) finish(rw *respWriter, r *http.Request, info *reqInfo, start time.Time) {
	d := time.Since(start)
	status := rw.status
	if status == 0 {
		status = http.StatusOK
	}
	s.metrics.requests.WithLabelValues(info.app, info.script, info.route, statusClass(status)).Inc()
	s.metrics.latency.WithLabelValues(info.app, info.route).Observe(d.Seconds())
	s.access.LogAttrs(r.Context(), slog.LevelInfo, "request",
		slog.String("request_id", info.id),
		slog.String("method", r.Method),
		slog.String("host", r.Host),
		slog.String("path", r.URL.Path),
		slog.Int("status", status),
		slog.Int64("bytes", rw.bytes),
		slog.Duration("duration", d),
		slog.String("remote", r.RemoteAddr),
		slog.String("proto", r.Proto),
		slog.String("app_id", info.app),
		slog.String("script_id", info.script),
		slog.String("route_id", info.route),
	)
}

func (s *Server) serveExecute(w http.ResponseWriter, r *http.Request, info *reqInfo, id string) {
	if id == "" || strings.Contains(id, "/") {
		writeError(w, http.StatusNotFound, "script_not_found", "no script with id "+strconv.Quote(id))
		return
	}
	s.execute(w, r, info, id, nil)
}

func (s *Server) serveRoute(w http.ResponseWriter, r *http.Request, info *reqInfo) {
	t, err := s.dispatch(r.Context())
	if err != nil {
		s.log.Error("loading routes", "err", err)
		writeError(w, http.StatusServiceUnavailable, "routing_unavailable", "routes cannot be loaded right now")
		return
	}
	claim, hostParams, ok := t.domains.Match(r.Host)
	if !ok {
		writeError(w, http.StatusNotFound, "unknown_host", "no app claims the host "+strconv.Quote(route.NormalizeHost(r.Host)))
		return
	}
	info.app = claim.AppID
	rt := t.apps[claim.AppID]
	if rt == nil {
		writeError(w, http.StatusNotFound, "no_route", "no route matches "+r.Method+" "+r.URL.Path)
		return
	}
	m, ok := rt.Match(r.Method, r.Host, r.URL.EscapedPath())
	if !ok {
		writeError(w, http.StatusNotFound, "no_route", "no route matches "+r.Method+" "+r.URL.Path)
		return
	}
	info.route = m.Route.ID
	params := m.Params
	if len(hostParams) > 0 {
		params = make(map[string]string, len(m.Params)+len(hostParams))
		for k, v := range hostParams {
			params[k] = v
		}
		for k, v := range m.Params {
			params[k] = v
		}
	}
	s.execute(w, r, info, m.Route.Target, params)
}

func (s *Server) execute(w http.ResponseWriter, r *http.Request, info *reqInfo, scriptID string, params map[string]string) {
	reqID := info.id
	info.script = scriptID
	script, err := s.script(r.Context(), scriptID)
	if errors.Is(err, ErrScriptNotFound) {
		writeError(w, http.StatusNotFound, "script_not_found", "no script with id "+strconv.Quote(scriptID))
		return
	}
	if err == nil {
		info.app = script.AppID
	}
	if err != nil {
		s.log.Error("loading script", "script_id", scriptID, "err", err)
		writeError(w, http.StatusServiceUnavailable, "script_unavailable", "the script cannot be loaded right now")
		return
	}
	// Read the body before taking a slot so slow clients cannot hold one.
	maxBody := s.cfg.MaxRequestBody
	if l := script.Limits.RequestBodyBytes; l > 0 {
		maxBody = l // the script's request_body_bytes limit
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxBody))
	if err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			s.log.Warn("request body over limit", "request_id", reqID, "script_id", scriptID, "limit", "request_body_bytes", "value", maxBody)
			writeError(w, http.StatusRequestEntityTooLarge, "body_too_large", fmt.Sprintf("request body exceeds %d bytes", maxBody))
			return
		}
		writeError(w, http.StatusBadRequest, "bad_body", "reading request body failed")
		return
	}
	select {
	case s.gate <- struct{}{}:
		defer func() { <-s.gate }()
	default:
		s.metrics.rejections.Inc()
		w.Header().Set("Retry-After", "1")
		writeError(w, http.StatusServiceUnavailable, "overloaded", "too many concurrent executions; retry shortly")
		return
	}
	req := &runtime.ExecRequest{
		Script:      script,
		Method:      r.Method,
		URL:         requestURL(r),
		Header:      r.Header,
		Body:        body,
		Params:      params,
		RequestID:   reqID,
		ExecutionID: newID(),
	}
	res, err := s.cfg.Executor.Execute(r.Context(), req, w)
	outcome := res.Outcome
	if outcome == "" {
		outcome = runtime.OutcomeSuccess
		if err != nil {
			outcome = runtime.OutcomeError
		}
	}
	s.metrics.executions.WithLabelValues(string(outcome)).Inc()
	s.metrics.execTime.WithLabelValues(string(outcome)).Observe(res.Duration.Seconds())
	if err != nil && !res.Wrote {
		switch res.Outcome {
		case runtime.OutcomeTimeout:
			writeError(w, http.StatusGatewayTimeout, "script_timeout", "the script ran out of time")
		case runtime.OutcomeLimit:
			writeError(w, http.StatusInternalServerError, "script_limit", "the script exceeded a limit")
		default:
			writeError(w, http.StatusInternalServerError, "script_error", "the script failed; see its logs")
		}
	}
	s.record(r.Context(), ExecutionRecord{
		ExecutionID: req.ExecutionID, RequestID: reqID, AppID: script.AppID, ScriptID: script.ID,
		Version: script.Version, Method: r.Method, Path: r.URL.Path, Result: res, Err: err,
	})
}

func (s *Server) record(ctx context.Context, rec ExecutionRecord) {
	if s.cfg.Recorder != nil {
		s.cfg.Recorder.RecordExecution(ctx, rec)
		return
	}
	for _, l := range rec.Result.Logs {
		s.log.Info("script log", "request_id", rec.RequestID, "script_id", rec.ScriptID, "level", l.Level, "message", l.Message)
	}
	if rec.Err != nil {
		s.log.Warn("execution failed", "request_id", rec.RequestID, "script_id", rec.ScriptID,
			"outcome", rec.Result.Outcome, "err", rec.Err)
	}
}

func (s *Server) script(ctx context.Context, id string) (runtime.Script, error) {
	s.mu.Lock()
	sc, ok := s.scripts[id]
	s.mu.Unlock()
	if ok {
		s.metrics.cache.WithLabelValues("hit").Inc()
		return sc, nil
	}
	s.metrics.cache.WithLabelValues("miss").Inc()
	sc, err := s.cfg.Catalog.Script(ctx, id)
	if err != nil {
		return runtime.Script{}, err
	}
	s.mu.Lock()
	s.scripts[id] = sc
	s.mu.Unlock()
	return sc, nil
}

func (s *Server) dispatch(ctx context.Context) (*dispatchTable, error) {
	s.mu.Lock()
	t := s.routing
	s.mu.Unlock()
	if t != nil {
		return t, nil
	}
	rt, err := s.cfg.Catalog.Routing(ctx)
	if err != nil {
		return nil, err
	}
	s.metrics.rebuilds.Inc()
	t = &dispatchTable{apps: make(map[string]*route.Table, len(rt.Routes))}
	var errs []error
	t.domains, errs = route.BuildDomainTable(rt.Claims)
	for _, e := range errs {
		s.log.Warn("skipping invalid domain claim", "err", e)
	}
	for app, routes := range rt.Routes {
		t.apps[app], errs = route.BuildTable(routes)
		for _, e := range errs {
			s.log.Warn("skipping invalid route", "app_id", app, "err", e)
		}
	}
	s.mu.Lock()
	s.routing = t
	s.mu.Unlock()
	return t, nil
}

func requestURL(r *http.Request) string {
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	}
	return scheme + "://" + r.Host + r.URL.RequestURI()
}

// printableASCII keeps client-chosen request ids safe to log and echo.
func printableASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < 0x21 || s[i] > 0x7e {
			return false
		}
	}
	return true
}

func newID() string {
	b := make([]byte, 12)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// writeError answers with PiCloud's JSON error envelope.
func writeError(w http.ResponseWriter, status int, code, msg string) {
	h := w.Header()
	h.Set("Content-Type", "application/json")
	h.Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(map[string]any{"error": map[string]string{"code": code, "message": msg}})
}
