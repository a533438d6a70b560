package route

import (
	"net/url"
	"strconv"
	"strings"
	"testing"
)

func FuzzParsePath(f *testing.F) {
	for _, s := range []string{"/", "/greet", "/greet/*", "/greet/*rest", "/users/:id", "/users/a:b",
		"/a//b", "/a/", "/api/x", "/caf%C3%A9", "/a/*/b", "/:a/:a", "/a%zz", "/%2e%2e", "/u/:id/*"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		p, err := ParsePath(s)
		if err != nil {
			if p.String() != "" {
				t.Fatalf("error %v with a non-zero Path", err)
			}
			pe, ok := err.(*ParseError)
			if !ok || pe.Input != s || pe.Pos < 0 || pe.Pos > len(s) || pe.Msg == "" {
				t.Fatalf("ParsePath(%q) error %#v is not a well-formed *ParseError", s, err)
			}
			return
		}
		if p.String() != s || len(s) > MaxPathLen || len(p.segs) > MaxPathSegments {
			t.Fatalf("ParsePath(%q) = %q", s, p.String())
		}
		if !p.Overlaps(p) {
			t.Fatalf("%q does not overlap itself", s)
		}
		params := 0
		for _, sg := range p.segs {
			if sg.Kind == SegParam {
				params++
			}
		}
		switch {
		case p.kind == PathPrefix && p.rest == "",
			p.kind == PathParam && params == 0,
			p.kind == PathExact && params != 0:
			t.Fatalf("%q: kind %v inconsistent with %d params", s, p.kind, params)
		}
		// A request for the pattern's concrete instance matches it alone.
		tab, err := NewTable([]Route{{ID: "r", Path: s}})
		if err != nil {
			t.Fatalf("NewTable(%q): %v", s, err)
		}
		req := instantiate(p)
		m, ok := tab.Match("GET", "h", req)
		if !ok {
			t.Fatalf("%q does not match its instance %q", s, req)
		}
		for i, sg := range p.segs {
			if sg.Kind == SegParam && m.Params[sg.Value] != "p"+strconv.Itoa(i) {
				t.Fatalf("%q on %q: params %v", s, req, m.Params)
			}
		}
	})
}

// instantiate returns a request path that p matches: literals escaped,
// param i as "p<i>", the wildcard as "r/s".
func instantiate(p Path) string {
	var b strings.Builder
	for i, sg := range p.segs {
		b.WriteByte('/')
		if sg.Kind == SegLiteral {
			b.WriteString(url.PathEscape(sg.Value))
		} else {
			b.WriteString("p" + strconv.Itoa(i))
		}
	}
	if p.kind == PathPrefix {
		b.WriteString("/r/s")
	}
	if b.Len() == 0 {
		return "/"
	}
	return b.String()
}

func FuzzParseDomain(f *testing.F) {
	for _, s := range []string{"api.example.com", "*.example.com", "{tenant}.example.com", "localhost",
		"*", "", "a.*.com", "{t}x.com", "[::1]", "API.Example.COM.", "x:80"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		d, err := ParseDomain(s)
		if err != nil {
			pe, ok := err.(*ParseError)
			if !ok || pe.Input != s || pe.Pos < 0 || pe.Pos > len(s) {
				t.Fatalf("ParseDomain(%q) error %#v is not a well-formed *ParseError", s, err)
			}
			return
		}
		again, err := ParseDomain(d.String())
		if err != nil || again != d {
			t.Fatalf("canonical %q of %q reparses to %v, %v", d.String(), s, again, err)
		}
		tab, err := NewDomainTable([]Claim{{ID: "c", Pattern: s}})
		if err != nil {
			t.Fatal(err)
		}
		host := d.name
		if d.kind != DomainExact {
			host = "x.y." + d.name
		}
		c, params, ok := tab.Match(strings.ToUpper(host) + ":8080")
		if !ok || c.ID != "c" {
			t.Fatalf("%q does not match its instance %q", s, host)
		}
		if d.kind == DomainParam && params[d.param] != "x.y" || d.kind != DomainParam && params != nil {
			t.Fatalf("%q on %q: params %v", s, host, params)
		}
		if d.kind != DomainExact {
			if _, _, ok := tab.Match(d.name); ok {
				t.Fatalf("%q matches its bare suffix %q", s, d.name)
			}
		}
	})
}

var (
	fuzzMethods = []string{"*", "GET", "POST"}
	fuzzHosts   = []string{"", "a.example.com", "*.example.com", "*.b.example.com"}
	fuzzSegs    = []string{"a", "b", "c", ":p", ":q", "*", "*w"}
)

// routesFromBytes turns fuzz bytes into a small route set over a tiny
// alphabet, so that overlaps and precedence fights are frequent.
func routesFromBytes(data []byte) []Route {
	var routes []Route
	for len(data) >= 3 && len(routes) < 32 {
		method := fuzzMethods[int(data[0])%len(fuzzMethods)]
		host := fuzzHosts[int(data[1])%len(fuzzHosts)]
		n := int(data[2]) % 5
		data = data[3:]
		var b strings.Builder
		for i := 0; i < n && len(data) > 0; i++ {
			b.WriteByte('/')
			b.WriteString(fuzzSegs[int(data[0])%len(fuzzSegs)])
			data = data[1:]
		}
		path := b.String()
		if path == "" {
			path = "/"
		}
		routes = append(routes, Route{ID: strconv.Itoa(len(routes)), Method: method, Host: host, Path: path})
	}
	return routes
}

func FuzzMatch(f *testing.F) {
	f.Add([]byte{0, 0, 2, 0, 3, 0, 0, 2, 0, 0}, "GET", "x.example.com", "/a/b")
	f.Add([]byte{1, 2, 3, 3, 1, 2, 0, 0, 2, 0, 5}, "POST", "a.b.example.com", "/a/b/c")
	f.Add([]byte{0, 1, 1, 5, 2, 3, 2, 0, 4}, "HEAD", "a.example.com:80", "/a/")
	f.Add([]byte{}, "GET", "", "/")
	f.Fuzz(func(t *testing.T, data []byte, method, host, path string) {
		routes := routesFromBytes(data)
		tab, _ := BuildTable(routes)
		kept := tab.Routes()

		// The trie agrees with the linear reference on an arbitrary request.
		got := ""
		if m, ok := tab.Match(method, host, path); ok {
			got = m.Route.ID
			if !strings.HasPrefix(path, "/") && path != "" {
				t.Fatalf("matched a path without a leading slash: %q", path)
			}
		}
		if want := bruteMatch(t, kept, method, host, path); got != want {
			t.Fatalf("Match(%q, %q, %q) = %q, reference %q; routes %v", method, host, path, got, want, kept)
		}

		// Each route's own instance finds a route at least as specific.
		for i, rt := range kept {
			p, _ := ParsePath(rt.Path)
			h, _ := ParseHost(rt.Host)
			reqHost := "any.invalid"
			switch h.kind {
			case HostStrict:
				reqHost = h.name
			case HostWildcard:
				reqHost = "z." + h.name
			}
			reqMethod := rt.Method
			if reqMethod == "*" {
				reqMethod = "PATCH"
			}
			req := instantiate(p)
			m, ok := tab.Match(reqMethod, reqHost, req)
			if !ok {
				t.Fatalf("route %v: its instance %s %s %s matches nothing", rt, reqMethod, reqHost, req)
			}
			if m.Route.ID == rt.ID {
				continue
			}
			var found *entry
			for j, x := range kept {
				if x.ID == m.Route.ID {
					fm, _ := NormalizeMethod(x.Method)
					fh, _ := ParseHost(x.Host)
					fp, _ := ParsePath(x.Path)
					found = &entry{route: x, method: fm, host: fh, path: fp, order: j}
				}
			}
			self := &entry{route: rt, method: rt.Method, host: h, path: p, order: i}
			hostTier := func(x Host) int {
				if x.kind == HostWildcard {
					return 1000 - len(x.name)
				}
				return map[HostKind]int{HostStrict: 0, HostAny: 2000}[x.kind]
			}
			if ft, st := hostTier(found.host), hostTier(h); ft > st || ft == st && !better(found, self, reqMethod) {
				t.Fatalf("route %v lost its own instance %s to the less specific %v", rt, req, found.route)
			}
		}
	})
}
