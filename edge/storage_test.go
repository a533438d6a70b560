package edge

import (
	"context"
	"errors"
	"io/fs"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"
)

// memKV is an in-memory KVStore for the pure logic of kvStorage; the
// Postgres one is tested in manager and, through Caddy, in node.
type memKV struct {
	mu sync.Mutex
	m  map[string][]byte
}

func (k *memKV) Get(_ context.Context, key string) ([]byte, time.Time, error) {
	k.mu.Lock()
	defer k.mu.Unlock()
	v, ok := k.m[key]
	if !ok {
		return nil, time.Time{}, fs.ErrNotExist
	}
	return v, time.Unix(1, 0), nil
}

func (k *memKV) Put(_ context.Context, key string, v []byte) error {
	k.mu.Lock()
	defer k.mu.Unlock()
	k.m[key] = v
	return nil
}

func (k *memKV) Delete(_ context.Context, key string) error {
	k.mu.Lock()
	defer k.mu.Unlock()
	n := 0
	for kk := range k.m {
		if kk == key || strings.HasPrefix(kk, key+"/") {
			delete(k.m, kk)
			n++
		}
	}
	if n == 0 {
		return fs.ErrNotExist
	}
	return nil
}

func (k *memKV) List(_ context.Context, prefix string) ([]string, error) {
	k.mu.Lock()
	defer k.mu.Unlock()
	var out []string
	for kk := range k.m {
		if strings.HasPrefix(kk, prefix) {
			out = append(out, kk)
		}
	}
	slices.Sort(out)
	return out, nil
}

func (k *memKV) Stat(ctx context.Context, key string) (int64, time.Time, error) {
	v, t, err := k.Get(ctx, key)
	return int64(len(v)), t, err
}

func (k *memKV) Lock(context.Context, string) error   { return nil }
func (k *memKV) Unlock(context.Context, string) error { return nil }

func TestKVStorageSemantics(t *testing.T) {
	ctx := context.Background()
	s := &kvStorage{kv: &memKV{m: map[string][]byte{}}}
	for _, k := range []string{"certificates/acme/a.com/a.com.crt", "certificates/acme/a.com/a.com.key",
		"certificates/acme/b.com/b.com.crt", "certificates/local/x/x.crt", "pki/authorities/local/root.crt"} {
		if err := s.Store(ctx, k, []byte(k)); err != nil {
			t.Fatal(err)
		}
	}
	lists := []struct {
		name      string
		dir       string
		recursive bool
		want      []string
		wantErr   error
	}{
		{"direct children are dirs", "certificates", false, []string{"certificates/acme", "certificates/local"}, nil},
		{"trailing slash", "certificates/acme/", false, []string{"certificates/acme/a.com", "certificates/acme/b.com"}, nil},
		{"files", "certificates/acme/a.com", false, []string{"certificates/acme/a.com/a.com.crt", "certificates/acme/a.com/a.com.key"}, nil},
		{"recursive", "certificates/acme", true, []string{"certificates/acme/a.com/a.com.crt", "certificates/acme/a.com/a.com.key", "certificates/acme/b.com/b.com.crt"}, nil},
		{"missing", "nope", false, nil, fs.ErrNotExist},
		{"no partial segment", "certificates/ac", false, nil, fs.ErrNotExist},
	}
	for _, tt := range lists {
		t.Run("list "+tt.name, func(t *testing.T) {
			got, err := s.List(ctx, tt.dir, tt.recursive)
			if !errors.Is(err, tt.wantErr) || !slices.Equal(got, tt.want) {
				t.Errorf("List(%q, %v) = %v, %v; want %v, %v", tt.dir, tt.recursive, got, err, tt.want, tt.wantErr)
			}
		})
	}
	stats := []struct {
		key      string
		terminal bool
		exists   bool
	}{
		{"pki/authorities/local/root.crt", true, true},
		{"pki/authorities", false, true},
		{"pki/auth", false, false},
	}
	for _, tt := range stats {
		t.Run("stat "+tt.key, func(t *testing.T) {
			ki, err := s.Stat(ctx, tt.key)
			if (err == nil) != tt.exists || s.Exists(ctx, tt.key) != tt.exists {
				t.Fatalf("Stat(%q) err %v, want exists=%v", tt.key, err, tt.exists)
			}
			if tt.exists && ki.IsTerminal != tt.terminal {
				t.Errorf("IsTerminal = %v", ki.IsTerminal)
			}
		})
	}
	if err := s.Delete(ctx, "certificates/acme"); err != nil {
		t.Fatal(err)
	}
	if got, _ := s.List(ctx, "certificates", false); !slices.Equal(got, []string{"certificates/local"}) {
		t.Errorf("after delete: %v", got)
	}
	if _, err := s.Load(ctx, "certificates/acme/a.com/a.com.crt"); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("Load deleted = %v", err)
	}
}
