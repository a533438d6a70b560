package manager

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/picloud/picloud/internal/limits"
	"github.com/picloud/picloud/migrations"
)

// Compiler turns uploaded source into the code the runtime runs. Bad source
// is reported as a *CompileError.
type Compiler interface {
	Compile(ctx context.Context, source, language string) (code string, err error)
}

// CompileError locates a syntax error in uploaded source.
type CompileError struct {
	Line    int
	Column  int
	Message string
}

func (e *CompileError) Error() string {
	return fmt.Sprintf("%d:%d: %s", e.Line, e.Column, e.Message)
}

// Config holds what the manager needs beyond its database.
type Config struct {
	DatabaseURL string
	Compiler    Compiler
	Logger      *slog.Logger
	// SessionTTL is the sliding lifetime of a login session.
	SessionTTL time.Duration
	// SecretKey seals app secrets (AES-256-GCM, SecretKeySize bytes). It
	// is held by the node outside the database.
	SecretKey []byte
	// LoginWindow, LoginFailuresPerAccount and LoginFailuresPerAddress
	// throttle password guessing: after that many failed logins within the
	// window, further attempts are refused with 429 until it slides by.
	// Zero means 15 minutes, 10 and 50.
	LoginWindow             time.Duration
	LoginFailuresPerAccount int
	LoginFailuresPerAddress int
	// Logs bounds the execution log; zero fields take defaults.
	Logs LogConfig
	// LimitCeilings bound per-script sandbox overrides; zero means
	// limits.Ceilings.
	LimitCeilings limits.Limits
	// NodeStats, if set, adds this node's live numbers to GET /metrics.
	NodeStats NodeStatsSource
}

// Manager is the control plane. It owns the Postgres pool.
type Manager struct {
	pool       *pgxpool.Pool
	compiler   Compiler
	log        *slog.Logger
	sessionTTL time.Duration
	secretKey  []byte
	now        func() time.Time
	limiter    *loginLimiter
	// setupLimiter throttles wrong setup tokens per client address.
	setupLimiter *loginLimiter
	argon        argonCost
	logs         *execLog
	ceilings     limits.Limits
	nodeStats    NodeStatsSource
}

// Open connects to Postgres and applies pending migrations.
func Open(ctx context.Context, cfg Config) (*Manager, error) {
	if cfg.Compiler == nil {
		return nil, fmt.Errorf("manager: a compiler is required")
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.SessionTTL <= 0 {
		cfg.SessionTTL = 24 * time.Hour
	}
	if cfg.LoginWindow <= 0 {
		cfg.LoginWindow = 15 * time.Minute
	}
	if cfg.LoginFailuresPerAccount <= 0 {
		cfg.LoginFailuresPerAccount = 10
	}
	if cfg.LoginFailuresPerAddress <= 0 {
		cfg.LoginFailuresPerAddress = 50
	}
	poolCfg, err := pgxpool.ParseConfig(cfg.DatabaseURL)
	if err != nil {
		return nil, fmt.Errorf("parsing database url: %w", err)
	}
	pool, err := pgxpool.NewWithConfig(ctx, poolCfg)
	if err != nil {
		return nil, fmt.Errorf("connecting to postgres: %w", err)
	}
	if err := pool.Ping(ctx); err != nil {
		pool.Close()
		return nil, fmt.Errorf("connecting to postgres: %w", err)
	}
	log := cfg.Logger.With("component", "manager")
	n, err := migrate(ctx, pool, migrations.FS)
	if err != nil {
		pool.Close()
		return nil, err
	}
	if n > 0 {
		log.Info("applied migrations", "count", n, "schema", LatestSchema())
	}
	if cfg.SecretKey != nil && len(cfg.SecretKey) != SecretKeySize {
		pool.Close()
		return nil, fmt.Errorf("secret key must be %d bytes, got %d", SecretKeySize, len(cfg.SecretKey))
	}
	if cfg.LimitCeilings == (limits.Limits{}) {
		cfg.LimitCeilings = limits.Ceilings
	}
	return &Manager{ceilings: cfg.LimitCeilings, pool: pool, compiler: cfg.Compiler, log: log, sessionTTL: cfg.SessionTTL, secretKey: cfg.SecretKey, now: time.Now, argon: defaultArgonCost,
		limiter:      newLoginLimiter(cfg.LoginWindow, cfg.LoginFailuresPerAccount, cfg.LoginFailuresPerAddress),
		setupLimiter: newLoginLimiter(cfg.LoginWindow, cfg.LoginFailuresPerAccount, cfg.LoginFailuresPerAccount),
		logs:         newExecLog(cfg.Logs), nodeStats: cfg.NodeStats}, nil
}

// Close releases the connection pool.
func (m *Manager) Close() { m.pool.Close() }

// Ping checks the database is reachable.
func (m *Manager) Ping(ctx context.Context) error { return m.pool.Ping(ctx) }

// PoolStat is a snapshot of the connection pool, for metrics.
type PoolStat struct {
	Total, Idle, Acquired, Constructing, Max int
	AcquireCount, EmptyAcquireCount          int64
	CanceledAcquireCount                     int64
	AcquireDuration                          time.Duration
}

// PoolStat reports the connection pool's numbers (pgxpool.Stat).
func (m *Manager) PoolStat() PoolStat {
	s := m.pool.Stat()
	return PoolStat{
		Total: int(s.TotalConns()), Idle: int(s.IdleConns()), Acquired: int(s.AcquiredConns()),
		Constructing: int(s.ConstructingConns()), Max: int(s.MaxConns()),
		AcquireCount: s.AcquireCount(), EmptyAcquireCount: s.EmptyAcquireCount(),
		CanceledAcquireCount: s.CanceledAcquireCount(), AcquireDuration: s.AcquireDuration(),
	}
}
