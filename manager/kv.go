package manager

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"time"
	"unicode/utf8"

	"github.com/jackc/pgx/v5"
)

// Workers KV limits.
const (
	KVMaxKeyBytes      = 512
	KVMaxValueBytes    = 25 << 20
	KVMaxMetadataBytes = 1024
	KVMinTTL           = 60 * time.Second
	KVMaxListLimit     = 1000
)

// ErrKVInvalid is wrapped by every refusal of a KV call's arguments; the
// message is the one Workers gives.
var ErrKVInvalid = errors.New("invalid kv request")

// KVEntry is one stored value.
type KVEntry struct {
	Key        string
	Value      []byte
	Metadata   json.RawMessage // nil when none
	Expiration time.Time       // zero when none
}

// KVPutOptions are put's options, as Workers names them.
type KVPutOptions struct {
	// Expiration is an absolute time in seconds since the epoch.
	Expiration int64
	// ExpirationTTL is a lifetime in seconds from now.
	ExpirationTTL int64
	Metadata      json.RawMessage
}

// KVListOptions page through keys in bytewise order.
type KVListOptions struct {
	Prefix string
	Limit  int
	Cursor string
}

// KVKey is one key of a list.
type KVKey struct {
	Name       string          `json:"name"`
	Expiration int64           `json:"expiration,omitempty"`
	Metadata   json.RawMessage `json:"metadata,omitempty"`
}

// KVList is one page of keys.
type KVList struct {
	Keys         []KVKey `json:"keys"`
	ListComplete bool    `json:"list_complete"`
	Cursor       string  `json:"cursor,omitempty"`
}

func kvInvalid(format string, args ...any) error {
	return fmt.Errorf("%w: %s", ErrKVInvalid, fmt.Sprintf(format, args...))
}

// ValidateKVKey applies Workers' rules for key names.
func ValidateKVKey(key string) error {
	switch {
	case key == "":
		return kvInvalid("Key names must not be empty.")
	case key == "." || key == "..":
		return kvInvalid("Illegal key name %q. Please use a different name.", key)
	case len(key) > KVMaxKeyBytes:
		return kvInvalid("KV GET failed: 414 UTF-8 encoded length of %d exceeds key length limit of %d.", len(key), KVMaxKeyBytes)
	case !utf8.ValidString(key):
		return kvInvalid("Key names must be valid UTF-8.")
	}
	return nil
}

func validateNamespace(ns string) error {
	if ns == "" || len(ns) > 256 || !utf8.ValidString(ns) {
		return kvInvalid("invalid namespace %q", ns)
	}
	return nil
}

// KVGet reads a live (unexpired) key.
func (m *Manager) KVGet(ctx context.Context, appID, namespace, key string) (KVEntry, bool, error) {
	if err := validateNamespace(namespace); err != nil {
		return KVEntry{}, false, err
	}
	if err := ValidateKVKey(key); err != nil {
		return KVEntry{}, false, err
	}
	e := KVEntry{Key: key}
	var exp *time.Time
	err := m.pool.QueryRow(ctx, `
		SELECT value, metadata, expires_at FROM kv_entries
		WHERE app_id = $1 AND namespace = $2 AND key = $3 AND (expires_at IS NULL OR expires_at > now())`,
		appID, namespace, key).Scan(&e.Value, &e.Metadata, &exp)
	if errors.Is(err, pgx.ErrNoRows) {
		return KVEntry{}, false, nil
	}
	if err != nil {
		return KVEntry{}, false, fmt.Errorf("kv get: %w", err)
	}
	if exp != nil {
		e.Expiration = *exp
	}
	return e, true, nil
}

// KVPut writes a key; the last write wins.
func (m *Manager) KVPut(ctx context.Context, appID, namespace, key string, value []byte, opts KVPutOptions) error {
	if err := validateNamespace(namespace); err != nil {
		return err
	}
	row, err := m.kvRow(key, value, opts)
	if err != nil {
		return err
	}
	if _, err := m.pool.Exec(ctx, kvUpsert, appID, namespace, row.key, row.value, row.metadata, row.expiresAt); err != nil {
		return fmt.Errorf("kv put: %w", err)
	}
	return nil
}

const kvUpsert = `
	INSERT INTO kv_entries (app_id, namespace, key, value, metadata, expires_at, updated_at)
	VALUES ($1, $2, $3, $4, $5::jsonb, $6, now())
	ON CONFLICT (app_id, namespace, key) DO UPDATE
	SET value = EXCLUDED.value, metadata = EXCLUDED.metadata, expires_at = EXCLUDED.expires_at, updated_at = now()`

// kvRow is a validated write, ready for kvUpsert.
type kvRow struct {
	key       string
	value     []byte
	metadata  any // string holding JSON, or nil
	expiresAt any // time.Time, or nil
}

// kvRow applies Workers' rules to one write.
func (m *Manager) kvRow(key string, value []byte, opts KVPutOptions) (kvRow, error) {
	if err := ValidateKVKey(key); err != nil {
		return kvRow{}, err
	}
	if len(value) > KVMaxValueBytes {
		return kvRow{}, kvInvalid("Value length of %d exceeds limit of %d.", len(value), KVMaxValueBytes)
	}
	row := kvRow{key: key, value: value}
	if len(opts.Metadata) > 0 && string(opts.Metadata) != "null" {
		if len(opts.Metadata) > KVMaxMetadataBytes {
			return kvRow{}, kvInvalid("Metadata length of %d exceeds limit of %d.", len(opts.Metadata), KVMaxMetadataBytes)
		}
		if !json.Valid(opts.Metadata) {
			return kvRow{}, kvInvalid("Metadata must be JSON-serializable.")
		}
		row.metadata = string(opts.Metadata)
	}
	now := m.now()
	switch {
	case opts.Expiration != 0:
		t := time.Unix(opts.Expiration, 0)
		if t.Before(now.Add(KVMinTTL)) {
			return kvRow{}, kvInvalid("Invalid expiration of %d. Expiration times must be at least %d seconds in the future.", opts.Expiration, int(KVMinTTL.Seconds()))
		}
		row.expiresAt = t
	case opts.ExpirationTTL != 0:
		if opts.ExpirationTTL < int64(KVMinTTL.Seconds()) {
			return kvRow{}, kvInvalid("Invalid expiration_ttl of %d. Expiration TTL must be at least %d.", opts.ExpirationTTL, int(KVMinTTL.Seconds()))
		}
		row.expiresAt = now.Add(time.Duration(opts.ExpirationTTL) * time.Second)
	}
	return row, nil
}

// KVMaxBulk is how many pairs one bulk call may carry, as in Cloudflare's API.
const KVMaxBulk = 10000

// KVBulkEntry is one pair of a bulk write, in the shape of Cloudflare's
// bulk API and `wrangler kv bulk put` files.
type KVBulkEntry struct {
	Key           string          `json:"key"`
	Value         string          `json:"value"`
	Base64        bool            `json:"base64,omitempty"`
	Expiration    int64           `json:"expiration,omitempty"`
	ExpirationTTL int64           `json:"expiration_ttl,omitempty"`
	Metadata      json.RawMessage `json:"metadata,omitempty"`
}

// KVBulkPut writes every pair in one transaction: all of them, or none
// when any is refused (the error names the first refused pair).
func (m *Manager) KVBulkPut(ctx context.Context, appID, namespace string, entries []KVBulkEntry) error {
	if err := validateNamespace(namespace); err != nil {
		return err
	}
	if len(entries) > KVMaxBulk {
		return kvInvalid("A bulk write takes at most %d pairs, not %d.", KVMaxBulk, len(entries))
	}
	batch := &pgx.Batch{}
	for i, e := range entries {
		value := []byte(e.Value)
		if e.Base64 {
			var err error
			if value, err = base64.StdEncoding.DecodeString(e.Value); err != nil {
				return kvInvalid("pair %d (%q): value is not valid base64.", i, e.Key)
			}
		}
		row, err := m.kvRow(e.Key, value, KVPutOptions{Expiration: e.Expiration, ExpirationTTL: e.ExpirationTTL, Metadata: e.Metadata})
		if err != nil {
			return fmt.Errorf("pair %d (%q): %w", i, e.Key, err)
		}
		batch.Queue(kvUpsert, appID, namespace, row.key, row.value, row.metadata, row.expiresAt)
	}
	err := pgx.BeginFunc(ctx, m.pool, func(tx pgx.Tx) error {
		return tx.SendBatch(ctx, batch).Close()
	})
	if err != nil {
		return fmt.Errorf("kv bulk put: %w", err)
	}
	return nil
}

// KVBulkDelete removes every listed key; missing keys are not an error.
func (m *Manager) KVBulkDelete(ctx context.Context, appID, namespace string, keys []string) error {
	if err := validateNamespace(namespace); err != nil {
		return err
	}
	if len(keys) > KVMaxBulk {
		return kvInvalid("A bulk delete takes at most %d keys, not %d.", KVMaxBulk, len(keys))
	}
	for i, k := range keys {
		if err := ValidateKVKey(k); err != nil {
			return fmt.Errorf("key %d (%q): %w", i, k, err)
		}
	}
	if _, err := m.pool.Exec(ctx, `DELETE FROM kv_entries WHERE app_id = $1 AND namespace = $2 AND key = ANY($3)`,
		appID, namespace, keys); err != nil {
		return fmt.Errorf("kv bulk delete: %w", err)
	}
	return nil
}

// KVDelete removes a key; deleting a missing key is not an error.
func (m *Manager) KVDelete(ctx context.Context, appID, namespace, key string) error {
	if err := validateNamespace(namespace); err != nil {
		return err
	}
	if err := ValidateKVKey(key); err != nil {
		return err
	}
	if _, err := m.pool.Exec(ctx, `DELETE FROM kv_entries WHERE app_id = $1 AND namespace = $2 AND key = $3`,
		appID, namespace, key); err != nil {
		return fmt.Errorf("kv delete: %w", err)
	}
	return nil
}

// KVListKeys pages through live keys in bytewise order. The cursor is
// opaque to callers: the last key returned, encoded.
func (m *Manager) KVListKeys(ctx context.Context, appID, namespace string, opts KVListOptions) (KVList, error) {
	if err := validateNamespace(namespace); err != nil {
		return KVList{}, err
	}
	limit := opts.Limit
	if limit == 0 {
		limit = KVMaxListLimit
	}
	if limit < 1 || limit > KVMaxListLimit {
		return KVList{}, kvInvalid("Invalid key_count_limit of %d. Please specify an integer between 1-%d.", limit, KVMaxListLimit)
	}
	after := ""
	if opts.Cursor != "" {
		b, err := base64.RawURLEncoding.DecodeString(opts.Cursor)
		if err != nil {
			return KVList{}, kvInvalid("Invalid cursor.")
		}
		after = string(b)
	}
	// Fetch one more than asked to know whether the list is complete.
	rows, err := m.pool.Query(ctx, `
		SELECT key, metadata, expires_at FROM kv_entries
		WHERE app_id = $1 AND namespace = $2
		  AND starts_with(key, $3) AND key > $4
		  AND (expires_at IS NULL OR expires_at > now())
		ORDER BY key LIMIT $5`,
		appID, namespace, opts.Prefix, after, limit+1)
	if err != nil {
		return KVList{}, fmt.Errorf("kv list: %w", err)
	}
	keys, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (KVKey, error) {
		var k KVKey
		var exp *time.Time
		if err := r.Scan(&k.Name, &k.Metadata, &exp); err != nil {
			return k, err
		}
		if exp != nil {
			k.Expiration = exp.Unix()
		}
		return k, nil
	})
	if err != nil {
		return KVList{}, fmt.Errorf("kv list: %w", err)
	}
	out := KVList{Keys: keys, ListComplete: len(keys) <= limit}
	if !out.ListComplete {
		out.Keys = keys[:limit]
		out.Cursor = base64.RawURLEncoding.EncodeToString([]byte(out.Keys[limit-1].Name))
	}
	if out.Keys == nil {
		out.Keys = []KVKey{}
	}
	return out, nil
}

// PurgeExpiredKV deletes expired keys, at most batch at a time, and returns
// how many it removed. Reads already hide them; this reclaims space.
func (m *Manager) PurgeExpiredKV(ctx context.Context, batch int) (int64, error) {
	tag, err := m.pool.Exec(ctx, `
		DELETE FROM kv_entries WHERE ctid IN (
			SELECT ctid FROM kv_entries WHERE expires_at <= now() LIMIT $1)`, batch)
	if err != nil {
		return 0, fmt.Errorf("purging expired kv entries: %w", err)
	}
	return tag.RowsAffected(), nil
}
