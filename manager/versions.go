package manager

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
)

// Version is one immutable deploy of a script.
type Version struct {
	Version   int       `json:"version"`
	Language  string    `json:"language"`
	Hash      string    `json:"hash"`
	Author    string    `json:"author,omitempty"` // username; empty for seeds and deleted users
	Message   string    `json:"message"`
	CreatedAt time.Time `json:"created_at"`
	Current   bool      `json:"current"`
	// Source, Bindings and Limits come only when one version is asked for.
	Source   *string         `json:"source,omitempty"`
	Bindings json.RawMessage `json:"bindings,omitempty"`
	Limits   json.RawMessage `json:"limits,omitempty"`
}

// ScriptApp returns the id of the app a script belongs to.
func (m *Manager) ScriptApp(ctx context.Context, scriptID string) (string, error) {
	if !uuidPattern.MatchString(scriptID) {
		return "", notFound("script", scriptID)
	}
	var app string
	err := m.pool.QueryRow(ctx, `SELECT app_id FROM scripts WHERE id = $1`, scriptID).Scan(&app)
	if errors.Is(err, pgx.ErrNoRows) {
		return "", notFound("script", scriptID)
	}
	if err != nil {
		return "", fmt.Errorf("loading script: %w", err)
	}
	return app, nil
}

const versionColumns = `v.version, v.language, v.hash, coalesce(u.username, ''), v.message, v.created_at, v.version = s.current_version`

// Versions lists a script's versions, newest first, without their source.
func (m *Manager) Versions(ctx context.Context, scriptID string) ([]Version, error) {
	rows, err := m.pool.Query(ctx, `
		SELECT `+versionColumns+`
		FROM script_versions v JOIN scripts s ON s.id = v.script_id LEFT JOIN users u ON u.id = v.author_id
		WHERE v.script_id = $1 ORDER BY v.version DESC`, scriptID)
	if err != nil {
		return nil, fmt.Errorf("listing versions: %w", err)
	}
	vs, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (Version, error) {
		var v Version
		return v, r.Scan(&v.Version, &v.Language, &v.Hash, &v.Author, &v.Message, &v.CreatedAt, &v.Current)
	})
	if err != nil {
		return nil, fmt.Errorf("listing versions: %w", err)
	}
	return vs, nil
}

// ScriptVersion returns one version of a script with its source, bindings
// and sandbox limits.
func (m *Manager) ScriptVersion(ctx context.Context, scriptID string, version int) (Version, error) {
	var v Version
	var src string
	err := m.pool.QueryRow(ctx, `
		SELECT `+versionColumns+`, v.source, v.bindings, v.limits
		FROM script_versions v JOIN scripts s ON s.id = v.script_id LEFT JOIN users u ON u.id = v.author_id
		WHERE v.script_id = $1 AND v.version = $2`, scriptID, version).
		Scan(&v.Version, &v.Language, &v.Hash, &v.Author, &v.Message, &v.CreatedAt, &v.Current, &src, &v.Bindings, &v.Limits)
	if errors.Is(err, pgx.ErrNoRows) {
		return Version{}, notFound("version", fmt.Sprint(version))
	}
	if err != nil {
		return Version{}, fmt.Errorf("loading version: %w", err)
	}
	v.Source = &src
	return v, nil
}

// Rollback makes an earlier version of a script current again, in one
// step, and announces it so every edge drops the old program.
func (m *Manager) Rollback(ctx context.Context, scriptID string, version int) (Script, error) {
	err := pgx.BeginFunc(ctx, m.pool, func(tx pgx.Tx) error {
		var exists bool
		if err := tx.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM script_versions WHERE script_id = $1 AND version = $2)`,
			scriptID, version).Scan(&exists); err != nil {
			return err
		}
		if !exists {
			return notFound("version", fmt.Sprint(version))
		}
		tag, err := tx.Exec(ctx, `UPDATE scripts SET current_version = $2, updated_at = now() WHERE id = $1`, scriptID, version)
		if err != nil {
			return err
		}
		if tag.RowsAffected() == 0 {
			return notFound("script", scriptID)
		}
		return announce(ctx, tx, "script:"+scriptID)
	})
	if err := asError(err, "rolling back"); err != nil {
		return Script{}, err
	}
	m.log.Info("rolled back script", "script_id", scriptID, "version", version)
	return m.Script(ctx, scriptID)
}

// DeleteScript deletes a script with its versions and routes.
func (m *Manager) DeleteScript(ctx context.Context, scriptID string) error {
	err := pgx.BeginFunc(ctx, m.pool, func(tx pgx.Tx) error {
		tag, err := tx.Exec(ctx, `DELETE FROM scripts WHERE id = $1`, scriptID)
		if err != nil {
			return err
		}
		if tag.RowsAffected() == 0 {
			return notFound("script", scriptID)
		}
		if err := announce(ctx, tx, "script:"+scriptID); err != nil {
			return err
		}
		return announce(ctx, tx, "routing")
	})
	return asError(err, "deleting script")
}
