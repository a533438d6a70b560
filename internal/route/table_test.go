package route

import (
	"errors"
	"reflect"
	"sync"
	"testing"
)

// r builds a route whose ID, the thing tests compare, is its description.
func r(id, method, host, path string) Route {
	return Route{ID: id, Method: method, Host: host, Path: path, Target: "script-" + id}
}

// TestMatchSeed holds the cases of SEED-REFERENCE.md "Routing semantics",
// bullet by bullet, plus the decisions docs/routing.md records where SEED
// is silent.
func TestMatchSeed(t *testing.T) {
	type req struct{ method, host, path string }
	tests := []struct {
		name   string
		routes []Route
		req    req
		want   string // route ID, "" for no match
		params map[string]string
		rest   string
	}{
		// Path kinds.
		{name: "exact matches its path", routes: []Route{r("e", "*", "", "/greet")},
			req: req{"GET", "h", "/greet"}, want: "e"},
		{name: "exact does not match a child", routes: []Route{r("e", "*", "", "/greet")},
			req: req{"GET", "h", "/greet/x"}, want: ""},
		{name: "exact tolerates one trailing slash", routes: []Route{r("e", "*", "", "/greet")},
			req: req{"GET", "h", "/greet/"}, want: "e"},
		{name: "exact is case-sensitive", routes: []Route{r("e", "*", "", "/greet")},
			req: req{"GET", "h", "/Greet"}, want: ""},
		{name: "root exact", routes: []Route{r("root", "*", "", "/")},
			req: req{"GET", "h", "/"}, want: "root"},
		{name: "empty request path is /", routes: []Route{r("root", "*", "", "/")},
			req: req{"GET", "h", ""}, want: "root"},
		{name: "prefix matches the subtree", routes: []Route{r("p", "*", "", "/greet/*")},
			req: req{"GET", "h", "/greet/a/b"}, want: "p", params: map[string]string{"rest": "a/b"}, rest: "a/b"},
		{name: "seed: prefix does not match bare /greet", routes: []Route{r("p", "*", "", "/greet/*")},
			req: req{"GET", "h", "/greet"}, want: ""},
		{name: "prefix matches /greet/ with empty rest", routes: []Route{r("p", "*", "", "/greet/*")},
			req: req{"GET", "h", "/greet/"}, want: "p", params: map[string]string{"rest": ""}, rest: ""},
		{name: "named wildcard binds its name", routes: []Route{r("p", "*", "", "/files/*path")},
			req: req{"GET", "h", "/files/a/b.txt"}, want: "p", params: map[string]string{"path": "a/b.txt"}, rest: "a/b.txt"},
		{name: "root prefix catches everything", routes: []Route{r("all", "*", "", "/*")},
			req: req{"GET", "h", "/x/y"}, want: "all", params: map[string]string{"rest": "x/y"}, rest: "x/y"},
		{name: "root prefix catches /", routes: []Route{r("all", "*", "", "/*")},
			req: req{"GET", "h", "/"}, want: "all", params: map[string]string{"rest": ""}, rest: ""},
		{name: "param binds one segment", routes: []Route{r("u", "*", "", "/users/:id")},
			req: req{"GET", "h", "/users/42"}, want: "u", params: map[string]string{"id": "42"}},
		{name: "param does not span segments", routes: []Route{r("u", "*", "", "/users/:id")},
			req: req{"GET", "h", "/users/42/x"}, want: ""},
		{name: "param does not match an empty segment", routes: []Route{r("u", "*", "", "/users/:id/x")},
			req: req{"GET", "h", "/users//x"}, want: ""},
		{name: "param does not match a missing segment", routes: []Route{r("u", "*", "", "/users/:id")},
			req: req{"GET", "h", "/users/"}, want: ""},
		{name: "several params", routes: []Route{r("u", "*", "", "/users/:uid/posts/:pid")},
			req: req{"GET", "h", "/users/7/posts/9"}, want: "u", params: map[string]string{"uid": "7", "pid": "9"}},
		{name: "params and rest in one prefix", routes: []Route{r("u", "*", "", "/u/:id/*")},
			req: req{"GET", "h", "/u/7/a/b"}, want: "u", params: map[string]string{"id": "7", "rest": "a/b"}, rest: "a/b"},

		// Percent-encoding.
		{name: "param value is decoded", routes: []Route{r("u", "*", "", "/users/:id")},
			req: req{"GET", "h", "/users/a%20b"}, want: "u", params: map[string]string{"id": "a b"}},
		{name: "encoded slash stays inside a param", routes: []Route{r("u", "*", "", "/users/:id")},
			req: req{"GET", "h", "/users/a%2Fb"}, want: "u", params: map[string]string{"id": "a/b"}},
		{name: "encoded slash does not split a literal", routes: []Route{r("e", "*", "", "/a/b")},
			req: req{"GET", "h", "/a%2Fb"}, want: ""},
		{name: "encoded literal matches its decoded form", routes: []Route{r("e", "*", "", "/café")},
			req: req{"GET", "h", "/caf%C3%A9"}, want: "e"},
		{name: "invalid escape matches nothing", routes: []Route{r("all", "*", "", "/*")},
			req: req{"GET", "h", "/%zz"}, want: ""},
		{name: "rest is decoded", routes: []Route{r("p", "*", "", "/f/*")},
			req: req{"GET", "h", "/f/a%20b/c"}, want: "p", params: map[string]string{"rest": "a b/c"}, rest: "a b/c"},
		{name: "dot segments are not resolved", routes: []Route{r("e", "*", "", "/b"), r("p", "*", "", "/a/*")},
			req: req{"GET", "h", "/a/../b"}, want: "p", params: map[string]string{"rest": "../b"}, rest: "../b"},

		// Precedence: exact beats param beats prefix.
		{name: "seed: exact beats param",
			routes: []Route{r("param", "*", "", "/users/:id"), r("exact", "*", "", "/users/me")},
			req:    req{"GET", "h", "/users/me"}, want: "exact"},
		{name: "seed: exact beats prefix",
			routes: []Route{r("prefix", "*", "", "/greet/*"), r("exact", "*", "", "/greet/x")},
			req:    req{"GET", "h", "/greet/x"}, want: "exact"},
		{name: "seed: param beats prefix",
			routes: []Route{r("prefix", "*", "", "/users/*"), r("param", "*", "", "/users/:id")},
			req:    req{"GET", "h", "/users/7"}, want: "param", params: map[string]string{"id": "7"}},
		{name: "exact beats prefix on a trailing slash",
			routes: []Route{r("prefix", "*", "", "/greet/*"), r("exact", "*", "", "/greet")},
			req:    req{"GET", "h", "/greet/"}, want: "exact"},
		{name: "seed: more leading literal segments win (prefix over param)",
			routes: []Route{r("param", "*", "", "/a/:x/c"), r("prefix", "*", "", "/a/b/*")},
			req:    req{"GET", "h", "/a/b/c"}, want: "prefix", params: map[string]string{"rest": "c"}, rest: "c"},
		{name: "seed: more leading literal segments win (param over param)",
			routes: []Route{r("p0", "GET", "", "/:x/b/c"), r("p1", "*", "", "/a/:y/c")},
			req:    req{"GET", "h", "/a/b/c"}, want: "p1", params: map[string]string{"y": "b"}},
		{name: "seed: on a tie param beats prefix",
			routes: []Route{r("prefix", "*", "", "/a/*"), r("param", "*", "", "/a/:x/c")},
			req:    req{"GET", "h", "/a/b/c"}, want: "param", params: map[string]string{"x": "b"}},
		{name: "seed: longest prefix wins",
			routes: []Route{r("short", "*", "", "/a/*"), r("long", "*", "", "/a/b/*"), r("root", "*", "", "/*")},
			req:    req{"GET", "h", "/a/b/c/d"}, want: "long", params: map[string]string{"rest": "c/d"}, rest: "c/d"},
		{name: "longest prefix falls back to a shorter one",
			routes: []Route{r("short", "*", "", "/a/*"), r("long", "*", "", "/a/b/*")},
			req:    req{"GET", "h", "/a/c"}, want: "short", params: map[string]string{"rest": "c"}, rest: "c"},
		{name: "longest prefix needs a segment below it",
			routes: []Route{r("short", "*", "", "/a/*"), r("long", "*", "", "/a/b/*")},
			req:    req{"GET", "h", "/a/b"}, want: "short", params: map[string]string{"rest": "b"}, rest: "b"},
		{name: "prefix with a param loses to a longer literal prefix",
			routes: []Route{r("lit", "*", "", "/a/b/*"), r("par", "*", "", "/a/:x/c/*")},
			req:    req{"GET", "h", "/a/b/c/d"}, want: "lit", params: map[string]string{"rest": "c/d"}, rest: "c/d"},
		{name: "backtracks from a literal dead end to a param",
			routes: []Route{r("lit", "*", "", "/a/b/c"), r("par", "*", "", "/a/:x/d")},
			req:    req{"GET", "h", "/a/b/d"}, want: "par", params: map[string]string{"x": "b"}},

		// Methods.
		{name: "method must match", routes: []Route{r("g", "GET", "", "/x")},
			req: req{"POST", "h", "/x"}, want: ""},
		{name: "request method is case-insensitive", routes: []Route{r("g", "GET", "", "/x")},
			req: req{"get", "h", "/x"}, want: "g"},
		{name: "specific method beats any on the same path",
			routes: []Route{r("any", "*", "", "/x"), r("get", "GET", "", "/x")},
			req:    req{"GET", "h", "/x"}, want: "get"},
		{name: "any answers other methods",
			routes: []Route{r("any", "*", "", "/x"), r("get", "GET", "", "/x")},
			req:    req{"DELETE", "h", "/x"}, want: "any"},
		{name: "path precedence beats method specificity",
			routes: []Route{r("get-param", "GET", "", "/users/:id"), r("any-exact", "*", "", "/users/me")},
			req:    req{"GET", "h", "/users/me"}, want: "any-exact"},
		{name: "a method mismatch falls through to a less specific path",
			routes: []Route{r("post-exact", "POST", "", "/users/me"), r("get-param", "GET", "", "/users/:id")},
			req:    req{"GET", "h", "/users/me"}, want: "get-param", params: map[string]string{"id": "me"}},
		{name: "HEAD is answered by a GET route", routes: []Route{r("g", "GET", "", "/x")},
			req: req{"HEAD", "h", "/x"}, want: "g"},
		{name: "GET beats any for HEAD",
			routes: []Route{r("any", "*", "", "/x"), r("g", "GET", "", "/x")},
			req:    req{"HEAD", "h", "/x"}, want: "g"},
		{name: "HEAD route beats GET for HEAD",
			routes: []Route{r("g", "GET", "", "/x"), r("h", "HEAD", "", "/x")},
			req:    req{"HEAD", "h", "/x"}, want: "h"},

		// Hosts.
		{name: "any host matches every host", routes: []Route{r("a", "*", "", "/x")},
			req: req{"GET", "whatever.test:8080", "/x"}, want: "a"},
		{name: "strict host is case-insensitive and ignores the port", routes: []Route{r("s", "*", "API.example.com", "/x")},
			req: req{"GET", "api.EXAMPLE.com:443", "/x"}, want: "s"},
		{name: "strict host refuses another host", routes: []Route{r("s", "*", "api.example.com", "/x")},
			req: req{"GET", "www.example.com", "/x"}, want: ""},
		{name: "wildcard host matches one label", routes: []Route{r("w", "*", "*.example.com", "/x")},
			req: req{"GET", "a.example.com", "/x"}, want: "w"},
		{name: "seed: wildcard host matches several labels", routes: []Route{r("w", "*", "*.example.com", "/x")},
			req: req{"GET", "a.b.example.com", "/x"}, want: "w"},
		{name: "wildcard host does not match its bare suffix", routes: []Route{r("w", "*", "*.example.com", "/x")},
			req: req{"GET", "example.com", "/x"}, want: ""},
		{name: "seed: strict beats wildcard",
			routes: []Route{r("w", "*", "*.example.com", "/x"), r("s", "*", "api.example.com", "/x")},
			req:    req{"GET", "api.example.com", "/x"}, want: "s"},
		{name: "seed: wildcard beats any",
			routes: []Route{r("any", "*", "", "/x"), r("w", "*", "*.example.com", "/x")},
			req:    req{"GET", "api.example.com", "/x"}, want: "w"},
		{name: "seed: longer wildcard suffix first",
			routes: []Route{r("short", "*", "*.example.com", "/x"), r("long", "*", "*.eu.example.com", "/x")},
			req:    req{"GET", "a.eu.example.com", "/x"}, want: "long"},
		{name: "host decides before path: strict prefix beats any-host exact",
			routes: []Route{r("any-exact", "*", "", "/greet"), r("strict-all", "*", "api.example.com", "/*")},
			req:    req{"GET", "api.example.com", "/greet"}, want: "strict-all", params: map[string]string{"rest": "greet"}, rest: "greet"},
		{name: "falls back to a less specific host when nothing matches",
			routes: []Route{r("strict", "*", "api.example.com", "/a"), r("wild", "*", "*.example.com", "/b"), r("any", "*", "", "/c")},
			req:    req{"GET", "api.example.com", "/c"}, want: "any"},
		{name: "falls back through a wildcard",
			routes: []Route{r("strict", "*", "api.example.com", "/a"), r("wild", "*", "*.example.com", "/b"), r("any", "*", "", "/c")},
			req:    req{"GET", "api.example.com", "/b"}, want: "wild"},

		// No routes at all.
		{name: "empty table", routes: nil, req: req{"GET", "h", "/"}, want: ""},
		{name: "request path without a slash", routes: []Route{r("all", "*", "", "/*")},
			req: req{"OPTIONS", "h", "*"}, want: ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tab, err := NewTable(tt.routes)
			if err != nil {
				t.Fatalf("NewTable: %v", err)
			}
			m, ok := tab.Match(tt.req.method, tt.req.host, tt.req.path)
			if tt.want == "" {
				if ok {
					t.Fatalf("Match(%v) = %q, want no match", tt.req, m.Route.ID)
				}
				return
			}
			if !ok {
				t.Fatalf("Match(%v): no match, want %q", tt.req, tt.want)
			}
			if m.Route.ID != tt.want || m.Route.Target != "script-"+tt.want {
				t.Fatalf("Match(%v) = %q, want %q", tt.req, m.Route.ID, tt.want)
			}
			if !reflect.DeepEqual(m.Params, tt.params) {
				t.Errorf("params = %v, want %v", m.Params, tt.params)
			}
			if m.Rest != tt.rest {
				t.Errorf("rest = %q, want %q", m.Rest, tt.rest)
			}
			// The brute-force reference must agree (it is what FuzzMatch checks).
			if ref := bruteMatch(t, tt.routes, tt.req.method, tt.req.host, tt.req.path); ref != tt.want {
				t.Errorf("bruteMatch = %q, want %q", ref, tt.want)
			}
		})
	}
}

func TestRawRest(t *testing.T) {
	tab, err := NewTable([]Route{r("p", "*", "", "/f/*")})
	if err != nil {
		t.Fatal(err)
	}
	m, ok := tab.Match("GET", "", "/f/a%2Fb/c")
	if !ok || m.RawRest != "a%2Fb/c" || m.Rest != "a/b/c" {
		t.Fatalf("Match = %+v, %v", m, ok)
	}
}

// TestConflicts holds SEED's conflict rules: refused at creation with the
// conflicting route.
func TestConflicts(t *testing.T) {
	tests := []struct {
		name     string
		existing Route
		new      Route
		conflict bool
	}{
		{"seed: two exact routes with the same path", r("a", "*", "", "/greet"), r("b", "*", "", "/greet"), true},
		{"exact paths compare decoded", r("a", "*", "", "/café"), r("b", "*", "", "/caf%C3%A9"), true},
		{"different exact paths", r("a", "*", "", "/greet"), r("b", "*", "", "/greet2"), false},
		{"seed: two prefix routes with the same prefix", r("a", "*", "", "/greet/*"), r("b", "*", "", "/greet/*"), true},
		{"prefix names do not discriminate", r("a", "*", "", "/greet/*"), r("b", "*", "", "/greet/*path"), true},
		{"nested prefixes coexist", r("a", "*", "", "/greet/*"), r("b", "*", "", "/greet/x/*"), false},
		{"seed: :id vs :userId conflict", r("a", "*", "", "/users/:id"), r("b", "*", "", "/users/:userId"), true},
		{"seed: same shape, literals where both have literals", r("a", "*", "", "/a/:x"), r("b", "*", "", "/:y/b"), true},
		{"same count, different literals", r("a", "*", "", "/users/:id"), r("b", "*", "", "/posts/:id"), false},
		{"different segment counts", r("a", "*", "", "/users/:id"), r("b", "*", "", "/users/:id/:x"), false},
		{"param literal against a param", r("a", "*", "", "/users/:id/posts"), r("b", "*", "", "/users/:id/:what"), true},
		{"prefixes with params same shape", r("a", "*", "", "/u/:id/*"), r("b", "*", "", "/u/:uid/*"), true},
		{"exact vs param is no conflict", r("a", "*", "", "/users/me"), r("b", "*", "", "/users/:id"), false},
		{"exact vs prefix is no conflict", r("a", "*", "", "/greet"), r("b", "*", "", "/greet/*"), false},
		{"param vs prefix is no conflict", r("a", "*", "", "/users/:id"), r("b", "*", "", "/users/*"), false},
		{"different methods do not conflict", r("a", "GET", "", "/greet"), r("b", "POST", "", "/greet"), false},
		{"any method vs GET is no conflict", r("a", "*", "", "/greet"), r("b", "GET", "", "/greet"), false},
		{"method case is normalized", r("a", "get", "", "/greet"), r("b", "GET", "", "/greet"), true},
		{"different hosts do not conflict", r("a", "*", "a.example.com", "/greet"), r("b", "*", "b.example.com", "/greet"), false},
		{"host case is normalized", r("a", "*", "A.example.com", "/greet"), r("b", "*", "a.example.com", "/greet"), true},
		{"empty host and * are the same", r("a", "*", "", "/greet"), r("b", "", "*", "/greet"), true},
		{"strict vs wildcard do not conflict", r("a", "*", "a.example.com", "/greet"), r("b", "*", "*.example.com", "/greet"), false},
		{"same wildcard conflicts", r("a", "*", "*.example.com", "/greet"), r("b", "*", "*.EXAMPLE.com", "/greet"), true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tab, err := NewTable([]Route{tt.existing})
			if err != nil {
				t.Fatal(err)
			}
			err = tab.Check(tt.new)
			_, newErr := NewTable([]Route{tt.existing, tt.new})
			if !tt.conflict {
				if err != nil || newErr != nil {
					t.Fatalf("Check = %v, NewTable = %v; want no conflict", err, newErr)
				}
				return
			}
			for _, e := range []error{err, newErr} {
				if !errors.Is(e, ErrConflict) {
					t.Fatalf("err = %v, want ErrConflict", e)
				}
				var ce *ConflictError
				if !errors.As(e, &ce) || ce.Existing != tt.existing || ce.New != tt.new {
					t.Fatalf("err = %#v, want a *ConflictError{%v, %v}", e, tt.existing, tt.new)
				}
			}
		})
	}
}

func TestCheck(t *testing.T) {
	tab, err := NewTable([]Route{r("a", "GET", "", "/users/:id"), r("b", "*", "", "/greet")})
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name     string
		route    Route
		sentinel error
	}{
		{"valid new route", r("c", "GET", "", "/posts/:id"), nil},
		{"update of a route keeps its own shape", r("a", "GET", "", "/users/:uid"), nil},
		{"another ID with the same shape", r("c", "GET", "", "/users/:uid"), ErrConflict},
		{"no ID with the same shape", r("", "GET", "", "/users/:uid"), ErrConflict},
		{"invalid path", r("c", "GET", "", "/users/a:b"), ErrInvalidPattern},
		{"reserved path", r("c", "GET", "", "/api/x"), ErrReserved},
		{"invalid host", r("c", "GET", "a b", "/x"), ErrInvalidPattern},
		{"invalid method", r("c", "G T", "", "/x"), ErrInvalidPattern},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tab.Check(tt.route)
			if tt.sentinel == nil {
				if err != nil {
					t.Fatalf("Check: %v", err)
				}
				return
			}
			if !errors.Is(err, tt.sentinel) {
				t.Fatalf("Check = %v, want %v", err, tt.sentinel)
			}
		})
	}
	wantMsg := `route GET * /users/:uid conflicts with existing route "a" (GET * /users/:id)`
	if err := tab.Check(r("z", "GET", "", "/users/:uid")); err == nil || err.Error() != wantMsg {
		t.Errorf("message\n got %v\nwant %s", err, wantMsg)
	}
}

func TestNewTableErrors(t *testing.T) {
	_, err := NewTable([]Route{r("a", "*", "", "/x"), r("b", "*", "", "/a:b")})
	var pe *ParseError
	if !errors.As(err, &pe) || pe.Pos != 2 {
		t.Fatalf("NewTable = %v, want a *ParseError at 2", err)
	}
	tab, errs := BuildTable([]Route{r("a", "*", "", "/x"), r("b", "*", "", "/a:b"), r("c", "*", "", "/x"), r("d", "*", "", "/y")})
	if len(errs) != 2 || tab.Len() != 2 {
		t.Fatalf("BuildTable kept %d routes, errors %v", tab.Len(), errs)
	}
	if m, ok := tab.Match("GET", "", "/x"); !ok || m.Route.ID != "a" {
		t.Fatalf("first of two conflicting routes must stay, got %v %v", m.Route.ID, ok)
	}
	if got := tab.Routes(); len(got) != 2 || got[1].ID != "d" {
		t.Fatalf("Routes = %v", got)
	}
}

func TestMatchConcurrent(t *testing.T) {
	tab, err := NewTable([]Route{r("u", "*", "", "/users/:id"), r("p", "*", "", "/f/*")})
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	for g := 0; g < 8; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < 1000; i++ {
				if m, ok := tab.Match("GET", "", "/users/7"); !ok || m.Params["id"] != "7" {
					t.Errorf("Match = %v %v", m, ok)
					return
				}
			}
		}()
	}
	wg.Wait()
}

// bruteMatch is the reference matcher: a linear scan applying the precedence
// rules directly, host tier by host tier.
func bruteMatch(t testing.TB, routes []Route, method, host, path string) string {
	t.Helper()
	if path == "" {
		path = "/"
	}
	segs, _, ok := splitRequest(path, nil, nil)
	if !ok {
		return ""
	}
	exactLen := len(segs)
	if exactLen > 0 && segs[exactLen-1] == "" {
		exactLen--
	}
	method = upperASCII(method)
	h := NormalizeHost(host)
	var entries []*entry
	for i, rt := range routes {
		m, _ := NormalizeMethod(rt.Method)
		hp, _ := ParseHost(rt.Host)
		p, err := ParsePath(rt.Path)
		if err != nil {
			t.Fatalf("bruteMatch: %v", err)
		}
		entries = append(entries, &entry{route: rt, method: m, host: hp, path: p, order: i})
	}
	// Host tiers: strict, each wildcard suffix longest first, any.
	tier := func(e *entry) int {
		switch e.host.kind {
		case HostStrict:
			if e.host.name == h {
				return 0
			}
		case HostWildcard:
			if e.host.Matches(h) {
				return 1000 - len(e.host.name)
			}
		case HostAny:
			return 2000
		}
		return -1
	}
	var best *entry
	bestTier := 0
	for _, e := range entries {
		tr := tier(e)
		if tr < 0 || methodRank(e.method, method) < 0 || !pathMatches(e.path, segs, exactLen) {
			continue
		}
		if best == nil || tr < bestTier || tr == bestTier && better(e, best, method) {
			best, bestTier = e, tr
		}
	}
	if best == nil {
		return ""
	}
	return best.route.ID
}

func pathMatches(p Path, segs []string, exactLen int) bool {
	n := exactLen
	if p.kind == PathPrefix {
		if len(segs) <= len(p.segs) {
			return false
		}
	} else if n != len(p.segs) {
		return false
	}
	for i, s := range p.segs {
		if s.Kind == SegLiteral && segs[i] != s.Value || s.Kind == SegParam && segs[i] == "" {
			return false
		}
	}
	return true
}
