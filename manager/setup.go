package manager

import (
	"context"
	"crypto/rand"
	"encoding/base32"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/gin-gonic/gin"
)

// First-run setup. A node started without PICLOUD_ADMIN_PASSWORD on an
// empty database has no way in; instead it gets a one-time setup token
// (shown in its log and written to a file only root can read), and the
// dashboard's first-run screen trades it for the first owner.
//
// Tokens live in Postgres, hashed, so that several nodes sharing one
// database each hold a valid token and any of them works; the first
// successful setup marks them all used.

var (
	// ErrSetupDone means an owner or admin exists: setup is over.
	ErrSetupDone = errors.New("setup is already complete")
	// ErrBadSetupToken means the token is unknown or used.
	ErrBadSetupToken = errors.New("invalid setup token")
)

// newSetupToken returns 128 random bits as 26 lower-case base32 letters:
// easy to copy from a terminal, hopeless to guess.
func newSetupToken() (string, error) {
	b := make([]byte, 16)
	if _, err := rand.Read(b); err != nil {
		return "", fmt.Errorf("generating setup token: %w", err)
	}
	return strings.ToLower(base32.StdEncoding.WithPadding(base32.NoPadding).EncodeToString(b)), nil
}

// SetupNeeded reports whether no owner or admin exists yet.
func (m *Manager) SetupNeeded(ctx context.Context) (bool, error) {
	var exists bool
	if err := m.pool.QueryRow(ctx,
		`SELECT EXISTS (SELECT 1 FROM users WHERE role IN ('owner', 'admin'))`).Scan(&exists); err != nil {
		return false, fmt.Errorf("checking for admins: %w", err)
	}
	return !exists, nil
}

// EnsureSetupToken returns a valid setup token when setup is needed, and
// "" when it is not. keep is the token this node issued before (from its
// file): it is returned again while it is still unused, so a restart does
// not invalidate what the operator already copied.
func (m *Manager) EnsureSetupToken(ctx context.Context, keep string) (string, error) {
	needed, err := m.SetupNeeded(ctx)
	if err != nil || !needed {
		return "", err
	}
	if keep != "" {
		var ok bool
		if err := m.pool.QueryRow(ctx,
			`SELECT EXISTS (SELECT 1 FROM setup_tokens WHERE token_hash = $1 AND used_at IS NULL)`,
			hashToken(keep)).Scan(&ok); err != nil {
			return "", fmt.Errorf("checking setup token: %w", err)
		}
		if ok {
			return keep, nil
		}
	}
	tok, err := newSetupToken()
	if err != nil {
		return "", err
	}
	if _, err := m.pool.Exec(ctx, `INSERT INTO setup_tokens (token_hash) VALUES ($1)`, hashToken(tok)); err != nil {
		return "", fmt.Errorf("storing setup token: %w", err)
	}
	return tok, nil
}

// CompleteSetup creates the first owner with a setup token and logs it in.
// It answers ErrSetupDone once an owner or admin exists (whatever the
// token) and ErrBadSetupToken for a token that is unknown or used.
func (m *Manager) CompleteSetup(ctx context.Context, token, username, password string) (Session, error) {
	tx, err := m.pool.Begin(ctx)
	if err != nil {
		return Session{}, fmt.Errorf("starting setup: %w", err)
	}
	defer func() { _ = tx.Rollback(ctx) }()
	// Serialised with other setups (on any node) and user changes, so two
	// concurrent setups cannot both create an owner.
	if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock($1)`, usersLock); err != nil {
		return Session{}, fmt.Errorf("locking users: %w", err)
	}
	var exists bool
	if err := tx.QueryRow(ctx,
		`SELECT EXISTS (SELECT 1 FROM users WHERE role IN ('owner', 'admin'))`).Scan(&exists); err != nil {
		return Session{}, fmt.Errorf("checking for admins: %w", err)
	}
	if exists {
		return Session{}, ErrSetupDone
	}
	var valid bool
	if token != "" {
		if err := tx.QueryRow(ctx,
			`SELECT EXISTS (SELECT 1 FROM setup_tokens WHERE token_hash = $1 AND used_at IS NULL)`,
			hashToken(token)).Scan(&valid); err != nil {
			return Session{}, fmt.Errorf("checking setup token: %w", err)
		}
	}
	if !valid {
		return Session{}, ErrBadSetupToken
	}
	if !usernamePattern.MatchString(username) {
		return Session{}, invalid("invalid_username", "username %q must match %s", username, usernamePattern)
	}
	if err := validPassword(password); err != nil {
		return Session{}, err
	}
	hash, err := m.hashPassword(password)
	if err != nil {
		return Session{}, err
	}
	u := User{Username: username, Role: RoleOwner}
	err = tx.QueryRow(ctx, `
		INSERT INTO users (username, password_hash, role) VALUES ($1, $2, 'owner')
		RETURNING id, active`, username, hash).Scan(&u.ID, &u.Active)
	if isUniqueViolation(err) {
		// A member with that name exists; setup never promotes anyone.
		return Session{}, conflict("user_exists", fmt.Sprintf("a user named %q already exists; choose another name", username), map[string]any{"username": username})
	}
	if err != nil {
		return Session{}, fmt.Errorf("creating owner: %w", err)
	}
	if _, err := tx.Exec(ctx, `UPDATE setup_tokens SET used_at = now() WHERE used_at IS NULL`); err != nil {
		return Session{}, fmt.Errorf("retiring setup tokens: %w", err)
	}
	s, err := m.openSession(ctx, tx, u)
	if err != nil {
		return Session{}, err
	}
	if err := tx.Commit(ctx); err != nil {
		return Session{}, fmt.Errorf("committing setup: %w", err)
	}
	m.log.Info("first owner created through the setup token", "username", username)
	return s, nil
}

func (m *Manager) handleSetupStatus(c *gin.Context) {
	needed, err := m.SetupNeeded(c.Request.Context())
	if err != nil {
		m.abort(c, err)
		return
	}
	c.JSON(http.StatusOK, gin.H{"needed": needed})
}

func (m *Manager) handleSetup(c *gin.Context) {
	var in struct {
		Token    string `json:"token"`
		Username string `json:"username"`
		Password string `json:"password"`
	}
	if err := bindJSON(c, &in); err != nil {
		m.abort(c, err)
		return
	}
	// Throttled per client address only: a per-"account" count would let
	// anyone lock the owner out of setup by spraying wrong tokens.
	addr := c.ClientIP()
	if ok, wait := m.setupLimiter.allow(addr, addr, m.now()); !ok {
		secs := int(wait/time.Second) + 1
		c.Header("Retry-After", fmt.Sprint(secs))
		m.abort(c, &Error{Status: http.StatusTooManyRequests, Code: "rate_limited",
			Message: fmt.Sprintf("too many wrong setup tokens; retry in %d seconds", secs), Details: map[string]any{"retry_after": secs}})
		return
	}
	s, err := m.CompleteSetup(c.Request.Context(), strings.TrimSpace(in.Token), in.Username, in.Password)
	switch {
	case errors.Is(err, ErrSetupDone):
		m.abort(c, conflict("setup_done", "setup is already complete: log in instead", nil))
		return
	case errors.Is(err, ErrBadSetupToken):
		m.setupLimiter.fail(addr, addr, m.now())
		m.abort(c, &Error{Status: http.StatusForbidden, Code: "bad_setup_token",
			Message: "the setup token is wrong or already used; it is in the node's log and in setup-token in its data directory"})
		return
	case err != nil:
		m.abort(c, err)
		return
	}
	m.startSession(c, http.StatusCreated, s)
}
