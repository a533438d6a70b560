package edge

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"slices"
	"strings"
	"time"

	"github.com/caddyserver/caddy/v2"
	"github.com/caddyserver/certmagic"
)

// KVStore is the cluster-shared store behind Caddy's certificate storage:
// the PiCloud CA, certificates, ACME accounts and issuance locks. The
// manager implements it over Postgres; node injects it. Keys are
// slash-separated paths.
type KVStore interface {
	// Get returns a key's value and modification time; a missing key is an
	// error satisfying errors.Is(err, fs.ErrNotExist).
	Get(ctx context.Context, key string) ([]byte, time.Time, error)
	Put(ctx context.Context, key string, value []byte) error
	// Delete removes key and every key under key+"/" (fs.ErrNotExist if
	// none).
	Delete(ctx context.Context, key string) error
	// List returns every key that starts with prefix, sorted.
	List(ctx context.Context, prefix string) ([]string, error)
	// Stat returns a key's size and modification time.
	Stat(ctx context.Context, key string) (int64, time.Time, error)
	// Lock blocks until the cluster-wide lock name is held by this node or
	// ctx ends; a crashed holder's lock expires.
	Lock(ctx context.Context, name string) error
	Unlock(ctx context.Context, name string) error
}

func init() {
	caddy.RegisterModule(storageModule{})
}

// storageModule plugs a Server's KVStore into Caddy as its storage.
type storageModule struct {
	Instance string `json:"instance"`
}

// CaddyModule returns the Caddy module information.
func (storageModule) CaddyModule() caddy.ModuleInfo {
	return caddy.ModuleInfo{
		ID:  "caddy.storage.picloud",
		New: func() caddy.Module { return new(storageModule) },
	}
}

// CertMagicStorage returns the storage for the Server of this config.
func (m storageModule) CertMagicStorage() (certmagic.Storage, error) {
	v, ok := servers.Load(m.Instance)
	if !ok {
		return nil, fmt.Errorf("no picloud server registered as %q", m.Instance)
	}
	kv := v.(*Server).cfg.CertStore
	if kv == nil {
		return nil, errors.New("picloud server has no certificate store")
	}
	return &kvStorage{kv: kv}, nil
}

// kvStorage is certmagic.Storage over a KVStore.
type kvStorage struct{ kv KVStore }

func (s *kvStorage) Store(ctx context.Context, key string, value []byte) error {
	return s.kv.Put(ctx, key, value)
}

func (s *kvStorage) Load(ctx context.Context, key string) ([]byte, error) {
	v, _, err := s.kv.Get(ctx, key)
	return v, err
}

func (s *kvStorage) Delete(ctx context.Context, key string) error {
	return s.kv.Delete(ctx, key)
}

func (s *kvStorage) Exists(ctx context.Context, key string) bool {
	_, err := s.Stat(ctx, key)
	return err == nil
}

// List returns the keys under dir: all of them when recursive, else only
// its direct children (files and "directories"), as certmagic expects.
func (s *kvStorage) List(ctx context.Context, dir string, recursive bool) ([]string, error) {
	prefix := strings.TrimSuffix(dir, "/") + "/"
	if dir == "" {
		prefix = ""
	}
	keys, err := s.kv.List(ctx, prefix)
	if err != nil {
		return nil, err
	}
	if len(keys) == 0 {
		return nil, fmt.Errorf("listing %q: %w", dir, fs.ErrNotExist)
	}
	if recursive {
		return keys, nil
	}
	out := make([]string, 0, len(keys))
	for _, k := range keys {
		rest := strings.TrimPrefix(k, prefix)
		if i := strings.IndexByte(rest, '/'); i >= 0 {
			k = prefix + rest[:i]
		}
		out = append(out, k)
	}
	slices.Sort(out)
	return slices.Compact(out), nil
}

func (s *kvStorage) Stat(ctx context.Context, key string) (certmagic.KeyInfo, error) {
	size, mod, err := s.kv.Stat(ctx, key)
	if err == nil {
		return certmagic.KeyInfo{Key: key, Modified: mod, Size: size, IsTerminal: true}, nil
	}
	if !errors.Is(err, fs.ErrNotExist) {
		return certmagic.KeyInfo{}, err
	}
	keys, lerr := s.kv.List(ctx, strings.TrimSuffix(key, "/")+"/")
	if lerr != nil {
		return certmagic.KeyInfo{}, lerr
	}
	if len(keys) == 0 {
		return certmagic.KeyInfo{}, err
	}
	return certmagic.KeyInfo{Key: key, IsTerminal: false}, nil
}

func (s *kvStorage) Lock(ctx context.Context, name string) error   { return s.kv.Lock(ctx, name) }
func (s *kvStorage) Unlock(ctx context.Context, name string) error { return s.kv.Unlock(ctx, name) }

func (s *kvStorage) String() string { return "picloud postgres storage" }

// Interface guards.
var (
	_ caddy.StorageConverter = storageModule{}
	_ certmagic.Storage      = (*kvStorage)(nil)
)
