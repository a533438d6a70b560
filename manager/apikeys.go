package manager

import (
	"context"
	"crypto/rand"
	"crypto/subtle"
	"encoding/base32"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
)

// keyPrefix starts every API key; keyPrefixLen characters after it are
// stored in clear and indexed to find the key's hash.
const (
	keyPrefix    = "pic_"
	keyPrefixLen = 8
)

var keyEncoding = base32.StdEncoding.WithPadding(base32.NoPadding)

// APIKey is an API key as listed (never with its secret).
type APIKey struct {
	ID         string     `json:"id"`
	UserID     string     `json:"user_id"`
	Name       string     `json:"name"`
	Prefix     string     `json:"prefix"`
	Scopes     []string   `json:"scopes"`
	AppID      string     `json:"app_id,omitempty"`
	ExpiresAt  *time.Time `json:"expires_at,omitempty"`
	LastUsedAt *time.Time `json:"last_used_at,omitempty"`
	CreatedAt  time.Time  `json:"created_at"`
}

// NewAPIKey answers a key creation: the only time the clear key is shown.
type NewAPIKey struct {
	APIKey
	Key string `json:"key"`
}

// KeyInput describes a key to create.
type KeyInput struct {
	UserID    string
	Name      string
	Scopes    []string
	AppID     string
	ExpiresAt *time.Time
}

func newAPIKeySecret() (string, error) {
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		return "", fmt.Errorf("generating key: %w", err)
	}
	return keyPrefix + strings.ToLower(keyEncoding.EncodeToString(b)), nil
}

func validateScopes(scopes []string, appID string) error {
	if len(scopes) == 0 {
		return invalid("invalid_scopes", "a key needs at least one scope (%s)", strings.Join(Scopes, ", "))
	}
	for _, s := range scopes {
		if !slices.Contains(Scopes, s) {
			return invalid("invalid_scopes", "unknown scope %q (%s)", s, strings.Join(Scopes, ", "))
		}
		if s == ScopeInstance && appID != "" {
			return invalid("invalid_scopes", "a key bound to an app cannot hold %s", ScopeInstance)
		}
	}
	return nil
}

// CreateKey creates an API key and returns it with its secret, once.
func (m *Manager) CreateKey(ctx context.Context, in KeyInput) (NewAPIKey, error) {
	if err := validateScopes(in.Scopes, in.AppID); err != nil {
		return NewAPIKey{}, err
	}
	if len(in.Name) > 100 {
		return NewAPIKey{}, invalid("invalid_name", "key name is longer than 100 characters")
	}
	if in.ExpiresAt != nil && !in.ExpiresAt.After(m.now()) {
		return NewAPIKey{}, invalid("invalid_expiry", "expires_at is in the past")
	}
	secret, err := newAPIKeySecret()
	if err != nil {
		return NewAPIKey{}, err
	}
	var app any
	if in.AppID != "" {
		app = in.AppID
	}
	out := NewAPIKey{Key: secret}
	k := &out.APIKey
	err = m.pool.QueryRow(ctx, `
		INSERT INTO api_keys (user_id, name, prefix, key_hash, scopes, app_id, expires_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7)
		RETURNING id, user_id, name, prefix, scopes, coalesce(app_id::text, ''), expires_at, last_used_at, created_at`,
		in.UserID, in.Name, secret[len(keyPrefix):len(keyPrefix)+keyPrefixLen], hashToken(secret), in.Scopes, app, in.ExpiresAt).
		Scan(&k.ID, &k.UserID, &k.Name, &k.Prefix, &k.Scopes, &k.AppID, &k.ExpiresAt, &k.LastUsedAt, &k.CreatedAt)
	if err != nil {
		return NewAPIKey{}, fmt.Errorf("storing key: %w", err)
	}
	return out, nil
}

const keyColumns = `id, user_id, name, prefix, scopes, coalesce(app_id::text, ''), expires_at, last_used_at, created_at`

func scanKey(row pgx.Row) (APIKey, error) {
	var k APIKey
	err := row.Scan(&k.ID, &k.UserID, &k.Name, &k.Prefix, &k.Scopes, &k.AppID, &k.ExpiresAt, &k.LastUsedAt, &k.CreatedAt)
	return k, err
}

// Keys lists a user's API keys.
func (m *Manager) Keys(ctx context.Context, userID string) ([]APIKey, error) {
	rows, err := m.pool.Query(ctx, `SELECT `+keyColumns+` FROM api_keys WHERE user_id = $1 ORDER BY created_at, id`, userID)
	if err != nil {
		return nil, fmt.Errorf("listing keys: %w", err)
	}
	ks, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (APIKey, error) { return scanKey(r) })
	if err != nil {
		return nil, fmt.Errorf("listing keys: %w", err)
	}
	return ks, nil
}

// Key returns one API key by id.
func (m *Manager) Key(ctx context.Context, id string) (APIKey, error) {
	if !uuidPattern.MatchString(id) {
		return APIKey{}, notFound("key", id)
	}
	k, err := scanKey(m.pool.QueryRow(ctx, `SELECT `+keyColumns+` FROM api_keys WHERE id = $1`, id))
	if errors.Is(err, pgx.ErrNoRows) {
		return APIKey{}, notFound("key", id)
	}
	if err != nil {
		return APIKey{}, fmt.Errorf("loading key: %w", err)
	}
	return k, nil
}

// DeleteKey revokes an API key at once.
func (m *Manager) DeleteKey(ctx context.Context, id string) error {
	if !uuidPattern.MatchString(id) {
		return notFound("key", id)
	}
	tag, err := m.pool.Exec(ctx, `DELETE FROM api_keys WHERE id = $1`, id)
	if err != nil {
		return fmt.Errorf("deleting key: %w", err)
	}
	if tag.RowsAffected() == 0 {
		return notFound("key", id)
	}
	return nil
}

// AuthenticateKey resolves a clear API key to its user and key.
func (m *Manager) AuthenticateKey(ctx context.Context, secret string) (User, APIKey, error) {
	if !strings.HasPrefix(secret, keyPrefix) || len(secret) < len(keyPrefix)+keyPrefixLen {
		return User{}, APIKey{}, ErrUnauthenticated
	}
	rows, err := m.pool.Query(ctx, `
		SELECT k.key_hash, k.id, k.user_id, k.name, k.prefix, k.scopes, coalesce(k.app_id::text, ''), k.expires_at, k.last_used_at, k.created_at,
		       u.username, u.role, u.active
		FROM api_keys k JOIN users u ON u.id = k.user_id
		WHERE k.prefix = $1 AND u.active AND (k.expires_at IS NULL OR k.expires_at > $2)`,
		secret[len(keyPrefix):len(keyPrefix)+keyPrefixLen], m.now())
	if err != nil {
		return User{}, APIKey{}, fmt.Errorf("checking key: %w", err)
	}
	defer rows.Close()
	want := hashToken(secret)
	for rows.Next() {
		var hash []byte
		var k APIKey
		u := User{}
		if err := rows.Scan(&hash, &k.ID, &k.UserID, &k.Name, &k.Prefix, &k.Scopes, &k.AppID, &k.ExpiresAt, &k.LastUsedAt, &k.CreatedAt,
			&u.Username, &u.Role, &u.Active); err != nil {
			return User{}, APIKey{}, fmt.Errorf("checking key: %w", err)
		}
		if subtle.ConstantTimeCompare(hash, want) == 1 {
			u.ID = k.UserID
			rows.Close()
			// Record use at most once a minute, to spare an SD card.
			if k.LastUsedAt == nil || m.now().Sub(*k.LastUsedAt) > time.Minute {
				if _, err := m.pool.Exec(ctx, `UPDATE api_keys SET last_used_at = now() WHERE id = $1`, k.ID); err != nil {
					m.log.Warn("recording key use", "err", err)
				}
			}
			return u, k, nil
		}
	}
	if err := rows.Err(); err != nil {
		return User{}, APIKey{}, fmt.Errorf("checking key: %w", err)
	}
	return User{}, APIKey{}, ErrUnauthenticated
}
