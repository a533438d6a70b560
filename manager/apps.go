package manager

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/picloud/picloud/internal/route"
)

// domainsLock serialises domain claims across processes: a claim is checked
// against every other claim, so two must not be checked at once.
const domainsLock = 0x70_69_63_64_6f_6d // "picdom"

func validSlug(slug string) error {
	if !slugPattern.MatchString(slug) {
		return invalid("invalid_slug", "slug %q must match %s", slug, slugPattern)
	}
	return nil
}

// CreateApp creates an app. A slug another app used before a rename is
// taken over: its redirect ends.
func (m *Manager) CreateApp(ctx context.Context, slug, name string) (App, error) {
	if err := validSlug(slug); err != nil {
		return App{}, err
	}
	if name == "" {
		name = slug
	}
	var a App
	err := pgx.BeginFunc(ctx, m.pool, func(tx pgx.Tx) error {
		var err error
		a, err = scanApp(tx.QueryRow(ctx,
			`INSERT INTO apps AS a (slug, name) VALUES ($1, $2) RETURNING `+appColumns, slug, name))
		if err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `DELETE FROM app_slug_history WHERE slug = $1`, slug); err != nil {
			return fmt.Errorf("claiming slug: %w", err)
		}
		return announce(ctx, tx, "app:"+a.ID)
	})
	if isUniqueViolation(err) {
		return App{}, conflict("app_exists", fmt.Sprintf("an app with slug %q already exists", slug), map[string]any{"slug": slug})
	}
	if err != nil {
		return App{}, fmt.Errorf("creating app: %w", err)
	}
	return a, nil
}

// Apps lists every app.
func (m *Manager) Apps(ctx context.Context) ([]App, error) {
	rows, err := m.pool.Query(ctx, `SELECT `+appColumns+` FROM apps a ORDER BY a.slug`)
	if err != nil {
		return nil, fmt.Errorf("listing apps: %w", err)
	}
	as, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (App, error) { return scanApp(r) })
	if err != nil {
		return nil, fmt.Errorf("listing apps: %w", err)
	}
	return as, nil
}

// App finds an app by slug, id or former slug.
func (m *Manager) App(ctx context.Context, ref string) (App, error) {
	return resolveApp(ctx, m.pool, ref)
}

// AppUpdate changes an app; nil fields stay as they are.
type AppUpdate struct {
	Slug      *string
	Name      *string
	Retention RetentionUpdate
}

// RetentionUpdate changes an app's log retention: nil fields stay as they
// are, a zero value goes back to the node's bound.
type RetentionUpdate struct {
	Executions *int
	Lines      *int
	Age        *time.Duration
}

// validate refuses negative values and values above the node's bounds: an
// app may keep less than the node allows, never more.
func (r RetentionUpdate) validate(node LogConfig) error {
	check := func(field string, v *int64, max int64, maxText string) error {
		if v == nil || (*v >= 0 && *v <= max) {
			return nil
		}
		return &Error{Status: http.StatusUnprocessableEntity, Code: "invalid_retention",
			Message: fmt.Sprintf("log_retention.%s must be from 1 to the node's bound %s (null: the node's bound)", field, maxText),
			Details: map[string]any{"field": field, "max": maxText}}
	}
	i64 := func(p *int) *int64 {
		if p == nil {
			return nil
		}
		v := int64(*p)
		return &v
	}
	if err := check("executions", i64(r.Executions), int64(node.RetainExecutions), fmt.Sprint(node.RetainExecutions)); err != nil {
		return err
	}
	if err := check("lines", i64(r.Lines), int64(node.RetainLines), fmt.Sprint(node.RetainLines)); err != nil {
		return err
	}
	if r.Age != nil {
		secs := int64(*r.Age / time.Second)
		if *r.Age > 0 && secs == 0 {
			secs = -1 // under a second: refused
		}
		return check("age", &secs, int64(node.RetainAge/time.Second), formatAge(node.RetainAge))
	}
	return nil
}

// UpdateApp renames an app. The old slug is kept in the slug history, so it
// keeps resolving (and the admin API redirects) until another app takes it.
func (m *Manager) UpdateApp(ctx context.Context, id string, up AppUpdate) (App, error) {
	if up.Slug != nil {
		if err := validSlug(*up.Slug); err != nil {
			return App{}, err
		}
	}
	if up.Name != nil && (*up.Name == "" || len(*up.Name) > 200) {
		return App{}, invalid("invalid_name", "an app name must have 1 to 200 characters")
	}
	if err := up.Retention.validate(m.logs.cfg); err != nil {
		return App{}, err
	}
	var ageSecs *int64
	if up.Retention.Age != nil {
		v := int64(*up.Retention.Age / time.Second)
		ageSecs = &v
	}
	var a App
	err := pgx.BeginFunc(ctx, m.pool, func(tx pgx.Tx) error {
		var old string
		if err := tx.QueryRow(ctx, `SELECT slug FROM apps WHERE id = $1 FOR UPDATE`, id).Scan(&old); err != nil {
			if errors.Is(err, pgx.ErrNoRows) {
				return notFound("app", id)
			}
			return err
		}
		// A retention value of 0 stores NULL: the node's bound.
		var err error
		a, err = scanApp(tx.QueryRow(ctx, `
			UPDATE apps AS a SET slug = coalesce($2, slug), name = coalesce($3, name),
				log_retain_executions = CASE WHEN $4::integer IS NULL THEN log_retain_executions ELSE nullif($4::integer, 0) END,
				log_retain_lines = CASE WHEN $5::integer IS NULL THEN log_retain_lines ELSE nullif($5::integer, 0) END,
				log_retain_age_seconds = CASE WHEN $6::bigint IS NULL THEN log_retain_age_seconds ELSE nullif($6::bigint, 0) END,
				updated_at = now()
			WHERE a.id = $1 RETURNING `+appColumns, id, up.Slug, up.Name, up.Retention.Executions, up.Retention.Lines, ageSecs))
		if err != nil {
			return err
		}
		if a.Slug != old {
			if _, err := tx.Exec(ctx, `DELETE FROM app_slug_history WHERE slug = $1`, a.Slug); err != nil {
				return err
			}
			if _, err := tx.Exec(ctx, `
				INSERT INTO app_slug_history (slug, app_id) VALUES ($1, $2)
				ON CONFLICT (slug) DO UPDATE SET app_id = excluded.app_id, retired_at = now()`, old, id); err != nil {
				return err
			}
		}
		return announce(ctx, tx, "app:"+id)
	})
	if isUniqueViolation(err) {
		return App{}, conflict("app_exists", fmt.Sprintf("an app with slug %q already exists", *up.Slug), map[string]any{"slug": *up.Slug})
	}
	var e *Error
	if errors.As(err, &e) {
		return App{}, e
	}
	if err != nil {
		return App{}, fmt.Errorf("updating app: %w", err)
	}
	return a, nil
}

// DeleteApp deletes an app with everything in it. An app that still has
// scripts is only deleted when force is set; otherwise the answer is a
// conflict carrying the script count.
func (m *Manager) DeleteApp(ctx context.Context, id string, force bool) error {
	err := pgx.BeginFunc(ctx, m.pool, func(tx pgx.Tx) error {
		var n int
		if err := tx.QueryRow(ctx, `SELECT count(*) FROM scripts WHERE app_id = $1`, id).Scan(&n); err != nil {
			return err
		}
		if n > 0 && !force {
			return conflict("app_has_scripts",
				fmt.Sprintf("the app still has %d script(s); delete with ?force=true to remove them too", n),
				map[string]any{"scripts": n})
		}
		tag, err := tx.Exec(ctx, `DELETE FROM apps WHERE id = $1`, id)
		if err != nil {
			return err
		}
		if tag.RowsAffected() == 0 {
			return notFound("app", id)
		}
		if err := announce(ctx, tx, "app:"+id); err != nil {
			return err
		}
		return announce(ctx, tx, "routing")
	})
	var e *Error
	if errors.As(err, &e) {
		return e
	}
	if err != nil {
		return fmt.Errorf("deleting app: %w", err)
	}
	return nil
}

// Domains lists an app's domain claims.
func (m *Manager) Domains(ctx context.Context, appID string) ([]Domain, error) {
	rows, err := m.pool.Query(ctx, `SELECT id, app_id, pattern FROM domains WHERE app_id = $1 ORDER BY pattern`, appID)
	if err != nil {
		return nil, fmt.Errorf("listing domains: %w", err)
	}
	ds, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (Domain, error) {
		var d Domain
		return d, r.Scan(&d.ID, &d.AppID, &d.Pattern)
	})
	if err != nil {
		return nil, fmt.Errorf("listing domains: %w", err)
	}
	return ds, nil
}

// ClaimDomain claims a domain pattern for an app. The pattern is checked
// with the edge's own parser and refused when its shape collides with any
// existing claim (of any app).
func (m *Manager) ClaimDomain(ctx context.Context, appID, pattern string) (Domain, error) {
	dom, err := route.ParseDomain(pattern)
	if err != nil {
		return Domain{}, patternError(err)
	}
	var d Domain
	err = pgx.BeginFunc(ctx, m.pool, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock($1)`, domainsLock); err != nil {
			return err
		}
		rows, err := tx.Query(ctx, `SELECT d.id, d.pattern, d.app_id, a.slug FROM domains d JOIN apps a ON a.id = d.app_id`)
		if err != nil {
			return err
		}
		slugs := map[string]string{}
		claims, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (route.Claim, error) {
			var c route.Claim
			var slug string
			err := r.Scan(&c.ID, &c.Pattern, &c.AppID, &slug)
			slugs[c.ID] = slug
			return c, err
		})
		if err != nil {
			return err
		}
		table, _ := route.BuildDomainTable(claims)
		if err := table.Check(route.Claim{Pattern: dom.String(), AppID: appID}); err != nil {
			var ce *route.ClaimConflictError
			if errors.As(err, &ce) {
				return conflict("domain_conflict", ce.Error(), map[string]any{
					"conflicting_claim": map[string]any{"id": ce.Existing.ID, "pattern": ce.Existing.Pattern,
						"app_id": ce.Existing.AppID, "app": slugs[ce.Existing.ID]},
				})
			}
			return patternError(err)
		}
		err = tx.QueryRow(ctx, `INSERT INTO domains (app_id, pattern) VALUES ($1, $2) RETURNING id, app_id, pattern`,
			appID, dom.String()).Scan(&d.ID, &d.AppID, &d.Pattern)
		if err != nil {
			return err
		}
		return announce(ctx, tx, "routing")
	})
	var e *Error
	if errors.As(err, &e) {
		return Domain{}, e
	}
	if err != nil {
		return Domain{}, fmt.Errorf("claiming domain: %w", err)
	}
	return d, nil
}

// ReleaseDomain releases an app's claim, named by id or pattern.
func (m *Manager) ReleaseDomain(ctx context.Context, appID, ref string) error {
	col := "pattern"
	if uuidPattern.MatchString(ref) {
		col = "id::text"
	} else if dom, err := route.ParseDomain(ref); err == nil {
		ref = dom.String()
	}
	err := pgx.BeginFunc(ctx, m.pool, func(tx pgx.Tx) error {
		tag, err := tx.Exec(ctx, `DELETE FROM domains WHERE app_id = $1 AND `+col+` = $2`, appID, ref)
		if err != nil {
			return err
		}
		if tag.RowsAffected() == 0 {
			return notFound("domain", ref)
		}
		return announce(ctx, tx, "routing")
	})
	var e *Error
	if errors.As(err, &e) {
		return e
	}
	if err != nil {
		return fmt.Errorf("releasing domain: %w", err)
	}
	return nil
}

// patternError maps a routing parse error to a 422 that carries the exact
// parse error.
func patternError(err error) error {
	var pe *route.ParseError
	if !errors.As(err, &pe) {
		return err
	}
	code := "invalid_pattern"
	if errors.Is(err, route.ErrReserved) {
		code = "reserved_path"
	}
	return &Error{Status: http.StatusUnprocessableEntity, Code: code, Message: pe.Error(),
		Details: map[string]any{"field": pe.What, "input": pe.Input, "position": pe.Pos, "reason": pe.Msg}}
}

// Member is a user's role on one app.
type Member struct {
	UserID   string `json:"user_id"`
	Username string `json:"username"`
	Role     string `json:"role"`
}

// Members lists an app's members.
func (m *Manager) Members(ctx context.Context, appID string) ([]Member, error) {
	rows, err := m.pool.Query(ctx, `
		SELECT u.id, u.username, am.role FROM app_members am JOIN users u ON u.id = am.user_id
		WHERE am.app_id = $1 ORDER BY u.username`, appID)
	if err != nil {
		return nil, fmt.Errorf("listing members: %w", err)
	}
	ms, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (Member, error) {
		var mb Member
		return mb, r.Scan(&mb.UserID, &mb.Username, &mb.Role)
	})
	if err != nil {
		return nil, fmt.Errorf("listing members: %w", err)
	}
	return ms, nil
}

// SetMember gives a user (id or username) a role on an app.
func (m *Manager) SetMember(ctx context.Context, appID, userRef, role string) (Member, error) {
	if _, ok := appRoleCaps[role]; !ok {
		return Member{}, invalid("invalid_role", "app role %q is not one of app_admin, editor, viewer", role)
	}
	u, err := m.User(ctx, userRef)
	if err != nil {
		return Member{}, err
	}
	if _, err := m.pool.Exec(ctx, `
		INSERT INTO app_members (app_id, user_id, role) VALUES ($1, $2, $3)
		ON CONFLICT (app_id, user_id) DO UPDATE SET role = excluded.role`, appID, u.ID, role); err != nil {
		return Member{}, fmt.Errorf("setting member: %w", err)
	}
	return Member{UserID: u.ID, Username: u.Username, Role: role}, nil
}

// RemoveMember takes a user's role on an app away.
func (m *Manager) RemoveMember(ctx context.Context, appID, userRef string) error {
	u, err := m.User(ctx, userRef)
	if err != nil {
		return err
	}
	tag, err := m.pool.Exec(ctx, `DELETE FROM app_members WHERE app_id = $1 AND user_id = $2`, appID, u.ID)
	if err != nil {
		return fmt.Errorf("removing member: %w", err)
	}
	if tag.RowsAffected() == 0 {
		return notFound("member", userRef)
	}
	return nil
}
