package manager

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"
)

// rawKV sends a raw-body request to a KV value path and returns the status,
// headers and body.
func (e *apiEnv) rawKV(token, method, path string, body []byte, hdr map[string]string) (int, http.Header, []byte) {
	e.t.Helper()
	req, err := http.NewRequest(method, e.srv.URL+APIPrefix+path, bytes.NewReader(body))
	if err != nil {
		e.t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+token)
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	resp, err := e.client.Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, resp.Header, b
}

func TestKVAdminAPI(t *testing.T) {
	e := newAPIEnv(t)
	tok := e.login("owner")
	a := e.app("kvapp")
	base := "/apps/" + a.Slug + "/kv/store"

	// Put with metadata and a TTL, read back bytes and headers.
	value := []byte{0, 1, 2, 0xff, 'h', 'i'}
	st, _, b := e.rawKV(tok, "PUT", base+"/values/dir/sub/k1?expiration_ttl=120", value,
		map[string]string{KVMetadataHeader: `{"owner":"ann"}`})
	if st != 204 {
		t.Fatalf("put: %d %s", st, b)
	}
	before := time.Now()
	st, h, b := e.rawKV(tok, "GET", base+"/values/dir/sub/k1", nil, nil)
	if st != 200 || !bytes.Equal(b, value) {
		t.Fatalf("get: %d %q", st, b)
	}
	if got := h.Get(KVMetadataHeader); got != `{"owner": "ann"}` && got != `{"owner":"ann"}` {
		t.Errorf("metadata header %q", got)
	}
	exp, err := strconv.ParseInt(h.Get(KVExpirationHeader), 10, 64)
	if err != nil || exp < before.Unix()+100 || exp > before.Unix()+140 {
		t.Errorf("expiration header %q, want about now+120", h.Get(KVExpirationHeader))
	}
	if e.rawKVStatus(tok, "PUT", base+"/values/plain", []byte("p")) != 204 {
		t.Fatal("put plain")
	}
	st, h, _ = e.rawKV(tok, "GET", base+"/values/plain", nil, nil)
	if st != 200 || h.Get(KVMetadataHeader) != "" || h.Get(KVExpirationHeader) != "" {
		t.Errorf("plain key: %d headers %v", st, h)
	}
	for i := 0; i < 3; i++ {
		if e.rawKVStatus(tok, "PUT", fmt.Sprintf("/apps/%s/kv/other/values/o%d", a.Slug, i), []byte("x")) != 204 {
			t.Fatal("put other")
		}
	}

	// Namespaces with counts.
	var ns struct{ Namespaces []KVNamespaceInfo }
	if st := e.do(tok, "GET", "/apps/"+a.Slug+"/kv", nil, &ns); st != 200 {
		t.Fatalf("namespaces: %d", st)
	}
	if fmt.Sprint(ns.Namespaces) != "[{other 3} {store 2}]" {
		t.Errorf("namespaces = %v", ns.Namespaces)
	}

	// Keys: paging with limit and cursor, prefix.
	var page KVList
	if st := e.do(tok, "GET", "/apps/"+a.Slug+"/kv/other/keys?limit=2", nil, &page); st != 200 {
		t.Fatalf("keys: %d", st)
	}
	if len(page.Keys) != 2 || page.ListComplete || page.Cursor == "" {
		t.Fatalf("first page %+v", page)
	}
	var rest KVList
	e.do(tok, "GET", "/apps/"+a.Slug+"/kv/other/keys?limit=2&cursor="+page.Cursor, nil, &rest)
	if len(rest.Keys) != 1 || rest.Keys[0].Name != "o2" || !rest.ListComplete {
		t.Errorf("second page %+v", rest)
	}
	var pre KVList
	e.do(tok, "GET", base+"/keys?prefix=dir/", nil, &pre)
	if len(pre.Keys) != 1 || pre.Keys[0].Name != "dir/sub/k1" || string(pre.Keys[0].Metadata) == "" || pre.Keys[0].Expiration == 0 {
		t.Errorf("prefix list %+v", pre)
	}

	// Workers' errors answer 422 with Workers' message.
	tests := []struct {
		name, method, path string
		hdr                map[string]string
		want               string
	}{
		{"dot key", "PUT", base + "/values/.", nil, "Illegal key name"},
		{"long key", "PUT", base + "/values/" + strings.Repeat("k", 513), nil, "exceeds key length limit of 512"},
		{"short ttl", "PUT", base + "/values/t?expiration_ttl=10", nil, "Expiration TTL must be at least 60"},
		{"past expiration", "PUT", base + "/values/t?expiration=1000", nil, "Expiration times must be at least 60 seconds in the future"},
		{"bad metadata", "PUT", base + "/values/t", map[string]string{KVMetadataHeader: "{nope"}, "Metadata must be JSON-serializable"},
		{"big metadata", "PUT", base + "/values/t", map[string]string{KVMetadataHeader: `"` + strings.Repeat("m", 1100) + `"`}, "Metadata length"},
		{"limit too big", "GET", base + "/keys?limit=1001", nil, "between 1-1000"},
		{"bad cursor", "GET", base + "/keys?cursor=%25%25", nil, "Invalid cursor"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			st, _, b := e.rawKV(tok, tc.method, tc.path, []byte("v"), tc.hdr)
			if st != 422 || !strings.Contains(string(b), tc.want) || !strings.Contains(string(b), `"invalid_kv"`) {
				t.Errorf("%d %s, want 422 invalid_kv with %q", st, b, tc.want)
			}
		})
	}

	// Delete, then the key is gone (and deleting again still succeeds).
	for i := 0; i < 2; i++ {
		if st := e.rawKVStatus(tok, "DELETE", base+"/values/plain", nil); st != 204 {
			t.Fatalf("delete %d: %d", i, st)
		}
	}
	if st, _ := e.fail(tok, "GET", base+"/values/plain", nil); st != 404 {
		t.Errorf("get deleted: %d", st)
	}

	// An expired key disappears from every read at once.
	if _, err := e.m.pool.Exec(context.Background(), `UPDATE kv_entries SET expires_at = now() - interval '1 second' WHERE key = 'dir/sub/k1'`); err != nil {
		t.Fatal(err)
	}
	if st, _ := e.fail(tok, "GET", base+"/values/dir/sub/k1", nil); st != 404 {
		t.Errorf("get expired: %d", st)
	}
	e.do(tok, "GET", "/apps/"+a.Slug+"/kv", nil, &ns)
	if fmt.Sprint(ns.Namespaces) != "[{other 3}]" {
		t.Errorf("namespaces after expiry = %v", ns.Namespaces)
	}
}

func (e *apiEnv) rawKVStatus(token, method, path string, body []byte) int {
	e.t.Helper()
	st, _, _ := e.rawKV(token, method, path, body, nil)
	return st
}

// TestSecretsNeverReturned: a secret's value appears in no API answer and
// not in clear in the raw table, yet the node can still decrypt it.
func TestSecretsNeverReturned(t *testing.T) {
	e := newAPIEnv(t)
	tok := e.login("owner")
	a := e.app("sec")
	const value = "sk_live_9f8e7d6c5b4a-never-shown"
	var answers [][]byte
	keep := func(st int, b []byte) []byte { answers = append(answers, b); return b }

	st, b := e.send(e.request(tok, "PUT", "/apps/sec/secrets/API_KEY", map[string]string{"value": value}), nil)
	keep(st, b)
	if st != 200 || !strings.Contains(string(b), `"name":"API_KEY"`) {
		t.Fatalf("put: %d %s", st, b)
	}
	st, b = e.send(e.request(tok, "PUT", "/apps/sec/secrets/API_KEY", map[string]string{"value": value + "2"}), nil)
	keep(st, b)
	st, b = e.send(e.request(tok, "GET", "/apps/sec/secrets", nil), nil)
	keep(st, b)
	if st != 200 || !strings.Contains(string(b), `"API_KEY"`) {
		t.Fatalf("list: %d %s", st, b)
	}
	for _, path := range []string{"/apps/sec", "/apps/sec/kv", "/openapi.json"} {
		_, b := e.send(e.request(tok, "GET", path, nil), nil)
		keep(0, b)
	}
	for i, b := range answers {
		if bytes.Contains(b, []byte("sk_live")) {
			t.Errorf("answer %d contains the secret: %s", i, b)
		}
	}
	var dump string
	if err := e.m.pool.QueryRow(context.Background(),
		`SELECT string_agg(t::text || encode(nonce, 'escape') || encode(ciphertext, 'escape'), '') FROM secrets t WHERE app_id = $1`, a.ID).Scan(&dump); err != nil {
		t.Fatal(err)
	}
	if dump == "" || strings.Contains(dump, "sk_live") {
		t.Errorf("raw secrets table holds the value in clear (or nothing): %q", dump)
	}
	got, ok, err := e.m.SecretValue(context.Background(), a.ID, "API_KEY")
	if err != nil || !ok || string(got) != value+"2" {
		t.Errorf("decrypt: %q %v %v", got, ok, err)
	}

	// Bad names and missing values are refused; delete, then 404.
	if st, eb := e.fail(tok, "PUT", "/apps/sec/secrets/1bad", map[string]string{"value": "x"}); st != 422 || eb.Error.Code != "invalid_secret_name" {
		t.Errorf("bad name: %d %+v", st, eb)
	}
	if st, eb := e.fail(tok, "PUT", "/apps/sec/secrets/OK", map[string]string{}); st != 422 || eb.Error.Code != "missing_value" {
		t.Errorf("missing value: %d %+v", st, eb)
	}
	if st := e.do(tok, "DELETE", "/apps/sec/secrets/API_KEY", nil, nil); st != 204 {
		t.Errorf("delete: %d", st)
	}
	if st, _ := e.fail(tok, "DELETE", "/apps/sec/secrets/API_KEY", nil); st != 404 {
		t.Errorf("delete again: %d", st)
	}
}

// TestKVSecretsCrossApp: a member of app B cannot list or read app A's KV
// or secrets even knowing the namespace and key, and the same namespace
// name in B is a different namespace.
func TestKVSecretsCrossApp(t *testing.T) {
	e := newAPIEnv(t)
	ctx := context.Background()
	a, b := e.app("alpha"), e.app("beta")
	e.user("bob", RoleMember)
	if _, err := e.m.SetMember(ctx, b.ID, "bob", AppRoleEditor); err != nil {
		t.Fatal(err)
	}
	owner, bob := e.login("owner"), e.login("bob")
	if st := e.rawKVStatus(owner, "PUT", "/apps/alpha/kv/shared/values/k", []byte("alpha's")); st != 204 {
		t.Fatal(st)
	}
	if st := e.do(owner, "PUT", "/apps/alpha/secrets/TOKEN", map[string]string{"value": "alpha-token"}, nil); st != 200 {
		t.Fatal(st)
	}
	for _, ref := range []string{a.Slug, a.ID} {
		for _, p := range []string{"/kv", "/kv/shared/keys", "/kv/shared/values/k", "/secrets"} {
			if st, _ := e.fail(bob, "GET", "/apps/"+ref+p, nil); st != 404 {
				t.Errorf("bob GET %s%s: %d, want 404", ref, p, st)
			}
		}
		if st, _, _ := e.rawKV(bob, "PUT", "/apps/"+ref+"/kv/shared/values/k", []byte("bob's"), nil); st != 404 {
			t.Errorf("bob PUT kv on %s: %d", ref, st)
		}
		if st, _ := e.fail(bob, "PUT", "/apps/"+ref+"/secrets/TOKEN", map[string]string{"value": "x"}); st != 404 {
			t.Errorf("bob PUT secret on %s: %d", ref, st)
		}
	}
	// Bob's own "shared" namespace is empty, and writing it leaves A's alone.
	if st, _ := e.fail(bob, "GET", "/apps/beta/kv/shared/values/k", nil); st != 404 {
		t.Errorf("bob reads k in his own namespace: %d", st)
	}
	if st := e.rawKVStatus(bob, "PUT", "/apps/beta/kv/shared/values/k", []byte("bob's")); st != 204 {
		t.Fatal(st)
	}
	_, _, got := e.rawKV(owner, "GET", "/apps/alpha/kv/shared/values/k", nil, nil)
	if string(got) != "alpha's" {
		t.Errorf("A's value = %q", got)
	}
	if v, _, _ := e.m.SecretValue(ctx, a.ID, "TOKEN"); string(v) != "alpha-token" {
		t.Errorf("A's secret = %q", v)
	}
}

func TestPurgeExpiredKVLoop(t *testing.T) {
	e := newAPIEnv(t)
	ctx, cancel := context.WithCancel(context.Background())
	a := e.app("purge")
	if err := e.m.KVPut(ctx, a.ID, "ns", "old", []byte("x"), KVPutOptions{ExpirationTTL: 60}); err != nil {
		t.Fatal(err)
	}
	if _, err := e.m.pool.Exec(ctx, `UPDATE kv_entries SET expires_at = now() - interval '1 second'`); err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	go func() { e.m.PurgeExpiredKVLoop(ctx, 20*time.Millisecond); close(done) }()
	deadline := time.Now().Add(10 * time.Second)
	for {
		var n int
		if err := e.m.pool.QueryRow(ctx, `SELECT count(*) FROM kv_entries`).Scan(&n); err != nil {
			t.Fatal(err)
		}
		if n == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("expired row not purged")
		}
		time.Sleep(20 * time.Millisecond)
	}
	cancel()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		t.Fatal("loop did not stop with its context")
	}
}

// TestKVBulk: a bulk write is all or nothing, carries binary values,
// metadata and expirations, and a bulk delete removes exactly its keys.
func TestKVBulk(t *testing.T) {
	e := newAPIEnv(t)
	tok := e.login("owner")
	a := e.app("bulkapp")
	base := "/apps/" + a.Slug + "/kv/store"
	ctx := context.Background()

	var written struct{ Written int }
	entries := []KVBulkEntry{
		{Key: "a", Value: "alpha", Metadata: []byte(`{"n":1}`)},
		{Key: "bin", Value: "AAH/", Base64: true},
		{Key: "ttl", Value: "t", ExpirationTTL: 300},
	}
	if st := e.do(tok, "PUT", base+"/bulk", entries, &written); st != 200 || written.Written != 3 {
		t.Fatalf("bulk put: %d %+v", st, written)
	}
	for key, want := range map[string]string{"a": "alpha", "bin": "\x00\x01\xff", "ttl": "t"} {
		got, ok, err := e.m.KVGet(ctx, a.ID, "store", key)
		if err != nil || !ok || string(got.Value) != want {
			t.Errorf("%s = %q %v %v, want %q", key, got.Value, ok, err, want)
		}
		if key == "a" && !strings.Contains(string(got.Metadata), `"n"`) || key == "ttl" && got.Expiration.IsZero() {
			t.Errorf("%s lost its metadata or expiration: %+v", key, got)
		}
	}

	// One refused pair writes nothing, and the error names it.
	refused := []struct {
		name    string
		entries []KVBulkEntry
		want    string
	}{
		{"illegal key", []KVBulkEntry{{Key: "new1", Value: "x"}, {Key: "..", Value: "x"}}, `pair 1 ("..")`},
		{"bad base64", []KVBulkEntry{{Key: "new1", Value: "x"}, {Key: "b", Value: "!!", Base64: true}}, "not valid base64"},
		{"short ttl", []KVBulkEntry{{Key: "new1", Value: "x", ExpirationTTL: 5}}, "Expiration TTL must be at least 60"},
	}
	for _, tc := range refused {
		t.Run(tc.name, func(t *testing.T) {
			st, b := e.fail(tok, "PUT", base+"/bulk", tc.entries)
			if st != 422 || b.Error.Code != "invalid_kv" || !strings.Contains(b.Error.Message, tc.want) {
				t.Errorf("%d %+v, want 422 with %q", st, b, tc.want)
			}
			if _, ok, _ := e.m.KVGet(ctx, a.ID, "store", "new1"); ok {
				t.Error("a refused bulk write stored a pair")
			}
		})
	}
	if st, b := e.fail(tok, "PUT", base+"/bulk", map[string]string{"not": "an array"}); st != 400 || b.Error.Code != "bad_body" {
		t.Errorf("object body: %d %+v, want 400", st, b)
	}
	if st, b := e.fail(tok, "PUT", base+"/bulk", make([]KVBulkEntry, KVMaxBulk+1)); st != 422 || !strings.Contains(b.Error.Message, "at most 10000") {
		t.Errorf("too many pairs: %d %+v", st, b)
	}

	var deleted struct{ Deleted int }
	if st := e.do(tok, "POST", base+"/bulk/delete", []string{"a", "bin", "never-there"}, &deleted); st != 200 || deleted.Deleted != 3 {
		t.Fatalf("bulk delete: %d %+v", st, deleted)
	}
	list, err := e.m.KVListKeys(ctx, a.ID, "store", KVListOptions{})
	if err != nil || len(list.Keys) != 1 || list.Keys[0].Name != "ttl" {
		t.Errorf("after bulk delete: %+v %v", list, err)
	}
	if st, b := e.fail(tok, "POST", base+"/bulk/delete", []string{"ok", ""}); st != 422 || !strings.Contains(b.Error.Message, "key 1") {
		t.Errorf("empty key in bulk delete: %d %+v", st, b)
	}
}
