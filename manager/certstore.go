package manager

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"strings"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
)

// CertStore is a key/value store with cluster-wide locks over Postgres,
// holding the edge's certificates and CA (the edge's KVStore). Keys are
// slash-separated paths. Missing keys are reported as fs.ErrNotExist.
type CertStore struct {
	m     *Manager
	owner string // this process, as a lock holder
	ttl   time.Duration
	poll  time.Duration

	mu   sync.Mutex
	held map[string]context.CancelFunc // lock name → stops its refresher
}

// CertStore returns the certificate store. Locks live ttl unless refreshed;
// the holder refreshes them every ttl/3.
func (m *Manager) CertStore() *CertStore {
	b := make([]byte, 8)
	_, _ = rand.Read(b)
	return &CertStore{m: m, owner: hex.EncodeToString(b), ttl: 30 * time.Second, poll: 100 * time.Millisecond,
		held: make(map[string]context.CancelFunc)}
}

// Get returns the value stored at key and when it was written.
func (c *CertStore) Get(ctx context.Context, key string) ([]byte, time.Time, error) {
	var v []byte
	var mod time.Time
	err := c.m.pool.QueryRow(ctx, `SELECT value, modified FROM cert_storage WHERE key = $1`, key).Scan(&v, &mod)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, time.Time{}, fmt.Errorf("cert storage key %q: %w", key, fs.ErrNotExist)
	}
	if err != nil {
		return nil, time.Time{}, fmt.Errorf("loading cert storage key %q: %w", key, err)
	}
	return v, mod, nil
}

// Put stores value at key, replacing any previous value.
func (c *CertStore) Put(ctx context.Context, key string, value []byte) error {
	_, err := c.m.pool.Exec(ctx, `INSERT INTO cert_storage (key, value, modified) VALUES ($1, $2, now())
		ON CONFLICT (key) DO UPDATE SET value = EXCLUDED.value, modified = now()`, key, value)
	if err != nil {
		return fmt.Errorf("storing cert storage key %q: %w", key, err)
	}
	return nil
}

// Delete removes key and every key under key + "/". Deleting nothing is
// fs.ErrNotExist.
func (c *CertStore) Delete(ctx context.Context, key string) error {
	tag, err := c.m.pool.Exec(ctx, `DELETE FROM cert_storage WHERE key = $1 OR key LIKE $2`, key, likePrefix(key+"/"))
	if err != nil {
		return fmt.Errorf("deleting cert storage key %q: %w", key, err)
	}
	if tag.RowsAffected() == 0 {
		return fmt.Errorf("cert storage key %q: %w", key, fs.ErrNotExist)
	}
	return nil
}

// List returns every key starting with prefix, sorted.
func (c *CertStore) List(ctx context.Context, prefix string) ([]string, error) {
	rows, err := c.m.pool.Query(ctx, `SELECT key FROM cert_storage WHERE key LIKE $1 ORDER BY key COLLATE "C"`, likePrefix(prefix))
	if err != nil {
		return nil, fmt.Errorf("listing cert storage %q: %w", prefix, err)
	}
	keys, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return nil, fmt.Errorf("listing cert storage %q: %w", prefix, err)
	}
	return keys, nil
}

// Stat returns the size and modification time of key.
func (c *CertStore) Stat(ctx context.Context, key string) (int64, time.Time, error) {
	var size int64
	var mod time.Time
	err := c.m.pool.QueryRow(ctx, `SELECT octet_length(value), modified FROM cert_storage WHERE key = $1`, key).Scan(&size, &mod)
	if errors.Is(err, pgx.ErrNoRows) {
		return 0, time.Time{}, fmt.Errorf("cert storage key %q: %w", key, fs.ErrNotExist)
	}
	if err != nil {
		return 0, time.Time{}, fmt.Errorf("stat cert storage key %q: %w", key, err)
	}
	return size, mod, nil
}

// Lock blocks until this process holds the cluster-wide lock name or ctx
// ends. An expired lock of another holder is taken over.
func (c *CertStore) Lock(ctx context.Context, name string) error {
	for {
		var got string
		err := c.m.pool.QueryRow(ctx, `INSERT INTO cert_locks (name, owner, expires_at)
			VALUES ($1, $2, now() + $3 * interval '1 millisecond')
			ON CONFLICT (name) DO UPDATE SET owner = EXCLUDED.owner, expires_at = EXCLUDED.expires_at
			WHERE cert_locks.expires_at < now()
			RETURNING owner`, name, c.owner, c.ttl.Milliseconds()).Scan(&got)
		switch {
		case err == nil:
			c.startRefresh(name)
			return nil
		case !errors.Is(err, pgx.ErrNoRows):
			return fmt.Errorf("taking lock %q: %w", name, err)
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("waiting for lock %q: %w", name, ctx.Err())
		case <-time.After(c.poll):
		}
	}
}

// Unlock releases a lock this process holds.
func (c *CertStore) Unlock(ctx context.Context, name string) error {
	c.mu.Lock()
	stop, ok := c.held[name]
	delete(c.held, name)
	c.mu.Unlock()
	if ok {
		stop()
	}
	tag, err := c.m.pool.Exec(ctx, `DELETE FROM cert_locks WHERE name = $1 AND owner = $2`, name, c.owner)
	if err != nil {
		return fmt.Errorf("releasing lock %q: %w", name, err)
	}
	if tag.RowsAffected() == 0 {
		return fmt.Errorf("releasing lock %q: not held by this node", name)
	}
	return nil
}

// startRefresh keeps a held lock from expiring while its work runs (an
// ACME order can take minutes).
func (c *CertStore) startRefresh(name string) {
	ctx, cancel := context.WithCancel(context.Background())
	c.mu.Lock()
	if old, ok := c.held[name]; ok {
		old()
	}
	c.held[name] = cancel
	c.mu.Unlock()
	go func() {
		t := time.NewTicker(c.ttl / 3)
		defer t.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-t.C:
				_, err := c.m.pool.Exec(ctx, `UPDATE cert_locks SET expires_at = now() + $3 * interval '1 millisecond'
					WHERE name = $1 AND owner = $2`, name, c.owner, c.ttl.Milliseconds())
				if err != nil && ctx.Err() == nil {
					c.m.log.Warn("refreshing cert lock", "lock", name, "err", err)
				}
			}
		}
	}()
}

// likePrefix is a LIKE pattern matching strings that start with p.
func likePrefix(p string) string {
	r := strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`)
	return r.Replace(p) + "%"
}
