package manager

import (
	"context"
	"errors"
	"fmt"
	"regexp"

	"github.com/jackc/pgx/v5"
)

// usersLock serialises changes of roles and activity so the last-owner and
// last-admin guards cannot be raced past.
const usersLock = 0x70_69_63_75_73_72 // "picusr"

var usernamePattern = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._@-]{0,63}$`)

// minPasswordLen is the shortest password accepted.
const minPasswordLen = 8

func validRole(role string) error {
	switch role {
	case RoleOwner, RoleAdmin, RoleMember:
		return nil
	}
	return invalid("invalid_role", "role %q is not one of owner, admin, member", role)
}

func validPassword(pw string) error {
	if len(pw) < minPasswordLen {
		return invalid("weak_password", "a password needs at least %d characters", minPasswordLen)
	}
	if len(pw) > 1024 {
		return invalid("invalid_password", "a password may have at most 1024 characters")
	}
	return nil
}

// User finds a user by id or username.
func (m *Manager) User(ctx context.Context, ref string) (User, error) {
	col := "username"
	if uuidPattern.MatchString(ref) {
		col = "id::text"
	}
	var u User
	err := m.pool.QueryRow(ctx, `SELECT id, username, role, active FROM users WHERE `+col+` = $1`, ref).
		Scan(&u.ID, &u.Username, &u.Role, &u.Active)
	if errors.Is(err, pgx.ErrNoRows) {
		return User{}, notFound("user", ref)
	}
	if err != nil {
		return User{}, fmt.Errorf("loading user: %w", err)
	}
	return u, nil
}

// Users lists every user.
func (m *Manager) Users(ctx context.Context) ([]User, error) {
	rows, err := m.pool.Query(ctx, `SELECT id, username, role, active FROM users ORDER BY username`)
	if err != nil {
		return nil, fmt.Errorf("listing users: %w", err)
	}
	us, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (User, error) {
		var u User
		return u, r.Scan(&u.ID, &u.Username, &u.Role, &u.Active)
	})
	if err != nil {
		return nil, fmt.Errorf("listing users: %w", err)
	}
	return us, nil
}

// CreateUser creates an active user.
func (m *Manager) CreateUser(ctx context.Context, username, password, role string) (User, error) {
	if !usernamePattern.MatchString(username) {
		return User{}, invalid("invalid_username", "username %q must match %s", username, usernamePattern)
	}
	if err := validRole(role); err != nil {
		return User{}, err
	}
	if err := validPassword(password); err != nil {
		return User{}, err
	}
	hash, err := m.hashPassword(password)
	if err != nil {
		return User{}, err
	}
	var u User
	err = m.pool.QueryRow(ctx, `
		INSERT INTO users (username, password_hash, role) VALUES ($1, $2, $3)
		RETURNING id, username, role, active`, username, hash, role).Scan(&u.ID, &u.Username, &u.Role, &u.Active)
	if isUniqueViolation(err) {
		return User{}, conflict("user_exists", fmt.Sprintf("a user named %q already exists", username), map[string]any{"username": username})
	}
	if err != nil {
		return User{}, fmt.Errorf("creating user: %w", err)
	}
	return u, nil
}

// UserUpdate changes a user; nil fields stay as they are.
type UserUpdate struct {
	Role   *string
	Active *bool
}

// checkAdminGuards refuses a change that would leave the instance without
// an active owner or without an active admin (owners count as admins).
func checkAdminGuards(ctx context.Context, tx pgx.Tx) error {
	var owners, admins int
	if err := tx.QueryRow(ctx, `
		SELECT count(*) FILTER (WHERE role = 'owner' AND active), count(*) FILTER (WHERE role IN ('owner', 'admin') AND active)
		FROM users`).Scan(&owners, &admins); err != nil {
		return fmt.Errorf("counting admins: %w", err)
	}
	if owners == 0 {
		return conflict("last_owner", "this would leave the instance without an active owner; make another user owner first", nil)
	}
	if admins == 0 {
		return conflict("last_admin", "this would leave the instance without an active admin", nil)
	}
	return nil
}

// wipeCredentials ends every session and revokes every API key of a user.
func wipeCredentials(ctx context.Context, tx pgx.Tx, userID string) error {
	if _, err := tx.Exec(ctx, `DELETE FROM sessions WHERE user_id = $1`, userID); err != nil {
		return fmt.Errorf("ending sessions: %w", err)
	}
	if _, err := tx.Exec(ctx, `DELETE FROM api_keys WHERE user_id = $1`, userID); err != nil {
		return fmt.Errorf("revoking keys: %w", err)
	}
	return nil
}

// UpdateUser changes a user's role or activity. Deactivating a user ends
// its sessions and revokes its API keys.
func (m *Manager) UpdateUser(ctx context.Context, id string, up UserUpdate) (User, error) {
	if up.Role != nil {
		if err := validRole(*up.Role); err != nil {
			return User{}, err
		}
	}
	var u User
	err := pgx.BeginFunc(ctx, m.pool, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock($1)`, usersLock); err != nil {
			return err
		}
		err := tx.QueryRow(ctx, `
			UPDATE users SET role = coalesce($2, role), active = coalesce($3, active), updated_at = now()
			WHERE id = $1 RETURNING id, username, role, active`, id, up.Role, up.Active).
			Scan(&u.ID, &u.Username, &u.Role, &u.Active)
		if errors.Is(err, pgx.ErrNoRows) {
			return notFound("user", id)
		}
		if err != nil {
			return err
		}
		if err := checkAdminGuards(ctx, tx); err != nil {
			return err
		}
		if !u.Active {
			return wipeCredentials(ctx, tx, id)
		}
		return nil
	})
	var e *Error
	if errors.As(err, &e) {
		return User{}, e
	}
	if err != nil {
		return User{}, fmt.Errorf("updating user: %w", err)
	}
	return u, nil
}

// DeleteUser deletes a user with its sessions, keys and app roles.
func (m *Manager) DeleteUser(ctx context.Context, id string) error {
	err := pgx.BeginFunc(ctx, m.pool, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock($1)`, usersLock); err != nil {
			return err
		}
		tag, err := tx.Exec(ctx, `DELETE FROM users WHERE id = $1`, id)
		if err != nil {
			return err
		}
		if tag.RowsAffected() == 0 {
			return notFound("user", id)
		}
		return checkAdminGuards(ctx, tx)
	})
	var e *Error
	if errors.As(err, &e) {
		return e
	}
	if err != nil {
		return fmt.Errorf("deleting user: %w", err)
	}
	return nil
}

// SetPassword sets a user's password and ends every session of the user
// except keepToken's (the caller's own, when changing its own password).
func (m *Manager) SetPassword(ctx context.Context, userRef, password, keepToken string) error {
	if err := validPassword(password); err != nil {
		return err
	}
	u, err := m.User(ctx, userRef)
	if err != nil {
		return err
	}
	hash, err := m.hashPassword(password)
	if err != nil {
		return err
	}
	return pgx.BeginFunc(ctx, m.pool, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `UPDATE users SET password_hash = $2, updated_at = now() WHERE id = $1`, u.ID, hash); err != nil {
			return fmt.Errorf("setting password: %w", err)
		}
		if _, err := tx.Exec(ctx, `DELETE FROM sessions WHERE user_id = $1 AND token_hash <> $2`, u.ID, hashToken(keepToken)); err != nil {
			return fmt.Errorf("ending sessions: %w", err)
		}
		return nil
	})
}

// ChangePassword changes a user's own password after checking the current
// one; the session keepToken stays open.
func (m *Manager) ChangePassword(ctx context.Context, userID, current, password, keepToken string) error {
	var hash string
	if err := m.pool.QueryRow(ctx, `SELECT password_hash FROM users WHERE id = $1`, userID).Scan(&hash); err != nil {
		return fmt.Errorf("loading user: %w", err)
	}
	ok, err := verifyPassword(hash, current)
	if err != nil {
		return fmt.Errorf("checking password: %w", err)
	}
	if !ok {
		return invalid("wrong_password", "the current password is wrong")
	}
	return m.SetPassword(ctx, userID, password, keepToken)
}

// ResetPassword sets a new password for a user, reactivates it and ends
// all its sessions: the recovery path of `picloud admin reset-password`.
func (m *Manager) ResetPassword(ctx context.Context, username, password string) error {
	if err := m.SetPassword(ctx, username, password, ""); err != nil {
		return err
	}
	_, err := m.pool.Exec(ctx, `UPDATE users SET active = true WHERE username = $1`, username)
	if err != nil {
		return fmt.Errorf("reactivating user: %w", err)
	}
	return nil
}
