package manager

import (
	"context"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"

	"github.com/picloud/picloud/internal/route"
)

// Dispatch modes of a route.
const DispatchSync = "sync"

// RouteInput describes a route to create, check or change. Script is a
// script name or id within App.
type RouteInput struct {
	AppID    string
	Script   string
	Method   string
	Host     string
	Path     string
	Dispatch string
}

const routeColumns = `r.id, r.app_id, r.script_id, s.name, r.method, r.host, r.path, r.dispatch`

func scanRoute(row pgx.Row) (Route, error) {
	var r Route
	err := row.Scan(&r.ID, &r.AppID, &r.ScriptID, &r.Script, &r.Method, &r.Host, &r.Path, &r.Dispatch)
	return r, err
}

func appRoutes(ctx context.Context, q interface {
	Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error)
}, appID string) ([]Route, error) {
	rows, err := q.Query(ctx, `SELECT `+routeColumns+` FROM routes r JOIN scripts s ON s.id = r.script_id
		WHERE r.app_id = $1 ORDER BY r.created_at, r.id`, appID)
	if err != nil {
		return nil, fmt.Errorf("listing routes: %w", err)
	}
	rs, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (Route, error) { return scanRoute(r) })
	if err != nil {
		return nil, fmt.Errorf("listing routes: %w", err)
	}
	return rs, nil
}

// Routes lists an app's routes in table order.
func (m *Manager) Routes(ctx context.Context, appID string) ([]Route, error) {
	return appRoutes(ctx, m.pool, appID)
}

// RouteByID returns one route.
func (m *Manager) RouteByID(ctx context.Context, id string) (Route, error) {
	if !uuidPattern.MatchString(id) {
		return Route{}, notFound("route", id)
	}
	r, err := scanRoute(m.pool.QueryRow(ctx, `SELECT `+routeColumns+` FROM routes r JOIN scripts s ON s.id = r.script_id WHERE r.id = $1`, id))
	if errors.Is(err, pgx.ErrNoRows) {
		return Route{}, notFound("route", id)
	}
	if err != nil {
		return Route{}, fmt.Errorf("loading route: %w", err)
	}
	return r, nil
}

func toTableRoutes(rs []Route) []route.Route {
	out := make([]route.Route, len(rs))
	for i, r := range rs {
		out[i] = route.Route{ID: r.ID, Method: r.Method, Host: r.Host, Path: r.Path, Target: r.ScriptID}
	}
	return out
}

// checkRoute validates in against the app's other routes (id is the route
// being changed, "" for a new one) and returns it normalized.
func checkRoute(ctx context.Context, tx pgx.Tx, id string, in RouteInput) (Route, error) {
	if in.Dispatch == "" {
		in.Dispatch = DispatchSync
	}
	if in.Dispatch != DispatchSync {
		return Route{}, invalid("invalid_dispatch", "dispatch %q is not supported (sync)", in.Dispatch)
	}
	method, err := route.NormalizeMethod(in.Method)
	if err != nil {
		return Route{}, patternError(err)
	}
	host := in.Host
	if host == "*" {
		host = ""
	}
	r := Route{ID: id, AppID: in.AppID, Method: method, Host: host, Path: in.Path, Dispatch: in.Dispatch}
	if in.Script == "" {
		return Route{}, invalid("missing_script", "script (name or id) is required")
	}
	col := "name"
	if uuidPattern.MatchString(in.Script) {
		col = "id::text"
	}
	err = tx.QueryRow(ctx, `SELECT id, name FROM scripts WHERE app_id = $1 AND `+col+` = $2`, in.AppID, in.Script).Scan(&r.ScriptID, &r.Script)
	if errors.Is(err, pgx.ErrNoRows) {
		return Route{}, invalid("unknown_script", "the app has no script %q", in.Script)
	}
	if err != nil {
		return Route{}, fmt.Errorf("resolving script: %w", err)
	}
	existing, err := appRoutes(ctx, tx, in.AppID)
	if err != nil {
		return Route{}, err
	}
	table, _ := route.BuildTable(toTableRoutes(existing))
	err = table.Check(route.Route{ID: id, Method: r.Method, Host: r.Host, Path: r.Path, Target: r.ScriptID})
	var ce *route.ConflictError
	if errors.As(err, &ce) {
		for _, x := range existing {
			if x.ID == ce.Existing.ID {
				return Route{}, conflict("route_conflict", ce.Error(), map[string]any{"conflicting_route": x})
			}
		}
		return Route{}, conflict("route_conflict", ce.Error(), map[string]any{"conflicting_route": ce.Existing})
	}
	if err != nil {
		return Route{}, patternError(err)
	}
	return r, nil
}

// lockApp serialises route writes of one app, since each is checked
// against all the others.
func lockApp(ctx context.Context, tx pgx.Tx, appID string) error {
	var id string
	err := tx.QueryRow(ctx, `SELECT id FROM apps WHERE id = $1 FOR UPDATE`, appID).Scan(&id)
	if errors.Is(err, pgx.ErrNoRows) {
		return notFound("app", appID)
	}
	return err
}

func asError(err error, doing string) error {
	var e *Error
	if errors.As(err, &e) {
		return e
	}
	if err != nil {
		return fmt.Errorf("%s: %w", doing, err)
	}
	return nil
}

// CheckRoute reports whether a route would be valid and conflict-free
// (id: the route it would replace, or "").
func (m *Manager) CheckRoute(ctx context.Context, id string, in RouteInput) (Route, error) {
	var r Route
	err := pgx.BeginFunc(ctx, m.pool, func(tx pgx.Tx) error {
		var err error
		r, err = checkRoute(ctx, tx, id, in)
		return err
	})
	return r, asError(err, "checking route")
}

// CreateRoute binds a route to a script.
func (m *Manager) CreateRoute(ctx context.Context, in RouteInput) (Route, error) {
	var r Route
	err := pgx.BeginFunc(ctx, m.pool, func(tx pgx.Tx) error {
		if err := lockApp(ctx, tx, in.AppID); err != nil {
			return err
		}
		var err error
		if r, err = checkRoute(ctx, tx, "", in); err != nil {
			return err
		}
		if err := tx.QueryRow(ctx, `
			INSERT INTO routes (app_id, script_id, method, host, path, dispatch) VALUES ($1, $2, $3, $4, $5, $6) RETURNING id`,
			r.AppID, r.ScriptID, r.Method, r.Host, r.Path, r.Dispatch).Scan(&r.ID); err != nil {
			return err
		}
		return announce(ctx, tx, "routing")
	})
	return r, asError(err, "creating route")
}

// RoutePatch changes a route; nil fields stay as they are.
type RoutePatch struct {
	Script, Method, Host, Path, Dispatch *string
}

// UpdateRoute changes a route, checked like a new one.
func (m *Manager) UpdateRoute(ctx context.Context, id string, p RoutePatch) (Route, error) {
	old, err := m.RouteByID(ctx, id)
	if err != nil {
		return Route{}, err
	}
	in := RouteInput{AppID: old.AppID, Script: old.ScriptID, Method: old.Method, Host: old.Host, Path: old.Path, Dispatch: old.Dispatch}
	for dst, src := range map[*string]*string{&in.Script: p.Script, &in.Method: p.Method, &in.Host: p.Host, &in.Path: p.Path, &in.Dispatch: p.Dispatch} {
		if src != nil {
			*dst = *src
		}
	}
	var r Route
	err = pgx.BeginFunc(ctx, m.pool, func(tx pgx.Tx) error {
		if err := lockApp(ctx, tx, in.AppID); err != nil {
			return err
		}
		var err error
		if r, err = checkRoute(ctx, tx, id, in); err != nil {
			return err
		}
		tag, err := tx.Exec(ctx, `
			UPDATE routes SET script_id = $2, method = $3, host = $4, path = $5, dispatch = $6, updated_at = now() WHERE id = $1`,
			id, r.ScriptID, r.Method, r.Host, r.Path, r.Dispatch)
		if err != nil {
			return err
		}
		if tag.RowsAffected() == 0 {
			return notFound("route", id)
		}
		return announce(ctx, tx, "routing")
	})
	return r, asError(err, "updating route")
}

// DeleteRoute removes a route.
func (m *Manager) DeleteRoute(ctx context.Context, id string) error {
	err := pgx.BeginFunc(ctx, m.pool, func(tx pgx.Tx) error {
		tag, err := tx.Exec(ctx, `DELETE FROM routes WHERE id = $1`, id)
		if err != nil {
			return err
		}
		if tag.RowsAffected() == 0 {
			return notFound("route", id)
		}
		return announce(ctx, tx, "routing")
	})
	return asError(err, "deleting route")
}

// RouteMatch answers "which route would serve this request?".
type RouteMatch struct {
	Matched bool              `json:"matched"`
	App     string            `json:"app,omitempty"`
	Route   *Route            `json:"route,omitempty"`
	Params  map[string]string `json:"params,omitempty"`
	Rest    string            `json:"rest,omitempty"`
}

// MatchRoute finds the route of appID that would answer method, host and
// path, as the edge decides it.
func (m *Manager) MatchRoute(ctx context.Context, appID, method, host, path string) (RouteMatch, error) {
	rs, err := m.Routes(ctx, appID)
	if err != nil {
		return RouteMatch{}, err
	}
	table, _ := route.BuildTable(toTableRoutes(rs))
	mt, ok := table.Match(method, host, path)
	if !ok {
		return RouteMatch{}, nil
	}
	for _, r := range rs {
		if r.ID == mt.Route.ID {
			return RouteMatch{Matched: true, Route: &r, Params: mt.Params, Rest: mt.Rest}, nil
		}
	}
	return RouteMatch{}, nil
}

// AppForHost returns the id of the app whose domain claim serves host, as
// the edge's first dispatch phase decides it.
func (m *Manager) AppForHost(ctx context.Context, host string) (string, bool, error) {
	snap, err := m.Routing(ctx)
	if err != nil {
		return "", false, err
	}
	claims := make([]route.Claim, len(snap.Domains))
	for i, d := range snap.Domains {
		claims[i] = route.Claim{ID: d.ID, Pattern: d.Pattern, AppID: d.AppID}
	}
	table, _ := route.BuildDomainTable(claims)
	c, _, ok := table.Match(host)
	return c.AppID, ok, nil
}
