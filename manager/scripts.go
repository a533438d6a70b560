package manager

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"path"
	"regexp"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
)

// changesChannel is the NOTIFY channel on which every committed
// control-plane write is announced, so that readers drop their caches.
const changesChannel = "picloud_changes"

var (
	slugPattern       = regexp.MustCompile(`^[a-z0-9][a-z0-9-]{0,62}$`)
	scriptNamePattern = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$`)
	uuidPattern       = regexp.MustCompile(`^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$`)
)

// App is a tenant: the unit of isolation for scripts and their data.
type App struct {
	ID           string       `json:"id"`
	Slug         string       `json:"slug"`
	Name         string       `json:"name"`
	CreatedAt    time.Time    `json:"created_at"`
	LogRetention LogRetention `json:"log_retention"`
}

// LogRetention is an app's own bounds on its execution log; nil fields take
// the node's bounds, and no field may exceed them.
type LogRetention struct {
	Executions *int    `json:"executions"`
	Lines      *int    `json:"lines"`
	Age        *string `json:"age"` // a Go duration, e.g. "72h"
}

// appColumns are the columns scanApp reads, for an apps table aliased a.
const appColumns = `a.id, a.slug, a.name, a.created_at, a.log_retain_executions, a.log_retain_lines, a.log_retain_age_seconds`

// scanApp reads one row of appColumns.
func scanApp(row pgx.Row) (App, error) {
	var a App
	var age *int64
	if err := row.Scan(&a.ID, &a.Slug, &a.Name, &a.CreatedAt, &a.LogRetention.Executions, &a.LogRetention.Lines, &age); err != nil {
		return App{}, err
	}
	if age != nil {
		s := formatAge(time.Duration(*age) * time.Second)
		a.LogRetention.Age = &s
	}
	return a, nil
}

// formatAge writes a duration the way people set it: "72h", "90m", "45s".
func formatAge(d time.Duration) string {
	switch {
	case d%time.Hour == 0:
		return fmt.Sprintf("%dh", d/time.Hour)
	case d%time.Minute == 0:
		return fmt.Sprintf("%dm", d/time.Minute)
	}
	return fmt.Sprintf("%ds", d/time.Second)
}

// Script is the current version of a script, as the data plane runs it.
type Script struct {
	ID       string          `json:"id"`
	AppID    string          `json:"app_id"`
	AppSlug  string          `json:"app"`
	Name     string          `json:"name"`
	Version  int             `json:"version"`
	Language string          `json:"language"`
	Hash     string          `json:"hash"`
	Code     string          `json:"-"`
	Bindings json.RawMessage `json:"bindings"`
	// Limits are the version's sandbox overrides (internal/limits).
	Limits json.RawMessage `json:"limits"`
}

// DeployInput is one upload of a script's source.
type DeployInput struct {
	App      string          // slug or id
	Name     string          // script name, unique within the app
	Source   string          // JavaScript or TypeScript
	Language string          // "javascript", "typescript" or "" to infer
	Bindings json.RawMessage // wrangler-style bindings, see DESIGN.md; nil keeps the current ones
	Limits   json.RawMessage // sandbox overrides, see internal/limits; nil keeps the current ones
	Message  string
	AuthorID string
}

// Deployed answers a deploy.
type Deployed struct {
	ID      string `json:"id"`
	App     string `json:"app"`
	Name    string `json:"name"`
	Version int    `json:"version"`
	Hash    string `json:"hash"`
	Created bool   `json:"created"`
}

// Route binds method + host + path of an app to a script.
type Route struct {
	ID       string `json:"id"`
	AppID    string `json:"app_id"`
	ScriptID string `json:"script_id"`
	Script   string `json:"script,omitempty"` // the script's name, in admin answers
	Method   string `json:"method"`
	Host     string `json:"host"`
	Path     string `json:"path"`
	Dispatch string `json:"dispatch,omitempty"`
}

// Domain is an app's claim on a host pattern.
type Domain struct {
	ID      string `json:"id"`
	AppID   string `json:"app_id"`
	Pattern string `json:"pattern"`
}

// RoutingSnapshot is everything the edge needs to map a request to a
// script: every domain claim and every route.
type RoutingSnapshot struct {
	Domains []Domain
	Routes  []Route
}

// Language values accepted on deploy.
const (
	LangJavaScript = "javascript"
	LangTypeScript = "typescript"
)

func inferLanguage(lang, name string) (string, error) {
	switch strings.ToLower(lang) {
	case "js", LangJavaScript:
		return LangJavaScript, nil
	case "ts", LangTypeScript:
		return LangTypeScript, nil
	case "":
		switch path.Ext(name) {
		case ".ts", ".mts", ".tsx":
			return LangTypeScript, nil
		}
		return LangJavaScript, nil
	}
	return "", invalid("invalid_language", "language %q is not one of javascript, typescript", lang)
}

// querier is satisfied by both the pool and a transaction.
type querier interface {
	QueryRow(ctx context.Context, sql string, args ...any) pgx.Row
}

// resolveApp finds an app by slug, id or a slug it had before a rename.
func resolveApp(ctx context.Context, q querier, ref string) (App, error) {
	a, _, err := lookupApp(ctx, q, ref)
	return a, err
}

// lookupApp is resolveApp that also says whether ref is a retired slug, so
// the admin API can redirect permanently to the current one.
func lookupApp(ctx context.Context, q querier, ref string) (App, bool, error) {
	col := "slug"
	if uuidPattern.MatchString(ref) {
		col = "id"
	}
	a, err := scanApp(q.QueryRow(ctx, `SELECT `+appColumns+` FROM apps a WHERE a.`+col+` = $1`, ref))
	if errors.Is(err, pgx.ErrNoRows) && col == "slug" {
		a, err = scanApp(q.QueryRow(ctx, `
			SELECT `+appColumns+` FROM app_slug_history h JOIN apps a ON a.id = h.app_id
			WHERE h.slug = $1`, ref))
		if err == nil {
			return a, true, nil
		}
	}
	if errors.Is(err, pgx.ErrNoRows) {
		return App{}, false, notFound("app", ref)
	}
	if err != nil {
		return App{}, false, fmt.Errorf("looking up app %q: %w", ref, err)
	}
	return a, false, nil
}

func announce(ctx context.Context, tx pgx.Tx, what string) error {
	if _, err := tx.Exec(ctx, `SELECT pg_notify($1, $2)`, changesChannel, what); err != nil {
		return fmt.Errorf("announcing change: %w", err)
	}
	return nil
}

func isUniqueViolation(err error) bool {
	var pgErr *pgconn.PgError
	return errors.As(err, &pgErr) && pgErr.Code == "23505"
}

// Deploy creates a script, or a new immutable version of the script with
// that name, and makes it current. Source that does not compile is refused
// with a 400 naming line and column, and nothing is stored.
func (m *Manager) Deploy(ctx context.Context, in DeployInput) (Deployed, error) {
	if !scriptNamePattern.MatchString(in.Name) {
		return Deployed{}, invalid("invalid_name", "script name %q must match %s", in.Name, scriptNamePattern)
	}
	if strings.TrimSpace(in.Source) == "" {
		return Deployed{}, invalid("invalid_source", "source is empty")
	}
	lang, err := inferLanguage(in.Language, in.Name)
	if err != nil {
		return Deployed{}, err
	}
	keepBindings := len(in.Bindings) == 0 || string(in.Bindings) == "null"
	bindings, err := validateBindings(in.Bindings)
	if err != nil {
		return Deployed{}, err
	}
	keepLimits := len(in.Limits) == 0 || string(in.Limits) == "null"
	lims, err := m.validateLimits(in.Limits)
	if err != nil {
		return Deployed{}, err
	}
	code, err := m.compiler.Compile(ctx, in.Source, lang)
	if err != nil {
		var ce *CompileError
		if errors.As(err, &ce) {
			return Deployed{}, &Error{
				Status:  http.StatusBadRequest,
				Code:    "syntax_error",
				Message: fmt.Sprintf("syntax error at line %d, column %d: %s", ce.Line, ce.Column, ce.Message),
				Details: map[string]any{"line": ce.Line, "column": ce.Column, "message": ce.Message},
			}
		}
		return Deployed{}, fmt.Errorf("compiling %s: %w", in.Name, err)
	}
	sum := sha256.Sum256([]byte(code))
	hash := hex.EncodeToString(sum[:])

	var out Deployed
	err = pgx.BeginFunc(ctx, m.pool, func(tx pgx.Tx) error {
		app, err := resolveApp(ctx, tx, in.App)
		if err != nil {
			return err
		}
		// Lock the script row (if any) so concurrent deploys get
		// consecutive version numbers.
		var id string
		var version int
		err = tx.QueryRow(ctx, `SELECT id, current_version FROM scripts WHERE app_id = $1 AND name = $2 FOR UPDATE`,
			app.ID, in.Name).Scan(&id, &version)
		switch {
		case errors.Is(err, pgx.ErrNoRows):
			version = 1
			out.Created = true
			err = tx.QueryRow(ctx, `
				INSERT INTO scripts (app_id, name, current_version) VALUES ($1, $2, 1)
				ON CONFLICT (app_id, name) DO NOTHING RETURNING id`, app.ID, in.Name).Scan(&id)
			if errors.Is(err, pgx.ErrNoRows) {
				return conflict("concurrent_deploy", "the script was created concurrently; retry", nil)
			}
		case err == nil:
			// A deploy that does not mention bindings or limits keeps the
			// current ones; an explicit {} clears them.
			var curBindings, curLimits []byte
			err = tx.QueryRow(ctx, `SELECT bindings, limits FROM script_versions WHERE script_id = $1 AND version = $2`, id, version).Scan(&curBindings, &curLimits)
			if keepBindings {
				bindings = curBindings
			}
			if keepLimits {
				lims = curLimits
			}
			if err == nil {
				err = tx.QueryRow(ctx, `SELECT coalesce(max(version), 0) + 1 FROM script_versions WHERE script_id = $1`, id).Scan(&version)
			}
		}
		if err != nil {
			return fmt.Errorf("reserving version: %w", err)
		}
		var author any
		if in.AuthorID != "" {
			author = in.AuthorID
		}
		if _, err := tx.Exec(ctx, `
			INSERT INTO script_versions (app_id, script_id, version, language, source, code, hash, bindings, author_id, message, limits)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)`,
			app.ID, id, version, lang, in.Source, code, hash, bindings, author, in.Message, lims); err != nil {
			return fmt.Errorf("storing version: %w", err)
		}
		if _, err := tx.Exec(ctx, `UPDATE scripts SET current_version = $2, updated_at = now() WHERE id = $1`, id, version); err != nil {
			return fmt.Errorf("updating script: %w", err)
		}
		out = Deployed{ID: id, App: app.Slug, Name: in.Name, Version: version, Hash: hash, Created: out.Created}
		return announce(ctx, tx, "script:"+id)
	})
	if err != nil {
		return Deployed{}, err
	}
	m.log.Info("deployed script", "app", out.App, "script", out.Name, "script_id", out.ID, "version", out.Version)
	return out, nil
}

// bindingTypes are the binding kinds a deploy may declare. kv and secret
// are accepted here and served once their stores exist.
var bindingTypes = map[string]bool{"text": true, "json": true, "kv": true, "secret": true}

var bindingName = regexp.MustCompile(`^[A-Za-z_$][A-Za-z0-9_$]{0,63}$`)

func validateBindings(raw json.RawMessage) ([]byte, error) {
	if len(raw) == 0 || string(raw) == "null" {
		return []byte("{}"), nil
	}
	var bs map[string]struct {
		Type      string          `json:"type"`
		Value     json.RawMessage `json:"value"`
		Namespace string          `json:"namespace"`
		Name      string          `json:"name"`
	}
	if err := json.Unmarshal(raw, &bs); err != nil {
		return nil, invalid("invalid_bindings", "bindings must be an object of {\"NAME\": {\"type\": ...}}: %v", err)
	}
	for name, b := range bs {
		if !bindingName.MatchString(name) {
			return nil, invalid("invalid_bindings", "binding name %q is not a valid identifier", name)
		}
		if !bindingTypes[b.Type] {
			return nil, invalid("invalid_bindings", "binding %s has unknown type %q (text, json, kv, secret)", name, b.Type)
		}
		switch b.Type {
		case "text":
			var s string
			if err := json.Unmarshal(b.Value, &s); err != nil {
				return nil, invalid("invalid_bindings", "binding %s: a text value must be a string", name)
			}
		case "json":
			if len(b.Value) == 0 {
				return nil, invalid("invalid_bindings", "binding %s: a json binding needs a value", name)
			}
		case "kv":
			if b.Namespace == "" {
				return nil, invalid("invalid_bindings", "binding %s: a kv binding needs a namespace", name)
			}
		case "secret":
			if b.Name == "" {
				return nil, invalid("invalid_bindings", "binding %s: a secret binding needs a name", name)
			}
		}
	}
	return raw, nil
}

const scriptColumns = `s.id, s.app_id, a.slug, s.name, v.version, v.language, v.hash, v.code, v.bindings, v.limits`

func scanScript(row pgx.Row) (Script, error) {
	var s Script
	err := row.Scan(&s.ID, &s.AppID, &s.AppSlug, &s.Name, &s.Version, &s.Language, &s.Hash, &s.Code, &s.Bindings, &s.Limits)
	return s, err
}

// Script returns the current version of a script by id.
func (m *Manager) Script(ctx context.Context, id string) (Script, error) {
	if !uuidPattern.MatchString(id) {
		return Script{}, notFound("script", id)
	}
	s, err := scanScript(m.pool.QueryRow(ctx, `
		SELECT `+scriptColumns+`
		FROM scripts s JOIN apps a ON a.id = s.app_id
		JOIN script_versions v ON v.script_id = s.id AND v.version = s.current_version
		WHERE s.id = $1`, id))
	if errors.Is(err, pgx.ErrNoRows) {
		return Script{}, notFound("script", id)
	}
	if err != nil {
		return Script{}, fmt.Errorf("loading script %s: %w", id, err)
	}
	return s, nil
}

// Scripts lists the current version of every script of an app.
func (m *Manager) Scripts(ctx context.Context, appRef string) ([]Script, error) {
	app, err := resolveApp(ctx, m.pool, appRef)
	if err != nil {
		return nil, err
	}
	rows, err := m.pool.Query(ctx, `
		SELECT `+scriptColumns+`
		FROM scripts s JOIN apps a ON a.id = s.app_id
		JOIN script_versions v ON v.script_id = s.id AND v.version = s.current_version
		WHERE s.app_id = $1 ORDER BY s.name`, app.ID)
	if err != nil {
		return nil, fmt.Errorf("listing scripts: %w", err)
	}
	return pgx.CollectRows(rows, func(r pgx.CollectableRow) (Script, error) { return scanScript(r) })
}

// Routing returns every domain claim and route.
func (m *Manager) Routing(ctx context.Context) (RoutingSnapshot, error) {
	var snap RoutingSnapshot
	rows, err := m.pool.Query(ctx, `SELECT id, app_id, pattern FROM domains ORDER BY pattern`)
	if err != nil {
		return snap, fmt.Errorf("loading domains: %w", err)
	}
	snap.Domains, err = pgx.CollectRows(rows, func(r pgx.CollectableRow) (Domain, error) {
		var d Domain
		return d, r.Scan(&d.ID, &d.AppID, &d.Pattern)
	})
	if err != nil {
		return snap, fmt.Errorf("loading domains: %w", err)
	}
	rows, err = m.pool.Query(ctx, `SELECT id, app_id, script_id, method, host, path FROM routes ORDER BY created_at, id`)
	if err != nil {
		return snap, fmt.Errorf("loading routes: %w", err)
	}
	snap.Routes, err = pgx.CollectRows(rows, func(r pgx.CollectableRow) (Route, error) {
		var rt Route
		return rt, r.Scan(&rt.ID, &rt.AppID, &rt.ScriptID, &rt.Method, &rt.Host, &rt.Path)
	})
	if err != nil {
		return snap, fmt.Errorf("loading routes: %w", err)
	}
	return snap, nil
}
