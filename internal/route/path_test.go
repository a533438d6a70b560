package route

import (
	"errors"
	"reflect"
	"testing"
)

func TestParsePathValid(t *testing.T) {
	tests := []struct {
		name    string
		in      string
		kind    PathKind
		segs    []Segment
		rest    string
		leading int
	}{
		{"root", "/", PathExact, nil, "", 0},
		{"seed exact /greet", "/greet", PathExact, []Segment{{SegLiteral, "greet"}}, "", 1},
		{"seed prefix /greet/*", "/greet/*", PathPrefix, []Segment{{SegLiteral, "greet"}}, "rest", 1},
		{"named wildcard /greet/*path", "/greet/*path", PathPrefix, []Segment{{SegLiteral, "greet"}}, "path", 1},
		{"root prefix /*", "/*", PathPrefix, nil, "rest", 0},
		{"seed param /users/:id", "/users/:id", PathParam, []Segment{{SegLiteral, "users"}, {SegParam, "id"}}, "", 1},
		{"param then literal", "/users/:id/posts", PathParam,
			[]Segment{{SegLiteral, "users"}, {SegParam, "id"}, {SegLiteral, "posts"}}, "", 1},
		{"param in prefix", "/u/:id/*rest", PathPrefix, []Segment{{SegLiteral, "u"}, {SegParam, "id"}}, "rest", 1},
		{"percent-encoded literal is decoded", "/caf%C3%A9", PathExact, []Segment{{SegLiteral, "café"}}, "", 1},
		{"utf-8 literal", "/café", PathExact, []Segment{{SegLiteral, "café"}}, "", 1},
		{"sub-delims and @", "/a@b!$&'()+,;=~-._", PathExact, []Segment{{SegLiteral, "a@b!$&'()+,;=~-._"}}, "", 1},
		{"not reserved: /apis", "/apis", PathExact, []Segment{{SegLiteral, "apis"}}, "", 1},
		{"not reserved: /healthzz", "/healthzz", PathExact, []Segment{{SegLiteral, "healthzz"}}, "", 1},
		{"param first segment named api", "/:api/x", PathParam, []Segment{{SegParam, "api"}, {SegLiteral, "x"}}, "", 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, err := ParsePath(tt.in)
			if err != nil {
				t.Fatalf("ParsePath(%q): %v", tt.in, err)
			}
			if p.Kind() != tt.kind || !reflect.DeepEqual(p.Segments(), tt.segs) || p.RestName() != tt.rest ||
				p.LeadingLiterals() != tt.leading || p.String() != tt.in {
				t.Fatalf("ParsePath(%q) = kind %v segs %v rest %q leading %d, want %v %v %q %d",
					tt.in, p.Kind(), p.Segments(), p.RestName(), p.LeadingLiterals(), tt.kind, tt.segs, tt.rest, tt.leading)
			}
		})
	}
}

func TestParsePathInvalid(t *testing.T) {
	tests := []struct {
		name     string
		in       string
		sentinel error
		msg      string // the full error text: it reaches users as the 422 message
	}{
		{"seed: colon in mid-segment", "/users/a:b", ErrInvalidPattern, `invalid path "/users/a:b": colon in mid-segment at position 8`},
		{"colon in param name", "/users/:a:b", ErrInvalidPattern, `invalid path "/users/:a:b": colon in mid-segment at position 9`},
		{"empty", "", ErrInvalidPattern, `invalid path "": empty path at position 0`},
		{"no leading slash", "greet", ErrInvalidPattern, `invalid path "greet": path must start with '/' at position 0`},
		{"trailing slash", "/greet/", ErrInvalidPattern, `invalid path "/greet/": trailing slash at position 6`},
		{"double slash", "/a//b", ErrInvalidPattern, `invalid path "/a//b": empty segment at position 3`},
		{"missing param name", "/users/:", ErrInvalidPattern, `invalid path "/users/:": missing parameter name at position 7`},
		{"param name starts with digit", "/users/:1d", ErrInvalidPattern, `invalid path "/users/:1d": invalid character '1' in parameter name at position 8`},
		{"duplicate param", "/a/:id/:id", ErrInvalidPattern, `invalid path "/a/:id/:id": duplicate parameter name "id" at position 7`},
		{"wildcard not last", "/a/*/b", ErrInvalidPattern, `invalid path "/a/*/b": wildcard must be the last segment at position 3`},
		{"asterisk mid-segment", "/a/b*", ErrInvalidPattern, `invalid path "/a/b*": asterisk in mid-segment at position 4`},
		{"wildcard name clashes with param", "/:rest/*", ErrInvalidPattern, `invalid path "/:rest/*": duplicate parameter name "rest" at position 7`},
		{"braces", "/users/{id}", ErrInvalidPattern, `invalid path "/users/{id}": invalid character '{' (path parameters are written :name) at position 7`},
		{"query", "/a?b=1", ErrInvalidPattern, `invalid path "/a?b=1": invalid character '?' at position 2`},
		{"space", "/a b", ErrInvalidPattern, `invalid path "/a b": invalid character ' ' at position 2`},
		{"bad percent", "/a%zz", ErrInvalidPattern, `invalid path "/a%zz": invalid percent-encoding at position 2`},
		{"truncated percent", "/a%4", ErrInvalidPattern, `invalid path "/a%4": invalid percent-encoding at position 2`},
		{"dot segment", "/a/../b", ErrInvalidPattern, `invalid path "/a/../b": dot segment at position 3`},
		{"encoded dot segment", "/a/%2e", ErrInvalidPattern, `invalid path "/a/%2e": dot segment at position 3`},
		{"invalid utf-8", "/a\xff", ErrInvalidPattern, `invalid path "/a\xff": invalid UTF-8 at position 2`},
		{"seed reserved /api/", "/api/v2/x", ErrReserved, `invalid path "/api/v2/x": /api is reserved (served by every node) at position 0`},
		{"reserved bare /api", "/api", ErrReserved, `invalid path "/api": /api is reserved (served by every node) at position 0`},
		{"seed reserved /admin/", "/admin/*", ErrReserved, `invalid path "/admin/*": /admin is reserved (served by every node) at position 0`},
		{"seed reserved /healthz", "/healthz", ErrReserved, `invalid path "/healthz": /healthz is reserved (served by every node) at position 0`},
		{"seed reserved /version", "/version", ErrReserved, `invalid path "/version": /version is reserved (served by every node) at position 0`},
		{"rewrite reserves /metrics", "/metrics/x", ErrReserved, `invalid path "/metrics/x": /metrics is reserved (served by every node) at position 0`},
		{"reserved is case-insensitive", "/API/x", ErrReserved, `invalid path "/API/x": /api is reserved (served by every node) at position 0`},
		{"reserved when encoded", "/%61pi/x", ErrReserved, `invalid path "/%61pi/x": /api is reserved (served by every node) at position 0`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := ParsePath(tt.in)
			if err == nil {
				t.Fatalf("ParsePath(%q) succeeded, want error", tt.in)
			}
			if !errors.Is(err, tt.sentinel) {
				t.Errorf("errors.Is(%v, %v) = false", err, tt.sentinel)
			}
			var pe *ParseError
			if !errors.As(err, &pe) || pe.Input != tt.in {
				t.Errorf("error %v is not a *ParseError for %q", err, tt.in)
			}
			if err.Error() != tt.msg {
				t.Errorf("message\n got %s\nwant %s", err.Error(), tt.msg)
			}
		})
	}
}

func TestParsePathLimits(t *testing.T) {
	long := "/"
	for len(long) <= MaxPathLen {
		long += "a"
	}
	if _, err := ParsePath(long); !errors.Is(err, ErrInvalidPattern) {
		t.Errorf("path of %d bytes: err = %v, want ErrInvalidPattern", len(long), err)
	}
	many := ""
	for i := 0; i <= MaxPathSegments; i++ {
		many += "/a"
	}
	if _, err := ParsePath(many); !errors.Is(err, ErrInvalidPattern) {
		t.Errorf("%d segments: err = %v, want ErrInvalidPattern", MaxPathSegments+1, err)
	}
	if _, err := ParsePath(many[:len(many)-2]); err != nil {
		t.Errorf("%d segments: %v", MaxPathSegments, err)
	}
}

func TestIsReserved(t *testing.T) {
	tests := []struct {
		path string
		want bool
	}{
		{"/api/v1/admin/routes", true}, {"/api", true}, {"/admin/", true}, {"/healthz", true},
		{"/version", true}, {"/metrics", true}, {"/%61dmin/x", true}, {"/Admin", true},
		{"/", false}, {"/apis", false}, {"/greet", false}, {"/x/api", false}, {"", false},
	}
	for _, tt := range tests {
		if got := IsReserved(tt.path); got != tt.want {
			t.Errorf("IsReserved(%q) = %v, want %v", tt.path, got, tt.want)
		}
	}
}

func TestParseHost(t *testing.T) {
	tests := []struct {
		name, in string
		kind     HostKind
		canon    string
		err      string
	}{
		{"empty is any", "", HostAny, "*", ""},
		{"star is any", "*", HostAny, "*", ""},
		{"strict lower-cased", "API.Example.com", HostStrict, "api.example.com", ""},
		{"strict trailing dot", "example.com.", HostStrict, "example.com", ""},
		{"localhost", "localhost", HostStrict, "localhost", ""},
		{"ipv4", "192.168.1.10", HostStrict, "192.168.1.10", ""},
		{"ipv6", "[::1]", HostStrict, "[::1]", ""},
		{"wildcard", "*.Example.com", HostWildcard, "*.example.com", ""},
		{"wildcard deep", "*.a.b.example.com", HostWildcard, "*.a.b.example.com", ""},
		{"port refused", "example.com:8080", 0, "", `invalid host "example.com:8080": port not allowed in a host pattern at position 11`},
		{"inner wildcard", "a.*.com", 0, "", `invalid host "a.*.com": wildcard allowed only as the whole leftmost label (*.example.com) at position 2`},
		{"double wildcard", "*.*.com", 0, "", `invalid host "*.*.com": wildcard allowed only as the whole leftmost label (*.example.com) at position 2`},
		{"partial wildcard", "*foo.com", 0, "", `invalid host "*foo.com": wildcard allowed only as the whole leftmost label (*.example.com) at position 0`},
		{"empty label", "a..com", 0, "", `invalid host "a..com": empty label at position 2`},
		{"hyphen start", "-a.com", 0, "", `invalid host "-a.com": label starts with '-' at position 0`},
		{"space", "a b.com", 0, "", `invalid host "a b.com": invalid character ' ' at position 1`},
		{"unicode", "café.com", 0, "", `invalid host "café.com": non-ASCII character (use the punycode form) at position 3`},
		{"param only in domains", "{t}.example.com", 0, "", `invalid host "{t}.example.com": invalid character '{' (host parameters exist only in domain claims) at position 0`},
		{"wildcard without suffix", "*.", 0, "", `invalid host "*.": empty host name at position 2`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h, err := ParseHost(tt.in)
			if tt.err != "" {
				if err == nil || err.Error() != tt.err || !errors.Is(err, ErrInvalidPattern) {
					t.Fatalf("ParseHost(%q) err = %v, want %s", tt.in, err, tt.err)
				}
				return
			}
			if err != nil {
				t.Fatalf("ParseHost(%q): %v", tt.in, err)
			}
			if h.Kind() != tt.kind || h.String() != tt.canon {
				t.Fatalf("ParseHost(%q) = %v %q, want %v %q", tt.in, h.Kind(), h.String(), tt.kind, tt.canon)
			}
		})
	}
}

func TestHostMatches(t *testing.T) {
	tests := []struct {
		pattern, host string
		want          bool
	}{
		{"", "anything.example:80", true},
		{"api.example.com", "API.example.com:8443", true},
		{"api.example.com", "api.example.com.", true},
		{"api.example.com", "x.api.example.com", false},
		{"*.example.com", "a.example.com", true},
		{"*.example.com", "a.b.example.com", true}, // several labels allowed
		{"*.example.com", "example.com", false},
		{"*.example.com", "badexample.com", false},
		{"[::1]", "[0:0::1]:8080", true},
	}
	for _, tt := range tests {
		h, err := ParseHost(tt.pattern)
		if err != nil {
			t.Fatal(err)
		}
		if got := h.Matches(tt.host); got != tt.want {
			t.Errorf("ParseHost(%q).Matches(%q) = %v, want %v", tt.pattern, tt.host, got, tt.want)
		}
	}
}

func TestNormalizeMethod(t *testing.T) {
	tests := []struct{ in, want, err string }{
		{"", "*", ""}, {"*", "*", ""}, {"get", "GET", ""}, {"PoSt", "POST", ""}, {"PURGE", "PURGE", ""},
		{"GE T", "", `invalid method "GE T": invalid character ' ' in method at position 2`},
		{"GET/", "", `invalid method "GET/": invalid character '/' in method at position 3`},
	}
	for _, tt := range tests {
		got, err := NormalizeMethod(tt.in)
		if tt.err != "" {
			if err == nil || err.Error() != tt.err || !errors.Is(err, ErrInvalidPattern) {
				t.Errorf("NormalizeMethod(%q) err = %v, want %s", tt.in, err, tt.err)
			}
			continue
		}
		if err != nil || got != tt.want {
			t.Errorf("NormalizeMethod(%q) = %q, %v; want %q", tt.in, got, err, tt.want)
		}
	}
}
