package manager

import (
	"context"
	"fmt"
	"net/http"
	"sync"
	"testing"
)

func setupNeeded(t *testing.T, e *apiEnv) bool {
	t.Helper()
	var out struct {
		Needed *bool `json:"needed"`
	}
	if st := e.do("", "GET", "/setup", nil, &out); st != 200 || out.Needed == nil {
		t.Fatalf("GET /setup = %d %v", st, out.Needed)
	}
	return *out.Needed
}

func TestSetupFlow(t *testing.T) {
	e := newBareAPIEnv(t)
	ctx := context.Background()
	if !setupNeeded(t, e) {
		t.Fatal("an empty database does not need setup")
	}
	tok, err := e.m.EnsureSetupToken(ctx, "")
	if err != nil || len(tok) != 26 {
		t.Fatalf("EnsureSetupToken = %q, %v", tok, err)
	}
	// A restart of the node keeps the token it wrote to its file; a token
	// that was never issued is replaced by a fresh one.
	if again, err := e.m.EnsureSetupToken(ctx, tok); err != nil || again != tok {
		t.Fatalf("EnsureSetupToken(kept) = %q, %v; want the same token", again, err)
	}
	other, err := e.m.EnsureSetupToken(ctx, "not-issued")
	if err != nil || other == tok || other == "not-issued" || other == "" {
		t.Fatalf("EnsureSetupToken(unknown) = %q, %v; want a new token", other, err)
	}
	// Only hashes are stored.
	var clear int
	if err := e.m.pool.QueryRow(ctx, `SELECT count(*) FROM setup_tokens WHERE token_hash = $1::bytea`, []byte(tok)).Scan(&clear); err != nil || clear != 0 {
		t.Fatalf("clear token stored: %d %v", clear, err)
	}

	for _, tc := range []struct {
		name   string
		body   map[string]string
		status int
		code   string
	}{
		{"wrong token", map[string]string{"token": "abcdefghijklmnopqrstuvwxyz", "username": "root", "password": testPassword}, 403, "bad_setup_token"},
		{"no token", map[string]string{"username": "root", "password": testPassword}, 403, "bad_setup_token"},
		{"weak password", map[string]string{"token": tok, "username": "root", "password": "short"}, 422, "weak_password"},
		{"bad username", map[string]string{"token": tok, "username": "no spaces", "password": testPassword}, 422, "invalid_username"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			st, eb := e.fail("", "POST", "/setup", tc.body)
			if st != tc.status || eb.Error.Code != tc.code {
				t.Fatalf("POST /setup = %d %s (%s), want %d %s", st, eb.Error.Code, eb.Error.Message, tc.status, tc.code)
			}
		})
	}
	if !setupNeeded(t, e) {
		t.Fatal("failed setups changed the state")
	}

	// The token of either node works; it creates the owner and logs it in.
	var s struct {
		Token string `json:"token"`
		User  User   `json:"user"`
		CSRF  string `json:"csrf_token"`
	}
	if st := e.do("", "POST", "/setup", map[string]string{"token": " " + other + "\n", "username": "root", "password": testPassword}, &s); st != 201 {
		t.Fatalf("POST /setup = %d", st)
	}
	if s.Token == "" || s.User.Username != "root" || s.User.Role != RoleOwner || !s.User.Active || s.CSRF == "" {
		t.Fatalf("setup answered %+v", s)
	}
	var me User
	if st := e.do(s.Token, "GET", "/auth/me", nil, &me); st != 200 || me.Username != "root" {
		t.Fatalf("GET /auth/me with the setup session = %d %+v", st, me)
	}
	if e.login("root") == "" {
		t.Fatal("the owner cannot log in with its password")
	}
	if setupNeeded(t, e) {
		t.Fatal("setup still needed after it completed")
	}
	// Every token is inert now: the used one, the other node's, and any.
	for _, tk := range []string{other, tok, "wrong"} {
		st, eb := e.fail("", "POST", "/setup", map[string]string{"token": tk, "username": "second", "password": testPassword})
		if st != http.StatusConflict || eb.Error.Code != "setup_done" {
			t.Fatalf("setup again with %q = %d %s", tk, st, eb.Error.Code)
		}
	}
	var unused int
	if err := e.m.pool.QueryRow(ctx, `SELECT count(*) FROM setup_tokens WHERE used_at IS NULL`).Scan(&unused); err != nil || unused != 0 {
		t.Fatalf("%d unused tokens left (%v)", unused, err)
	}
	if tk, err := e.m.EnsureSetupToken(ctx, tok); err != nil || tk != "" {
		t.Fatalf("EnsureSetupToken after setup = %q, %v; want none", tk, err)
	}
	if _, err := e.m.User(ctx, "second"); err == nil {
		t.Fatal("a refused setup created a user")
	}
}

func TestSetupNotNeededWithAdmin(t *testing.T) {
	e := newAPIEnv(t) // has an owner from EnsureAdmin
	if setupNeeded(t, e) {
		t.Fatal("setup needed although an owner exists")
	}
	if tk, err := e.m.EnsureSetupToken(context.Background(), ""); err != nil || tk != "" {
		t.Fatalf("EnsureSetupToken = %q, %v; want none", tk, err)
	}
	st, eb := e.fail("", "POST", "/setup", map[string]string{"token": "x", "username": "u", "password": testPassword})
	if st != 409 || eb.Error.Code != "setup_done" {
		t.Fatalf("POST /setup = %d %s", st, eb.Error.Code)
	}
}

func TestSetupWrongTokensAreThrottled(t *testing.T) {
	e := newBareAPIEnv(t)
	e.m.setupLimiter = newLoginLimiter(e.m.setupLimiter.window, 3, 3)
	tok, err := e.m.EnsureSetupToken(context.Background(), "")
	if err != nil {
		t.Fatal(err)
	}
	for i := range 3 {
		if st, _ := e.fail("", "POST", "/setup", map[string]string{"token": fmt.Sprint("guess", i), "username": "root", "password": testPassword}); st != 403 {
			t.Fatalf("guess %d = %d, want 403", i, st)
		}
	}
	// Past the limit even the right token waits.
	req := e.request("", "POST", "/setup", map[string]string{"token": tok, "username": "root", "password": testPassword})
	resp, err := e.client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusTooManyRequests || resp.Header.Get("Retry-After") == "" {
		t.Fatalf("after 3 wrong tokens: %d, Retry-After %q", resp.StatusCode, resp.Header.Get("Retry-After"))
	}
	if !setupNeeded(t, e) {
		t.Fatal("a throttled setup created the owner")
	}
}

func TestSetupConcurrentOnlyOneOwner(t *testing.T) {
	e := newBareAPIEnv(t)
	ctx := context.Background()
	// Two nodes sharing the database, each with its token.
	a, _ := e.m.EnsureSetupToken(ctx, "")
	b, _ := e.m.EnsureSetupToken(ctx, "")
	var wg sync.WaitGroup
	results := make([]int, 6)
	for i := range results {
		tok := a
		if i%2 == 1 {
			tok = b
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			results[i] = e.do("", "POST", "/setup", map[string]string{"token": tok, "username": fmt.Sprint("owner", i), "password": testPassword}, nil)
		}()
	}
	wg.Wait()
	created := 0
	for _, st := range results {
		switch st {
		case 201:
			created++
		case 409:
		default:
			t.Errorf("concurrent setup answered %d", st)
		}
	}
	var owners int
	if err := e.m.pool.QueryRow(ctx, `SELECT count(*) FROM users WHERE role = 'owner'`).Scan(&owners); err != nil {
		t.Fatal(err)
	}
	if created != 1 || owners != 1 {
		t.Fatalf("%d setups succeeded, %d owners; want exactly one", created, owners)
	}
}
