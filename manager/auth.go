package manager

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
)

// Sentinel errors of authentication.
var (
	// ErrBadCredentials covers unknown users, wrong passwords and inactive
	// accounts alike, so a caller cannot tell which.
	ErrBadCredentials = errors.New("invalid username or password")
	// ErrUnauthenticated means a token is missing, unknown or expired.
	ErrUnauthenticated = errors.New("not authenticated")
)

// User is an admin account.
type User struct {
	ID       string `json:"id"`
	Username string `json:"username"`
	Role     string `json:"role"`
	Active   bool   `json:"active"`
}

// Session is a login session as the client sees it.
type Session struct {
	Token     string    `json:"token"`
	ExpiresAt time.Time `json:"expires_at"`
	User      User      `json:"user"`
}

func hashToken(token string) []byte {
	sum := sha256.Sum256([]byte(token))
	return sum[:]
}

// newToken returns an opaque 32-byte random token.
func newToken() (string, error) {
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		return "", fmt.Errorf("generating token: %w", err)
	}
	return base64.RawURLEncoding.EncodeToString(b), nil
}

// Login checks a username and password and opens a session.
func (m *Manager) Login(ctx context.Context, username, password string) (Session, error) {
	var u User
	var hash string
	err := m.pool.QueryRow(ctx,
		`SELECT id, username, role, active, password_hash FROM users WHERE username = $1`, username).
		Scan(&u.ID, &u.Username, &u.Role, &u.Active, &hash)
	if errors.Is(err, pgx.ErrNoRows) {
		// Spend the same time as a real check so timing does not reveal
		// which usernames exist.
		_, _ = verifyPassword(dummyHash, password)
		return Session{}, ErrBadCredentials
	}
	if err != nil {
		return Session{}, fmt.Errorf("looking up user: %w", err)
	}
	ok, err := verifyPassword(hash, password)
	if err != nil {
		return Session{}, fmt.Errorf("checking password of %s: %w", username, err)
	}
	if !ok || !u.Active {
		return Session{}, ErrBadCredentials
	}
	return m.openSession(ctx, m.pool, u)
}

// execer is a pool or a transaction.
type execer interface {
	Exec(ctx context.Context, sql string, args ...any) (pgconn.CommandTag, error)
}

// openSession stores a new session of u through q.
func (m *Manager) openSession(ctx context.Context, q execer, u User) (Session, error) {
	token, err := newToken()
	if err != nil {
		return Session{}, err
	}
	expires := m.now().Add(m.sessionTTL)
	if _, err := q.Exec(ctx,
		`INSERT INTO sessions (token_hash, user_id, expires_at) VALUES ($1, $2, $3)`,
		hashToken(token), u.ID, expires); err != nil {
		return Session{}, fmt.Errorf("storing session: %w", err)
	}
	return Session{Token: token, ExpiresAt: expires, User: u}, nil
}

// Authenticate resolves a session token to its user and slides the
// session's expiry forward.
func (m *Manager) Authenticate(ctx context.Context, token string) (User, error) {
	if token == "" {
		return User{}, ErrUnauthenticated
	}
	var u User
	err := m.pool.QueryRow(ctx, `
		UPDATE sessions s SET last_seen_at = now(), expires_at = $2
		FROM users u
		WHERE s.token_hash = $1 AND s.expires_at > now() AND u.id = s.user_id AND u.active
		RETURNING u.id, u.username, u.role, u.active`,
		hashToken(token), m.now().Add(m.sessionTTL)).Scan(&u.ID, &u.Username, &u.Role, &u.Active)
	if errors.Is(err, pgx.ErrNoRows) {
		return User{}, ErrUnauthenticated
	}
	if err != nil {
		return User{}, fmt.Errorf("checking session: %w", err)
	}
	return u, nil
}

// Logout ends the session of token.
func (m *Manager) Logout(ctx context.Context, token string) error {
	if _, err := m.pool.Exec(ctx, `DELETE FROM sessions WHERE token_hash = $1`, hashToken(token)); err != nil {
		return fmt.Errorf("deleting session: %w", err)
	}
	return nil
}

// dummyHash is verified against when a username is unknown.
const dummyHash = "$argon2id$v=19$m=19456,t=2,p=1$c29tZXNhbHRzb21lc2FsdA$2Xr0n3J2a8cUXEwZ2bq5o8gk3hWf0vJmBf7a2nF1Q4E"

// BootstrapResult says what EnsureAdmin did.
type BootstrapResult struct {
	Created  bool
	Username string
	// Password is set only when EnsureAdmin generated it.
	Password string
}

// EnsureAdmin creates the first owner when no admin exists. An empty
// password is generated when generate is true; otherwise nothing is created.
// Once any owner or admin exists it does nothing.
func (m *Manager) EnsureAdmin(ctx context.Context, username, password string, generate bool) (BootstrapResult, error) {
	var exists bool
	if err := m.pool.QueryRow(ctx,
		`SELECT EXISTS (SELECT 1 FROM users WHERE role IN ('owner', 'admin'))`).Scan(&exists); err != nil {
		return BootstrapResult{}, fmt.Errorf("checking for admins: %w", err)
	}
	if exists {
		return BootstrapResult{}, nil
	}
	if username == "" {
		username = "admin"
	}
	res := BootstrapResult{Username: username}
	if password == "" {
		if !generate {
			return BootstrapResult{}, nil
		}
		p, err := newToken()
		if err != nil {
			return BootstrapResult{}, err
		}
		password = p[:20]
		res.Password = password
	}
	hash, err := m.hashPassword(password)
	if err != nil {
		return BootstrapResult{}, err
	}
	tag, err := m.pool.Exec(ctx, `
		INSERT INTO users (username, password_hash, role) VALUES ($1, $2, 'owner')
		ON CONFLICT (username) DO NOTHING`, username, hash)
	if err != nil {
		return BootstrapResult{}, fmt.Errorf("creating first admin: %w", err)
	}
	res.Created = tag.RowsAffected() == 1
	if !res.Created {
		return BootstrapResult{}, fmt.Errorf("creating first admin: user %q exists but is not an admin", username)
	}
	m.log.Info("created first admin", "username", username)
	return res, nil
}
