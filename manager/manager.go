package manager

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

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
}

// Manager is the control plane. It owns the Postgres pool.
type Manager struct {
	pool       *pgxpool.Pool
	compiler   Compiler
	log        *slog.Logger
	sessionTTL time.Duration
	now        func() time.Time
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
	return &Manager{pool: pool, compiler: cfg.Compiler, log: log, sessionTTL: cfg.SessionTTL, now: time.Now}, nil
}

// Close releases the connection pool.
func (m *Manager) Close() { m.pool.Close() }

// Ping checks the database is reachable.
func (m *Manager) Ping(ctx context.Context) error { return m.pool.Ping(ctx) }
