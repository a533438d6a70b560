package manager

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"
)

func kvApps(t *testing.T) (*Manager, string, string) {
	t.Helper()
	m := open(t)
	ctx := context.Background()
	a, err := m.CreateApp(ctx, "a", "A")
	if err != nil {
		t.Fatal(err)
	}
	b, err := m.CreateApp(ctx, "b", "B")
	if err != nil {
		t.Fatal(err)
	}
	return m, a.ID, b.ID
}

func TestKVRoundTripAndIsolation(t *testing.T) {
	ctx := context.Background()
	m, appA, appB := kvApps(t)
	meta := json.RawMessage(`{"owner":"x"}`)
	if err := m.KVPut(ctx, appA, "CACHE", "k", []byte("v1"), KVPutOptions{Metadata: meta, ExpirationTTL: 3600}); err != nil {
		t.Fatal(err)
	}
	e, ok, err := m.KVGet(ctx, appA, "CACHE", "k")
	if err != nil || !ok || string(e.Value) != "v1" || string(e.Metadata) != `{"owner": "x"}` || e.Expiration.Before(time.Now().Add(59*time.Minute)) {
		t.Fatalf("get = %+v %v %v", e, ok, err)
	}
	// Same namespace name in another app is another namespace.
	if _, ok, _ := m.KVGet(ctx, appB, "CACHE", "k"); ok {
		t.Fatal("app b sees app a's key")
	}
	if l, _ := m.KVListKeys(ctx, appB, "CACHE", KVListOptions{}); len(l.Keys) != 0 {
		t.Fatalf("app b lists app a's keys: %+v", l)
	}
	if err := m.KVDelete(ctx, appB, "CACHE", "k"); err != nil {
		t.Fatal(err)
	}
	if _, ok, _ := m.KVGet(ctx, appA, "CACHE", "k"); !ok {
		t.Fatal("app b's delete removed app a's key")
	}
	if err := m.KVPut(ctx, appA, "CACHE", "k", []byte("v2"), KVPutOptions{}); err != nil {
		t.Fatal(err)
	}
	if e, _, _ := m.KVGet(ctx, appA, "CACHE", "k"); string(e.Value) != "v2" || e.Metadata != nil || !e.Expiration.IsZero() {
		t.Fatalf("overwrite kept old metadata or expiry: %+v", e)
	}
	if err := m.KVDelete(ctx, appA, "CACHE", "k"); err != nil {
		t.Fatal(err)
	}
	if _, ok, _ := m.KVGet(ctx, appA, "CACHE", "k"); ok {
		t.Fatal("deleted key still readable")
	}
}

func TestKVValidation(t *testing.T) {
	ctx := context.Background()
	m, app, _ := kvApps(t)
	long := string(make([]byte, KVMaxKeyBytes+1))
	cases := []struct {
		name string
		err  error
	}{
		{"empty key", m.KVPut(ctx, app, "N", "", nil, KVPutOptions{})},
		{"dot", m.KVPut(ctx, app, "N", ".", nil, KVPutOptions{})},
		{"dotdot", m.KVPut(ctx, app, "N", "..", nil, KVPutOptions{})},
		{"long key", m.KVPut(ctx, app, "N", long, nil, KVPutOptions{})},
		{"short ttl", m.KVPut(ctx, app, "N", "k", nil, KVPutOptions{ExpirationTTL: 59})},
		{"past expiration", m.KVPut(ctx, app, "N", "k", nil, KVPutOptions{Expiration: time.Now().Unix()})},
		{"bad metadata", m.KVPut(ctx, app, "N", "k", nil, KVPutOptions{Metadata: json.RawMessage(`{`)})},
		{"big value", m.KVPut(ctx, app, "N", "k", make([]byte, KVMaxValueBytes+1), KVPutOptions{})},
	}
	for _, tc := range cases {
		if !errors.Is(tc.err, ErrKVInvalid) {
			t.Errorf("%s: err = %v, want ErrKVInvalid", tc.name, tc.err)
		}
	}
	if _, err := m.KVListKeys(ctx, app, "N", KVListOptions{Limit: 1001}); !errors.Is(err, ErrKVInvalid) {
		t.Errorf("limit 1001: %v", err)
	}
	if l, _ := m.KVListKeys(ctx, app, "N", KVListOptions{}); len(l.Keys) != 0 {
		t.Errorf("a refused put stored something: %+v", l)
	}
}

func TestKVListPagesBytewise(t *testing.T) {
	ctx := context.Background()
	m, app, _ := kvApps(t)
	keys := []string{"b", "a", "B", "a/2", "a/10", "é", "z"}
	for _, k := range keys {
		if err := m.KVPut(ctx, app, "N", k, []byte(k), KVPutOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	var got []string
	cursor := ""
	for pages := 0; ; pages++ {
		l, err := m.KVListKeys(ctx, app, "N", KVListOptions{Limit: 3, Cursor: cursor})
		if err != nil {
			t.Fatal(err)
		}
		for _, k := range l.Keys {
			got = append(got, k.Name)
		}
		if l.ListComplete {
			if l.Cursor != "" {
				t.Fatalf("complete page has a cursor")
			}
			break
		}
		if pages > 5 || l.Cursor == "" {
			t.Fatalf("pagination does not end: %+v", l)
		}
		cursor = l.Cursor
	}
	want := []string{"B", "a", "a/10", "a/2", "b", "z", "é"}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("keys = %q, want bytewise %q", got, want)
	}
	l, _ := m.KVListKeys(ctx, app, "N", KVListOptions{Prefix: "a/"})
	if len(l.Keys) != 2 || l.Keys[0].Name != "a/10" || !l.ListComplete {
		t.Fatalf("prefix list = %+v", l)
	}
}

func TestKVExpiredKeysVanishAndArePurged(t *testing.T) {
	ctx := context.Background()
	m, app, _ := kvApps(t)
	for _, k := range []string{"old", "live"} {
		if err := m.KVPut(ctx, app, "N", k, []byte(k), KVPutOptions{ExpirationTTL: 60}); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := m.pool.Exec(ctx, `UPDATE kv_entries SET expires_at = now() - interval '1 second' WHERE key = 'old'`); err != nil {
		t.Fatal(err)
	}
	if _, ok, _ := m.KVGet(ctx, app, "N", "old"); ok {
		t.Fatal("expired key readable")
	}
	if l, _ := m.KVListKeys(ctx, app, "N", KVListOptions{}); len(l.Keys) != 1 || l.Keys[0].Name != "live" || l.Keys[0].Expiration == 0 {
		t.Fatalf("list = %+v", l)
	}
	n, err := m.PurgeExpiredKV(ctx, 100)
	if err != nil || n != 1 {
		t.Fatalf("purged %d, %v; want 1", n, err)
	}
}

func TestKVConcurrentWritersLoseNothing(t *testing.T) {
	ctx := context.Background()
	m, app, _ := kvApps(t)
	const writers, each = 8, 20
	var wg sync.WaitGroup
	errs := make(chan error, writers*each)
	for w := range writers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range each {
				// One shared key (last write wins) and one key per write
				// (every acknowledged write must be there).
				v := []byte(fmt.Sprintf("%d-%d", w, i))
				if err := m.KVPut(ctx, app, "N", "shared", v, KVPutOptions{}); err != nil {
					errs <- err
				}
				if err := m.KVPut(ctx, app, "N", fmt.Sprintf("own/%d/%d", w, i), v, KVPutOptions{}); err != nil {
					errs <- err
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatalf("concurrent put failed: %v", err)
	}
	l, err := m.KVListKeys(ctx, app, "N", KVListOptions{Prefix: "own/"})
	if err != nil || len(l.Keys) != writers*each {
		t.Fatalf("%d of %d acknowledged writes stored (%v)", len(l.Keys), writers*each, err)
	}
	if e, ok, _ := m.KVGet(ctx, app, "N", "shared"); !ok || len(e.Value) == 0 {
		t.Fatal("shared key lost")
	}
}
