package manager

import (
	"context"
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
)

// SecretKeySize is the size of the AES-256 key secrets are sealed with.
const SecretKeySize = 32

// MaxSecretBytes bounds one secret's value.
const MaxSecretBytes = 64 << 10

// ErrNoSecretKey means the manager was opened without a secret key.
var ErrNoSecretKey = errors.New("no secret key configured")

// SecretInfo describes a secret without its value, which is never returned
// through the API.
type SecretInfo struct {
	Name      string    `json:"name"`
	CreatedAt time.Time `json:"created_at"`
	UpdatedAt time.Time `json:"updated_at"`
}

func (m *Manager) secretAEAD() (cipher.AEAD, error) {
	if len(m.secretKey) != SecretKeySize {
		return nil, ErrNoSecretKey
	}
	block, err := aes.NewCipher(m.secretKey)
	if err != nil {
		return nil, fmt.Errorf("secret key: %w", err)
	}
	return cipher.NewGCM(block)
}

func secretAD(appID, name string) []byte { return []byte(appID + "\x00" + name) }

// PutSecret stores (or replaces) an app's secret, encrypted.
func (m *Manager) PutSecret(ctx context.Context, appRef, name string, value []byte) (SecretInfo, error) {
	if !bindingName.MatchString(name) {
		return SecretInfo{}, invalid("invalid_secret_name", "secret name %q must be an identifier (letters, digits, _ and $, not starting with a digit)", name)
	}
	if len(value) > MaxSecretBytes {
		return SecretInfo{}, invalid("secret_too_large", "secret value is %d bytes; the limit is %d", len(value), MaxSecretBytes)
	}
	aead, err := m.secretAEAD()
	if err != nil {
		return SecretInfo{}, err
	}
	app, err := resolveApp(ctx, m.pool, appRef)
	if err != nil {
		return SecretInfo{}, err
	}
	nonce := make([]byte, aead.NonceSize())
	if _, err := rand.Read(nonce); err != nil {
		return SecretInfo{}, fmt.Errorf("generating nonce: %w", err)
	}
	sealed := aead.Seal(nil, nonce, value, secretAD(app.ID, name))
	info := SecretInfo{Name: name}
	err = pgx.BeginFunc(ctx, m.pool, func(tx pgx.Tx) error {
		if err := tx.QueryRow(ctx, `
			INSERT INTO secrets (app_id, name, nonce, ciphertext) VALUES ($1, $2, $3, $4)
			ON CONFLICT (app_id, name) DO UPDATE SET nonce = EXCLUDED.nonce, ciphertext = EXCLUDED.ciphertext, updated_at = now()
			RETURNING created_at, updated_at`, app.ID, name, nonce, sealed).Scan(&info.CreatedAt, &info.UpdatedAt); err != nil {
			return fmt.Errorf("storing secret: %w", err)
		}
		return announce(ctx, tx, "secret:"+app.ID)
	})
	return info, err
}

// Secrets lists an app's secret names.
func (m *Manager) Secrets(ctx context.Context, appRef string) ([]SecretInfo, error) {
	app, err := resolveApp(ctx, m.pool, appRef)
	if err != nil {
		return nil, err
	}
	rows, err := m.pool.Query(ctx, `SELECT name, created_at, updated_at FROM secrets WHERE app_id = $1 ORDER BY name`, app.ID)
	if err != nil {
		return nil, fmt.Errorf("listing secrets: %w", err)
	}
	return pgx.CollectRows(rows, func(r pgx.CollectableRow) (SecretInfo, error) {
		var s SecretInfo
		return s, r.Scan(&s.Name, &s.CreatedAt, &s.UpdatedAt)
	})
}

// DeleteSecret removes an app's secret.
func (m *Manager) DeleteSecret(ctx context.Context, appRef, name string) error {
	app, err := resolveApp(ctx, m.pool, appRef)
	if err != nil {
		return err
	}
	return pgx.BeginFunc(ctx, m.pool, func(tx pgx.Tx) error {
		tag, err := tx.Exec(ctx, `DELETE FROM secrets WHERE app_id = $1 AND name = $2`, app.ID, name)
		if err != nil {
			return fmt.Errorf("deleting secret: %w", err)
		}
		if tag.RowsAffected() == 0 {
			return notFound("secret", name)
		}
		return announce(ctx, tx, "secret:"+app.ID)
	})
}

// SecretValue decrypts an app's secret for binding into a script's env. The
// app id must come from the execution context, never from the script.
func (m *Manager) SecretValue(ctx context.Context, appID, name string) ([]byte, bool, error) {
	aead, err := m.secretAEAD()
	if err != nil {
		return nil, false, err
	}
	var nonce, sealed []byte
	err = m.pool.QueryRow(ctx, `SELECT nonce, ciphertext FROM secrets WHERE app_id = $1 AND name = $2`, appID, name).
		Scan(&nonce, &sealed)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, false, nil
	}
	if err != nil {
		return nil, false, fmt.Errorf("loading secret: %w", err)
	}
	value, err := aead.Open(nil, nonce, sealed, secretAD(appID, name))
	if err != nil {
		return nil, false, fmt.Errorf("decrypting secret %s: wrong key or tampered row: %w", name, err)
	}
	return value, true, nil
}
