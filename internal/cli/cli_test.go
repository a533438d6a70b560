package cli

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

func TestParseRouteSpec(t *testing.T) {
	cases := []struct {
		name, spec, method, path string
		bad                      bool
	}{
		{"method and path", "GET /hello", "GET", "/hello", false},
		{"lower-case method", "post /x/:id", "POST", "/x/:id", false},
		{"path only is any method", "/hello", "*", "/hello", false},
		{"star method", "* /a/*rest", "*", "/a/*rest", false},
		{"extra spaces", "  PUT   /p  ", "PUT", "/p", false},
		{"relative path", "GET hello", "", "", true},
		{"three words", "GET /a /b", "", "", true},
		{"empty", "", "", "", true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			m, p, err := parseRouteSpec(tc.spec)
			if tc.bad {
				var u *usageError
				if !errors.As(err, &u) {
					t.Fatalf("got %q %q %v, want a usage error", m, p, err)
				}
				return
			}
			if err != nil || m != tc.method || p != tc.path {
				t.Fatalf("got %q %q %v, want %q %q", m, p, err, tc.method, tc.path)
			}
		})
	}
}

func TestNameAndLanguageFromFile(t *testing.T) {
	cases := []struct {
		file, name, lang string
	}{
		{"hello.js", "hello", "javascript"},
		{"dir/api-v2.ts", "api-v2", "typescript"},
		{"My Worker.mjs", "My-Worker", "javascript"},
		{"x.TSX", "x", "typescript"},
		{"über.cts", "ber", "typescript"},
		{"notes.txt", "notes", ""},
		{"Makefile", "Makefile", ""},
	}
	for _, tc := range cases {
		t.Run(tc.file, func(t *testing.T) {
			if got := nameOf(tc.file); got != tc.name {
				t.Errorf("nameOf = %q, want %q", got, tc.name)
			}
			lang, err := languageOf(tc.file)
			if lang != tc.lang || (tc.lang == "") != (err != nil) {
				t.Errorf("languageOf = %q %v, want %q", lang, err, tc.lang)
			}
		})
	}
}

func TestExitCodes(t *testing.T) {
	cases := []struct {
		name string
		err  error
		want int
	}{
		{"ok", nil, 0},
		{"usage", usagef("bad"), 2},
		{"unauthenticated", &apiError{Status: 401}, 3},
		{"forbidden", &apiError{Status: 403}, 3},
		{"not logged in", fmt.Errorf("%w to x", errNotLoggedIn), 3},
		{"not found", &apiError{Status: 404}, 4},
		{"no such script", fmt.Errorf("%w: no script", errNotFound), 4},
		{"conflict", &apiError{Status: 409}, 5},
		{"invalid", &apiError{Status: 422}, 5},
		{"bad request", &apiError{Status: 400}, 5},
		{"unreachable", &apiError{Status: 0, Message: "cannot reach"}, 6},
		{"server error", &apiError{Status: 503}, 6},
		{"anything else", errors.New("disk full"), 1},
		{"login throttled", &apiError{Status: 429}, 3},
		{"body too large", &apiError{Status: 413}, 5},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if got := exitCode(tc.err); got != tc.want {
				t.Fatalf("exitCode = %d, want %d", got, tc.want)
			}
		})
	}
}

func TestDecodeErrorEnvelopeAndHints(t *testing.T) {
	e := decodeError(409, []byte(`{"error":{"code":"app_has_scripts","message":"the app still has 2 scripts","details":{"scripts":2}}}`))
	if e.Code != "app_has_scripts" || !strings.Contains(e.Error(), `details: {"scripts":2}`) {
		t.Fatalf("envelope: %+v %q", e, e.Error())
	}
	e = decodeError(401, []byte(`{"error":{"code":"unauthenticated","message":"log in first"}}`))
	if !strings.Contains(e.Error(), "hint: log in again with `picloud login`") {
		t.Fatalf("401 hint: %q", e.Error())
	}
	e = decodeError(502, []byte("<html>bad gateway</html>"))
	if e.Message != "<html>bad gateway</html>" || exitCode(e) != 6 {
		t.Fatalf("non-envelope body: %+v", e)
	}
	if e := decodeError(500, nil); e.Message != "Internal Server Error" {
		t.Fatalf("empty body: %+v", e)
	}
}

func TestFlagsAnywhere(t *testing.T) {
	r := &runner{}
	rest, err := r.globalFlags([]string{"deploy", "--json", "a.js", "--url", "http://x", "--app", "shop"})
	if err != nil || !r.json || r.url != "http://x" || strings.Join(rest, " ") != "deploy a.js --app shop" {
		t.Fatalf("global flags: %v %+v %q", err, r, rest)
	}
	if _, err := (&runner{}).globalFlags([]string{"--url"}); err == nil {
		t.Fatal("--url without a value accepted")
	}
	f := newFlags("deploy")
	app := f.String("app", "default", "")
	if err := f.parse([]string{"a.js", "--app", "shop", "--", "-odd-name.js"}, 1, 2); err != nil {
		t.Fatal(err)
	}
	if *app != "shop" || strings.Join(f.pos, " ") != "a.js -odd-name.js" {
		t.Fatalf("parsed app %q, positionals %q", *app, f.pos)
	}
	f = newFlags("x")
	if err := f.parse([]string{"a", "b"}, 1, 1); err == nil || !strings.Contains(err.Error(), `unexpected argument "b"`) {
		t.Fatalf("too many arguments: %v", err)
	}
	f = newFlags("x")
	if err := f.parse([]string{"--nope"}, 0, 0); exitCode(err) != exitUsage {
		t.Fatalf("unknown flag: %v", err)
	}
}

func testEnv(t *testing.T, env map[string]string) (*Env, *bytes.Buffer, *bytes.Buffer) {
	dir := t.TempDir()
	var out, errb bytes.Buffer
	return &Env{
		Stdin: strings.NewReader(""), Stdout: &out, Stderr: &errb,
		Getenv:       func(k string) string { return env[k] },
		ConfigDir:    func() (string, error) { return dir, nil },
		IsTerminal:   func() bool { return false },
		ReadPassword: func() (string, error) { return "", errors.New("no terminal") },
	}, &out, &errb
}

func TestCredentialsFileAndOverrides(t *testing.T) {
	env := map[string]string{}
	e, _, _ := testEnv(t, env)
	if c, err := e.target(""); err != nil || c.URL != DefaultURL || c.Token != "" {
		t.Fatalf("no login: %+v %v", c, err)
	}
	p, err := e.saveCredentials(credentials{URL: "http://pi.local", Token: "tok"})
	if err != nil {
		t.Fatal(err)
	}
	for path, mode := range map[string]os.FileMode{p: 0o600, filepath.Dir(p): 0o700} {
		if st, err := os.Stat(path); err != nil || st.Mode().Perm() != mode {
			t.Fatalf("%s: %v %v, want %o", path, st.Mode(), err, mode)
		}
	}
	cases := []struct {
		name     string
		env      map[string]string
		flagURL  string
		url, tok string
	}{
		{"stored", nil, "", "http://pi.local", "tok"},
		{"env overrides", map[string]string{"PICLOUD_URL": "http://other", "PICLOUD_TOKEN": "envtok"}, "", "http://other", "envtok"},
		{"flag overrides env", map[string]string{"PICLOUD_URL": "http://other"}, "http://flag", "http://flag", "tok"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			clear(env)
			for k, v := range tc.env {
				env[k] = v
			}
			c, err := e.target(tc.flagURL)
			if err != nil || c.URL != tc.url || c.Token != tc.tok {
				t.Fatalf("got %+v %v", c, err)
			}
		})
	}
	if err := e.removeCredentials(); err != nil {
		t.Fatal(err)
	}
	if err := e.removeCredentials(); err != nil {
		t.Fatalf("second logout: %v", err)
	}
}

func TestRunReportsUsageAndLoginProblems(t *testing.T) {
	cases := []struct {
		name string
		args []string
		code int
		want string
	}{
		{"no command", nil, 2, "client commands"},
		{"unknown", []string{"nope"}, 2, `unknown command "nope"`},
		{"apps without subcommand", []string{"apps"}, 2, "usage: picloud apps"},
		{"keys create without scope", []string{"keys", "create", "ci"}, 2, "--scope"},
		{"login without credentials", []string{"login", "http://127.0.0.1:1"}, 2, "--username"},
		{"login with a bad URL", []string{"login", "pi.local"}, 2, "must start with http://"},
		{"whoami logged out", []string{"whoami"}, 3, "picloud login"},
		{"logs with a bad limit", []string{"logs", "--limit", "500"}, 2, "--limit"},
		{"logs until with follow", []string{"logs", "--until", "1h", "-f"}, 2, "exclude"},
		{"users unknown subcommand", []string{"users", "promote", "bob"}, 2, `unknown subcommand "promote"`},
		{"users set nothing", []string{"users", "set", "bob"}, 2, "give --role or --active"},
		{"users set bad active", []string{"users", "set", "bob", "--active", "maybe"}, 2, "--active must be true or false"},
		{"users create without name", []string{"users", "create"}, 2, "missing argument"},
		{"members set without role", []string{"members", "set", "bob"}, 2, "missing argument"},
		{"members without subcommand", []string{"members"}, 2, "missing subcommand"},
		{"apps set nothing", []string{"apps", "set", "shop"}, 2, "give --slug, --name"},
		{"apps set bad retention", []string{"apps", "set", "shop", "--log-lines", "lots"}, 2, `--log-lines must be a positive number or "default"`},
		{"apps rename without new slug", []string{"apps", "rename", "shop"}, 2, "missing argument"},
		{"routes set nothing", []string{"routes", "set", "some-id"}, 2, "nothing to change"},
		{"routes match bad spec", []string{"routes", "match", "GET x"}, 2, "must start with /"},
		{"deploy bad limits", []string{"deploy", "x.js", "--limits", "{cpu"}, 2, "--limits must be JSON"},
		{"scripts unknown subcommand", []string{"scripts", "cat", "x"}, 2, "ls, show, source or rm"},
		{"passwd logged out", []string{"passwd", "--password-stdin"}, 3, "picloud login"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			e, _, errb := testEnv(t, map[string]string{})
			if code := Run(context.Background(), e, tc.args); code != tc.code || !strings.Contains(errb.String(), tc.want) {
				t.Fatalf("exit %d, stderr %q; want %d mentioning %q", code, errb.String(), tc.code, tc.want)
			}
		})
	}
	e, out, _ := testEnv(t, map[string]string{})
	if code := Run(context.Background(), e, []string{"deploy", "--help"}); code != 0 || !strings.Contains(out.String(), "usage: picloud deploy FILE") {
		t.Fatalf("--help: %d %q", code, out.String())
	}
	e, out, _ = testEnv(t, map[string]string{})
	if code := Run(context.Background(), e, []string{"users", "--help"}); code != 0 ||
		!strings.Contains(out.String(), "usage: picloud users ls\n       picloud users show USER\n") {
		t.Fatalf("users --help: %d %q", code, out.String())
	}
}

func TestPrintExecution(t *testing.T) {
	var buf bytes.Buffer
	r := &runner{out: &output{w: &buf}}
	e := execution{Seq: 3, Method: "GET", Path: "/x", Status: 500, Outcome: "error", DurationMS: 1.25, App: "shop", Script: "api", Version: 2,
		StartedAt: time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC), Error: "boom",
		Logs: []logLine{{Level: "info", Message: "a\nb"}, {Level: "error", Message: "boom"}}}
	if err := r.printExecution(e); err != nil {
		t.Fatal(err)
	}
	got := buf.String()
	for _, want := range []string{"GET /x  500  error  1.2ms  shop/api v2", "    info   a\n           b\n", "    error  boom\n"} {
		if !strings.Contains(got, want) {
			t.Errorf("output lacks %q:\n%s", want, got)
		}
	}
	if strings.Count(got, "boom") != 1 {
		t.Errorf("the error is printed twice:\n%s", got)
	}
	buf.Reset()
	r.json = true
	r.out.json = true
	_ = r.printExecution(e)
	if !strings.HasPrefix(buf.String(), `{"seq":3,`) || strings.Count(buf.String(), "\n") != 1 {
		t.Errorf("json line: %q", buf.String())
	}
}

func TestReadStreamSkipsSeenAndParsesEvents(t *testing.T) {
	var buf bytes.Buffer
	r := &runner{out: &output{w: &buf, json: true}, json: true}
	stream := ": connected\n\n" +
		"id: 4\nevent: execution\ndata: {\"seq\":4,\"id\":\"old\"}\n\n" +
		": ping\n\n" +
		"id: 6\nevent: execution\ndata: {\"seq\":6,\"id\":\"new\"}\n\n" +
		"event: other\ndata: {}\n\n"
	last := int64(5)
	if err := r.readStream(strings.NewReader(stream), &last); err != nil {
		t.Fatal(err)
	}
	if last != 6 || strings.Contains(buf.String(), `"old"`) || !strings.Contains(buf.String(), `"new"`) {
		t.Fatalf("last %d, printed %q", last, buf.String())
	}
	if err := r.readStream(strings.NewReader("event: execution\ndata: {nope\n\n"), &last); err == nil {
		t.Fatal("a bad event was accepted")
	}
}

func TestReadLines(t *testing.T) {
	cases := []struct {
		name, in string
		want     []string
	}{
		{"two lines", "old\nnew\n", []string{"old", "new"}},
		{"no final newline", "old\nnew", []string{"old", "new"}},
		{"crlf", "old\r\nnew\r\n", []string{"old", "new"}},
		{"extra lines ignored", "a\nb\nc\n", []string{"a", "b"}},
		{"one line", "only\n", []string{"only"}},
		{"empty", "", nil},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got, err := readLines(strings.NewReader(tc.in), 2)
			if err != nil || !slices.Equal(got, tc.want) {
				t.Fatalf("readLines = %q, %v; want %q", got, err, tc.want)
			}
		})
	}
}
