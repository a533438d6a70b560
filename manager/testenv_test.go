package manager

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"
)

const testPassword = "password-123"

// apiEnv is a manager behind a real HTTP server, with users of every role.
type apiEnv struct {
	t      testing.TB
	m      *Manager
	srv    *httptest.Server
	client *http.Client
	hash   string // argon2id of testPassword, to create users fast
	users  map[string]User
	n      int
}

func newAPIEnv(t testing.TB) *apiEnv {
	t.Helper()
	e := newBareAPIEnv(t)
	if _, err := e.m.EnsureAdmin(context.Background(), "owner", testPassword, false); err != nil {
		t.Fatal(err)
	}
	e.users["owner"], _ = e.m.User(context.Background(), "owner")
	return e
}

// newBareAPIEnv is newAPIEnv without any user: a database before setup.
func newBareAPIEnv(t testing.TB) *apiEnv {
	t.Helper()
	m := open(t)
	// Cheap hashes: the cost is not what these tests are about, and
	// argon2id at full cost takes seconds under the race detector.
	m.argon = argonCost{memory: 64, time: 1}
	m.secretKey = bytes.Repeat([]byte{7}, SecretKeySize)
	srv := httptest.NewServer(m.Handler())
	t.Cleanup(srv.Close)
	hash, err := m.hashPassword(testPassword)
	if err != nil {
		t.Fatal(err)
	}
	e := &apiEnv{t: t, m: m, srv: srv, hash: hash, users: map[string]User{},
		client: &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}}
	return e
}

func (e *apiEnv) seq() int { e.n++; return e.n }

// user creates a user directly in the database.
func (e *apiEnv) user(name, role string) User {
	e.t.Helper()
	var u User
	err := e.m.pool.QueryRow(context.Background(), `
		INSERT INTO users (username, password_hash, role) VALUES ($1, $2, $3) RETURNING id, username, role, active`,
		name, e.hash, role).Scan(&u.ID, &u.Username, &u.Role, &u.Active)
	if err != nil {
		e.t.Fatalf("creating user %s: %v", name, err)
	}
	e.users[name] = u
	return u
}

func (e *apiEnv) freshUser() User { return e.user(fmt.Sprintf("fresh%d", e.seq()), RoleMember) }

func (e *apiEnv) login(name string) string {
	e.t.Helper()
	var out struct{ Token string }
	if st := e.do("", "POST", "/auth/login", map[string]string{"username": name, "password": testPassword}, &out); st != 200 {
		e.t.Fatalf("login %s: %d", name, st)
	}
	return out.Token
}

func (e *apiEnv) key(owner string, scopes []string, appID string) NewAPIKey {
	e.t.Helper()
	k, err := e.m.CreateKey(context.Background(), KeyInput{UserID: e.users[owner].ID, Scopes: scopes, AppID: appID})
	if err != nil {
		e.t.Fatal(err)
	}
	return k
}

func (e *apiEnv) app(slug string) App {
	e.t.Helper()
	a, err := e.m.CreateApp(context.Background(), slug, "")
	if err != nil {
		e.t.Fatal(err)
	}
	return a
}

func (e *apiEnv) deploy(app, name string) Deployed {
	e.t.Helper()
	d, err := e.m.Deploy(context.Background(), DeployInput{App: app, Name: name, Source: "export default {}"})
	if err != nil {
		e.t.Fatal(err)
	}
	return d
}

func (e *apiEnv) route(appID, script, path string) Route {
	e.t.Helper()
	r, err := e.m.CreateRoute(context.Background(), RouteInput{AppID: appID, Script: script, Method: "GET", Path: path})
	if err != nil {
		e.t.Fatal(err)
	}
	return r
}

func (e *apiEnv) request(token, method, path string, body any) *http.Request {
	e.t.Helper()
	var r io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			e.t.Fatal(err)
		}
		r = bytes.NewReader(b)
	}
	req, err := http.NewRequest(method, e.srv.URL+APIPrefix+path, r)
	if err != nil {
		e.t.Fatal(err)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	return req
}

// send performs req and decodes a JSON answer into out (if not nil). It
// checks that every error answer is the envelope.
func (e *apiEnv) send(req *http.Request, out any) (int, []byte) {
	e.t.Helper()
	resp, err := e.client.Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode >= 400 {
		var env struct {
			Error struct {
				Code    string `json:"code"`
				Message string `json:"message"`
			} `json:"error"`
		}
		if err := json.Unmarshal(b, &env); err != nil || env.Error.Code == "" || env.Error.Message == "" {
			e.t.Errorf("%s %s: %d answer is not the error envelope: %s", req.Method, req.URL.Path, resp.StatusCode, b)
		}
	}
	if out != nil && resp.StatusCode < 300 && len(b) > 0 {
		if err := json.Unmarshal(b, out); err != nil {
			e.t.Fatalf("%s %s: decoding %s: %v", req.Method, req.URL.Path, b, err)
		}
	}
	return resp.StatusCode, b
}

func (e *apiEnv) do(token, method, path string, body, out any) int {
	e.t.Helper()
	st, _ := e.send(e.request(token, method, path, body), out)
	return st
}
