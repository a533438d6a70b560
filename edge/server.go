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
	"strconv"
	"strings"
	"sync"

	"github.com/caddyserver/caddy/v2"

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
	// Bind is the HTTP listen address, e.g. 127.0.0.1:8080.
	Bind string
	// StorageDir holds Caddy's certificates and locks.
	StorageDir string
	Admin      http.Handler // served under /api/v1/admin/
	Executor   Executor
	Catalog    Catalog
	Recorder   ExecutionRecorder // optional
	Version    Version
	Logger     *slog.Logger
	// MaxConcurrent bounds simultaneous executions; overflow is 503.
	MaxConcurrent int
	// MaxRequestBody bounds a request body handed to a script.
	MaxRequestBody int64
}

// Server is the node's HTTP front door.
type Server struct {
	cfg  Config
	log  *slog.Logger
	key  string
	gate chan struct{}

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
	b := make([]byte, 8)
	_, _ = rand.Read(b)
	return &Server{
		cfg:      cfg,
		log:      cfg.Logger.With("component", "edge"),
		key:      hex.EncodeToString(b),
		gate:     make(chan struct{}, cfg.MaxConcurrent),
		scripts:  make(map[string]runtime.Script),
		versionJ: append(vj, '\n'),
	}, nil
}

// Start loads the Caddy config that serves s. It returns once listening.
func (s *Server) Start() error {
	servers.Store(s.key, s)
	cfg, err := caddyConfig(s.key, s.cfg.Bind, s.cfg.StorageDir)
	if err != nil {
		return err
	}
	if err := caddy.Load(cfg, true); err != nil {
		servers.Delete(s.key)
		return fmt.Errorf("starting http server on %s: %w", s.cfg.Bind, err)
	}
	s.log.Info("serving http", "bind", s.cfg.Bind)
	return nil
}

// Stop stops serving: Caddy lets in-flight requests finish within its grace
// period.
func (s *Server) Stop() error {
	defer servers.Delete(s.key)
	if err := caddy.Stop(); err != nil {
		return fmt.Errorf("stopping http server: %w", err)
	}
	return nil
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
}

// ServeHTTP dispatches one request.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	reqID := r.Header.Get("X-Request-Id")
	if reqID == "" || len(reqID) > 128 {
		reqID = newID()
	}
	w.Header().Set("X-Request-Id", reqID)
	p := r.URL.Path
	switch {
	case p == "/healthz":
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		_, _ = io.WriteString(w, "ok")
	case p == "/version":
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write(s.versionJ)
	case p == "/api/v1/admin" || strings.HasPrefix(p, "/api/v1/admin/"):
		s.cfg.Admin.ServeHTTP(w, r)
	case strings.HasPrefix(p, "/api/v1/execute/"):
		s.serveExecute(w, r, reqID, strings.TrimPrefix(p, "/api/v1/execute/"))
	case route.IsReserved(p):
		writeError(w, http.StatusNotFound, "not_found", "no such endpoint: "+p)
	default:
		s.serveRoute(w, r, reqID)
	}
}

func (s *Server) serveExecute(w http.ResponseWriter, r *http.Request, reqID, id string) {
	if id == "" || strings.Contains(id, "/") {
		writeError(w, http.StatusNotFound, "script_not_found", "no script with id "+strconv.Quote(id))
		return
	}
	s.execute(w, r, reqID, id, nil)
}

func (s *Server) serveRoute(w http.ResponseWriter, r *http.Request, reqID string) {
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
	s.execute(w, r, reqID, m.Route.Target, params)
}

func (s *Server) execute(w http.ResponseWriter, r *http.Request, reqID, scriptID string, params map[string]string) {
	script, err := s.script(r.Context(), scriptID)
	if errors.Is(err, ErrScriptNotFound) {
		writeError(w, http.StatusNotFound, "script_not_found", "no script with id "+strconv.Quote(scriptID))
		return
	}
	if err != nil {
		s.log.Error("loading script", "script_id", scriptID, "err", err)
		writeError(w, http.StatusServiceUnavailable, "script_unavailable", "the script cannot be loaded right now")
		return
	}
	// Read the body before taking a slot so slow clients cannot hold one.
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, s.cfg.MaxRequestBody))
	if err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			writeError(w, http.StatusRequestEntityTooLarge, "body_too_large", fmt.Sprintf("request body exceeds %d bytes", s.cfg.MaxRequestBody))
			return
		}
		writeError(w, http.StatusBadRequest, "bad_body", "reading request body failed")
		return
	}
	select {
	case s.gate <- struct{}{}:
		defer func() { <-s.gate }()
	default:
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
		return sc, nil
	}
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
