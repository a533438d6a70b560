package manager

import (
	"context"
	"errors"
	"io/fs"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

func TestCertStoreKV(t *testing.T) {
	m := open(t)
	cs := m.CertStore()
	ctx := context.Background()
	for _, k := range []string{"certificates/a/x.crt", "certificates/a/x.key", "certificates/b/y.crt", "pki/root.crt", "odd%_key"} {
		if err := cs.Put(ctx, k, []byte("v:"+k)); err != nil {
			t.Fatal(err)
		}
	}
	if err := cs.Put(ctx, "pki/root.crt", []byte("new")); err != nil {
		t.Fatal(err)
	}
	v, mod, err := cs.Get(ctx, "pki/root.crt")
	if err != nil || string(v) != "new" || time.Since(mod) > time.Minute {
		t.Fatalf("Get = %q, %v, %v", v, mod, err)
	}
	if _, _, err := cs.Get(ctx, "nope"); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("Get missing: %v, want fs.ErrNotExist", err)
	}
	size, _, err := cs.Stat(ctx, "certificates/a/x.crt")
	if err != nil || size != int64(len("v:certificates/a/x.crt")) {
		t.Errorf("Stat = %d, %v", size, err)
	}
	tests := []struct {
		name   string
		prefix string
		want   []string
	}{
		{"subtree", "certificates/a/", []string{"certificates/a/x.crt", "certificates/a/x.key"}},
		{"everything", "", []string{"certificates/a/x.crt", "certificates/a/x.key", "certificates/b/y.crt", "odd%_key", "pki/root.crt"}},
		{"like metacharacters are literal", "odd%", []string{"odd%_key"}},
		{"percent does not match any", "o%", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := cs.List(ctx, tt.prefix)
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(got, tt.want) {
				t.Errorf("List(%q) = %v, want %v", tt.prefix, got, tt.want)
			}
		})
	}
	// Deleting a "directory" removes the keys under it, not its siblings.
	if err := cs.Delete(ctx, "certificates/a"); err != nil {
		t.Fatal(err)
	}
	got, _ := cs.List(ctx, "certificates/")
	if !slices.Equal(got, []string{"certificates/b/y.crt"}) {
		t.Errorf("after Delete: %v", got)
	}
	if err := cs.Delete(ctx, "certificates/a"); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("second Delete: %v, want fs.ErrNotExist", err)
	}
}

// Two stores stand for two nodes: contention must serialize the critical
// sections across both.
func TestCertStoreLockContention(t *testing.T) {
	m := open(t)
	stores := []*CertStore{m.CertStore(), m.CertStore()}
	for _, s := range stores {
		s.poll = 5 * time.Millisecond
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	var inside, maxInside, done atomic.Int32
	var wg sync.WaitGroup
	for i := 0; i < 8; i++ {
		wg.Add(1)
		go func(s *CertStore) {
			defer wg.Done()
			for j := 0; j < 5; j++ {
				if err := s.Lock(ctx, "issue_cert_example.com"); err != nil {
					t.Error(err)
					return
				}
				n := inside.Add(1)
				if n > maxInside.Load() {
					maxInside.Store(n)
				}
				time.Sleep(2 * time.Millisecond)
				inside.Add(-1)
				done.Add(1)
				if err := s.Unlock(ctx, "issue_cert_example.com"); err != nil {
					t.Error(err)
					return
				}
			}
		}(stores[i%2])
	}
	wg.Wait()
	if maxInside.Load() != 1 || done.Load() != 40 {
		t.Errorf("max holders at once %d (want 1), critical sections %d (want 40)", maxInside.Load(), done.Load())
	}
}

func TestCertStoreLockExpiryAndRefresh(t *testing.T) {
	m := open(t)
	a, b := m.CertStore(), m.CertStore()
	// Generous: the refresher must win against a loaded CI machine.
	a.ttl, b.ttl = 1500*time.Millisecond, 1500*time.Millisecond
	b.poll = 10 * time.Millisecond
	ctx := context.Background()

	// A live holder keeps refreshing: b must not get the lock.
	if err := a.Lock(ctx, "l"); err != nil {
		t.Fatal(err)
	}
	short, cancel := context.WithTimeout(ctx, 4*time.Second)
	err := b.Lock(short, "l")
	cancel()
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("b took a refreshed lock: %v", err)
	}
	// a crashes (its refresher stops): the lock expires and b takes over.
	a.mu.Lock()
	a.held["l"]()
	a.mu.Unlock()
	start := time.Now()
	if err := b.Lock(ctx, "l"); err != nil {
		t.Fatal(err)
	}
	if w := time.Since(start); w > 6*time.Second {
		t.Errorf("takeover took %v", w)
	}
	if err := a.Unlock(ctx, "l"); err == nil {
		t.Error("a released a lock b now holds")
	}
	if err := b.Unlock(ctx, "l"); err != nil {
		t.Error(err)
	}
}
