package node

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"path/filepath"
	"time"

	"github.com/picloud/picloud/internal/pgserver"
	"github.com/picloud/picloud/manager"
)

// noCompiler serves administrative commands, which never deploy.
type noCompiler struct{}

func (noCompiler) Compile(context.Context, string, string) (string, error) {
	return "", errors.New("compiling is not available in administrative commands")
}

// ResetPassword sets a user's password straight in the database (managed
// Postgres or DATABASE_URL), reactivates the user and ends its sessions:
// the recovery path when nobody can log in. With the managed Postgres the
// node must be stopped first.
func ResetPassword(ctx context.Context, cfg Config, log *slog.Logger, username, password string) (err error) {
	dsn := cfg.DatabaseURL
	if dsn == "" {
		dataDir, err := cfg.absDataDir()
		if err != nil {
			return err
		}
		pg, err := pgserver.New(pgserver.Config{DataDir: filepath.Join(dataDir, "postgres"), Logger: log, RunAs: cfg.PostgresUser})
		if err != nil {
			return err
		}
		if err := pg.Start(ctx); err != nil {
			if errors.Is(err, pgserver.ErrAlreadyRunning) {
				return fmt.Errorf("the node's postgres is running: stop picloud first (%w)", err)
			}
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
	}
	mgr, err := manager.Open(ctx, manager.Config{DatabaseURL: dsn, Compiler: noCompiler{}, Logger: log})
	if err != nil {
		return err
	}
	defer mgr.Close()
	return mgr.ResetPassword(ctx, username, password)
}
