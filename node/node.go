package node

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"sync/atomic"
	"time"

	"github.com/picloud/picloud/dashboard"
	"github.com/picloud/picloud/edge"
	"github.com/picloud/picloud/internal/limits"
	"github.com/picloud/picloud/internal/pgserver"
	"github.com/picloud/picloud/internal/route"
	"github.com/picloud/picloud/manager"
	"github.com/picloud/picloud/runtime"
)

// Version of the product and of each compatibility surface.
const (
	ProductVersion = "0.1.0"
	SDKVersion     = "1.0"
	APIVersion     = 1
	WireVersion    = 1
)

// Run starts the node and serves until ctx ends, then stops everything it
// started, the managed Postgres last. Login instructions go to out.
func Run(ctx context.Context, cfg Config, log *slog.Logger, out io.Writer) (err error) {
	if err := cfg.Validate(); err != nil {
		return fmt.Errorf("invalid configuration:\n%w", err)
	}
	dataDir, err := cfg.absDataDir()
	if err != nil {
		return err
	}
	// 0711: a managed postgres running as another user must traverse it.
	if err := os.MkdirAll(dataDir, 0o711); err != nil {
		return fmt.Errorf("creating data directory: %w", err)
	}
	started := time.Now()
	if cfg.DebugBind != "" {
		stopDebug, err := serveDebug(ctx, cfg.DebugBind, log)
		if err != nil {
			return err
		}
		defer stopDebug()
	}

	dsn := cfg.DatabaseURL
	var pgDone <-chan struct{}
	if dsn == "" {
		pg, err := pgserver.New(pgserver.Config{
			DataDir: filepath.Join(dataDir, "postgres"),
			Logger:  log,
			RunAs:   cfg.PostgresUser,
		})
		if err != nil {
			return err
		}
		if err := pg.Start(ctx); err != nil {
			return fmt.Errorf("starting postgres: %w", err)
		}
		defer func() {
			stopCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
			defer cancel()
			if stopErr := pg.Stop(stopCtx); stopErr != nil {
				err = errors.Join(err, fmt.Errorf("stopping postgres: %w", stopErr))
			}
		}()
		dsn = pg.ConnString()
		pgDone = pg.Done()
	}

	secretKey, err := loadSecretKey(cfg.SecretKey, dataDir)
	if err != nil {
		return err
	}
	binds := &bindings{}
	// HeapCap: above this node heap the biggest-growing script is stopped
	// even within its own memory limit (sized for a 1 GB Pi).
	engine, err := runtime.New(runtime.Config{Logger: log, Bindings: binds, HeapCap: 512 << 20, MaxIdle: cfg.IdleRuntimes,
		Outbound: runtime.OutboundConfig{AllowPrivate: cfg.HTTPAllowPrivate}})
	if err != nil {
		return err
	}
	// The edge is made after the manager; nodeStats reads it once set.
	stats := &nodeStats{}
	mgr, err := manager.Open(ctx, manager.Config{DatabaseURL: dsn, Compiler: compiler{engine}, Logger: log, Logs: cfg.Logs, SecretKey: secretKey,
		SessionTTL: time.Duration(cfg.SessionTTLHours) * time.Hour, LimitCeilings: cfg.LimitCeilings, NodeStats: stats})
	if err != nil {
		return err
	}
	binds.mgr = mgr
	defer mgr.Close()
	if err := mgr.Seed(ctx); err != nil {
		return err
	}

	boot, err := mgr.EnsureAdmin(ctx, cfg.AdminUser, cfg.AdminPassword, cfg.Mode == ModeDev)
	if err != nil {
		return err
	}
	if boot.Password != "" {
		// Printed at once: a generated password must not be lost if the
		// start fails later.
		fmt.Fprintf(out, "Created the first admin: username %q, password %q (shown once; change it after logging in)\n", boot.Username, boot.Password)
	}
	// No admin and no password to make one: the first-run screen of the
	// dashboard creates the owner with a one-time setup token.
	setupToken, err := ensureSetupToken(ctx, mgr, dataDir, log, out, cfg.publicBaseURL())
	if err != nil {
		return err
	}

	// The execution log outlives the HTTP server (deferred stop runs after
	// srv.Stop) so executions finishing while it drains are kept.
	go mgr.RunExecutionLog(ctx)
	defer mgr.StopExecutionLog()

	// Cron triggers (docs/cron.md): every node claims due ticks, each
	// fires once per cluster. Stopped (its ticks finished) before the
	// execution log, which records them.
	cronCtx, stopCron := context.WithCancel(ctx)
	cronDone := make(chan struct{})
	go func() {
		defer close(cronDone)
		mgr.RunCron(cronCtx, manager.CronOptions{Fire: cronRunner{catalog: catalog{mgr: mgr, ceilings: cfg.LimitCeilings},
			engine: engine, mgr: mgr, log: log.With("component", "cron")}.fire})
	}()
	defer func() { stopCron(); <-cronDone }()

	// Expired KV keys are hidden from reads at once; this reclaims them.
	purgeCtx, stopPurge := context.WithCancel(ctx)
	defer stopPurge()
	go mgr.PurgeExpiredKVLoop(purgeCtx, time.Minute)

	srv, err := edge.New(edge.Config{
		Bind:          cfg.Bind,
		StorageDir:    filepath.Join(dataDir, "caddy"),
		CertStore:     mgr.CertStore(),
		TLS:           cfg.tlsConfig(),
		Admin:         mgr.Handler(),
		Dashboard:     dashboard.Handler(),
		Executor:      engine,
		Catalog:       catalog{mgr: mgr, ceilings: cfg.LimitCeilings},
		Recorder:      recorder{mgr},
		Logger:        log,
		MaxConcurrent: cfg.MaxConcurrent,
		DatabaseStats: dbStats{mgr},
		RuntimeStats:  runtimeStats{engine},
		Version: edge.Version{
			Product: ProductVersion, SDK: SDKVersion, API: APIVersion,
			Schema: manager.LatestSchema(), Wire: WireVersion, PublicBaseURL: cfg.publicBaseURL(),
		},
	})
	if err != nil {
		return err
	}
	stats.srv.Store(srv)
	watchCtx, stopWatch := context.WithCancel(ctx)
	defer stopWatch()
	go mgr.WatchChanges(watchCtx, srv.Invalidate)

	// Caddy's first Load is the last start-up step: it tells systemd READY.
	if err := srv.Start(); err != nil {
		return err
	}
	defer func() {
		if stopErr := srv.Stop(); stopErr != nil {
			err = errors.Join(err, stopErr)
		}
	}()
	base := cfg.publicBaseURL()
	log.Info("picloud is ready", "url", base, "startup", time.Since(started).Round(time.Millisecond))
	printWelcome(out, base, boot, setupToken)
	go watchdog(ctx, log, mgr.Ping)

	select {
	case <-ctx.Done():
		log.Info("shutting down")
		return nil
	case <-pgDone:
		return errors.New("the managed postgres exited unexpectedly")
	}
}

func printWelcome(out io.Writer, base string, boot manager.BootstrapResult, setupToken string) {
	fmt.Fprintf(out, "\nPiCloud is serving %s\n", base)
	fmt.Fprintf(out, "  try:    curl %s/\n", base)
	if setupToken != "" {
		fmt.Fprintf(out, "  setup:  open %s/admin/ and create the owner with the setup token %s\n", base, setupToken)
	} else if boot.Password != "" {
		fmt.Fprintf(out, "  login:  username %q with the password shown above\n", boot.Username)
	} else if boot.Created {
		fmt.Fprintf(out, "  login:  username %q with the password from PICLOUD_ADMIN_PASSWORD\n", boot.Username)
	}
	fmt.Fprintf(out, "  token:  curl -s -X POST %s/api/v1/admin/auth/login -H 'content-type: application/json' -d '{\"username\":\"...\",\"password\":\"...\"}'\n\n", base)
}

// compiler adapts the runtime to the manager's Compiler.
type compiler struct{ engine *runtime.Engine }

func (c compiler) Compile(ctx context.Context, source, language string) (string, error) {
	code, err := c.engine.Compile(ctx, source, language)
	var se *runtime.SyntaxError
	if errors.As(err, &se) {
		return "", &manager.CompileError{Line: se.Line, Column: se.Column, Message: se.Message}
	}
	return code, err
}

// catalog adapts the manager to the edge's Catalog.
type catalog struct {
	mgr      *manager.Manager
	ceilings limits.Limits
}

func (c catalog) Script(ctx context.Context, id string) (runtime.Script, error) {
	s, err := c.mgr.Script(ctx, id)
	if errors.Is(err, manager.ErrNotFound) {
		return runtime.Script{}, edge.ErrScriptNotFound
	}
	if err != nil {
		return runtime.Script{}, err
	}
	// Overrides were checked on deploy; ceilings lowered since clamp them.
	lim, err := limits.Resolve(limits.Defaults, s.Limits, c.ceilings)
	if err != nil {
		return runtime.Script{}, fmt.Errorf("script %s: %w", id, err)
	}
	return runtime.Script{ID: s.ID, AppID: s.AppID, Name: s.Name, Version: s.Version, Hash: s.Hash, Code: s.Code,
		Bindings: s.Bindings, Limits: lim}, nil
}

func (c catalog) Routing(ctx context.Context) (edge.Routing, error) {
	snap, err := c.mgr.Routing(ctx)
	if err != nil {
		return edge.Routing{}, err
	}
	r := edge.Routing{Routes: make(map[string][]route.Route)}
	for _, d := range snap.Domains {
		r.Claims = append(r.Claims, route.Claim{ID: d.ID, Pattern: d.Pattern, AppID: d.AppID})
	}
	for _, rt := range snap.Routes {
		r.Routes[rt.AppID] = append(r.Routes[rt.AppID], route.Route{ID: rt.ID, Method: rt.Method, Host: rt.Host, Path: rt.Path, Target: rt.ScriptID})
	}
	return r, nil
}

// runtimeStats adapts the runtime's pool to the edge's metrics.
type runtimeStats struct{ engine *runtime.Engine }

func (r runtimeStats) PoolStats() edge.PoolStats {
	e := r.engine
	return edge.PoolStats{Pools: e.PooledScripts(), Idle: e.IdleRuntimes(), Busy: e.BusyRuntimes(), Instances: int(e.RuntimesCreated())}
}

// nodeStats adapts the edge's snapshot (gate, counters, runtime pools) to
// the manager's GET /metrics.
type nodeStats struct{ srv atomic.Pointer[edge.Server] }

func (n *nodeStats) NodeStats() manager.NodeStats {
	srv := n.srv.Load()
	if srv == nil {
		return manager.NodeStats{Executions: map[string]int64{}}
	}
	st := srv.Stats()
	return manager.NodeStats{
		Gate:       manager.GateStats{InUse: st.GateInUse, Capacity: st.GateCapacity, Rejections: st.GateRejections},
		Requests:   st.Requests,
		Executions: st.Executions,
		Runtime:    manager.RuntimeStats{Pools: st.Runtime.Pools, Idle: st.Runtime.Idle, Busy: st.Runtime.Busy, Instances: st.Runtime.Instances},
	}
}

// dbStats adapts the manager's pool numbers to the edge's metrics.
type dbStats struct{ mgr *manager.Manager }

func (d dbStats) DBStats() edge.DBStats {
	s := d.mgr.PoolStat()
	return edge.DBStats{
		Total: s.Total, Idle: s.Idle, Acquired: s.Acquired, Constructing: s.Constructing, Max: s.Max,
		AcquireCount: s.AcquireCount, EmptyAcquireCount: s.EmptyAcquireCount,
		CanceledAcquireCount: s.CanceledAcquireCount, AcquireDurationSeconds: s.AcquireDuration.Seconds(),
	}
}

// recorder adapts the manager's execution log to the edge's recorder.
type recorder struct{ mgr *manager.Manager }

func (r recorder) RecordExecution(ctx context.Context, rec edge.ExecutionRecord) {
	lines := make([]manager.ConsoleLine, len(rec.Result.Logs))
	for i, l := range rec.Result.Logs {
		lines[i] = manager.ConsoleLine{Time: l.Time, Level: l.Level, Message: l.Message}
	}
	var msg string
	if rec.Err != nil {
		msg = rec.Err.Error()
	}
	outcome := string(rec.Result.Outcome)
	if outcome == "" {
		outcome = string(runtime.OutcomeError)
		if rec.Err == nil {
			outcome = string(runtime.OutcomeSuccess)
		}
	}
	status := rec.Result.Status
	if status == 0 && rec.Err != nil {
		// The script wrote nothing; the edge answered with its own error
		// (see edge.Server.execute), and that is what the client saw.
		status = http.StatusInternalServerError
		if rec.Result.Outcome == runtime.OutcomeTimeout {
			status = http.StatusGatewayTimeout
		}
	}
	r.mgr.RecordExecution(ctx, manager.ExecutionRecord{
		ExecutionID: rec.ExecutionID, RequestID: rec.RequestID, AppID: rec.AppID, ScriptID: rec.ScriptID,
		Version: rec.Version, Method: rec.Method, Path: rec.Path, Status: status,
		Outcome: outcome, Error: msg, Duration: rec.Result.Duration, Lines: lines,
	})
}
