package weburl

import (
	"errors"
	"testing"
)

func mustParse(t *testing.T, s string) *URL {
	t.Helper()
	u, err := Parse(s, nil)
	if err != nil {
		t.Fatalf("Parse(%q): %v", s, err)
	}
	return u
}

func TestParseErrors(t *testing.T) {
	tests := []struct {
		name, input, base string
		useBase           bool
	}{
		{"relative without base", "/path", "", false},
		{"unclosed ipv6", "http://[::1/", "", false},
		{"port out of range", "http://h:65536/", "", false},
		{"forbidden host code point", "http://a<b/", "", false},
		{"invalid base", "a", "not a url", true},
		{"empty base", "a", "", true},
		{"bad ipv4", "http://1.2.3.256/", "", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var err error
			if tt.useBase {
				_, err = ParseWithBase(tt.input, tt.base)
				if CanParse(tt.input, tt.base) {
					t.Error("CanParse reported true")
				}
			} else {
				_, err = Parse(tt.input, nil)
			}
			if !errors.Is(err, ErrInvalidURL) {
				t.Fatalf("err = %v, want ErrInvalidURL", err)
			}
		})
	}
}

func TestParseWithBase(t *testing.T) {
	u, err := ParseWithBase("../c?q#f", "https://user:pw@example.com:8443/a/b/")
	if err != nil {
		t.Fatal(err)
	}
	if got, want := u.Href(), "https://user:pw@example.com:8443/a/c?q#f"; got != want {
		t.Fatalf("Href = %q, want %q", got, want)
	}
	if !CanParse("x", "http://h/") {
		t.Fatal("CanParse(x, http://h/) = false")
	}
	if u.String() != u.Href() {
		t.Fatal("String differs from Href")
	}
}

func TestOrigin(t *testing.T) {
	tests := []struct{ input, want string }{
		{"https://example.com:443/x", "https://example.com"},
		{"http://example.com:8080/", "http://example.com:8080"},
		{"ws://[::1]:80/", "ws://[::1]"},
		{"blob:https://a.example/uuid", "https://a.example"},
		{"blob:ftp://a.example/", "null"},
		{"file:///etc/passwd", "null"},
		{"data:text/plain,hi", "null"},
		{"sc://host/", "null"},
	}
	for _, tt := range tests {
		t.Run(tt.input, func(t *testing.T) {
			if got := mustParse(t, tt.input).Origin(); got != tt.want {
				t.Fatalf("Origin = %q, want %q", got, tt.want)
			}
		})
	}
}

// TestSetterNoOps covers the setters' "return without change" rules.
func TestSetterNoOps(t *testing.T) {
	tests := []struct {
		name, href, attr, value, want string
	}{
		{"special to non-special scheme", "http://h/", "protocol", "sc", "http://h/"},
		{"non-special to special scheme", "sc://h/", "protocol", "https", "sc://h/"},
		{"to file with credentials", "http://u@h/", "protocol", "file", "http://u@h/"},
		{"default port dropped on scheme change", "http://h:443/", "protocol", "https", "https://h/"},
		{"username on file URL", "file:///x", "username", "u", "file:///x"},
		{"password without host", "sc:opaque", "password", "p", "sc:opaque"},
		{"port on empty host", "sc:///x", "port", "1", "sc:///x"},
		{"host on opaque path", "mailto:a@b", "host", "h", "mailto:a@b"},
		{"pathname on opaque path", "mailto:a@b", "pathname", "/x", "mailto:a@b"},
		{"hostname with port is rejected", "http://h/", "hostname", "x:1", "http://h/"},
		{"empty port clears it", "http://h:81/", "port", "", "http://h/"},
		{"port stops at non-digit", "http://h/", "port", "8080stuff", "http://h:8080/"},
		{"username is percent-encoded", "http://h/", "username", "a b@", "http://a%20b%40@h/"},
		{"hash empty removes fragment", "http://h/#f", "hash", "", "http://h/"},
		{"search gets leading ? stripped", "http://h/", "search", "??a", "http://h/??a"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			u := mustParse(t, tt.href)
			applySetter(u, tt.attr, tt.value)
			if got := u.Href(); got != tt.want {
				t.Fatalf("Href = %q, want %q", got, tt.want)
			}
		})
	}
}

func TestClone(t *testing.T) {
	u := mustParse(t, "http://h/a/b?x=1")
	sp := u.SearchParams()
	c := u.Clone()
	c.SetPathname("/z")
	c.SearchParams().Set("x", "2")
	if u.Href() != "http://h/a/b?x=1" || sp.String() != "x=1" {
		t.Fatalf("clone mutation leaked: %q %q", u.Href(), sp.String())
	}
	if c.Href() != "http://h/z?x=2" {
		t.Fatalf("clone href %q", c.Href())
	}
}

func TestIPHosts(t *testing.T) {
	tests := []struct{ input, host string }{
		{"http://0x7f.1/", "127.0.0.1"},
		{"http://4294967295/", "255.255.255.255"},
		{"http://[0:0:0:0:0:0:0:1]/", "[::1]"},
		{"http://[1:0:0:2:0:0:0:3]/", "[1:0:0:2::3]"},
		{"http://[::ffff:192.168.0.1]/", "[::ffff:c0a8:1]"},
		{"http://[1:2:3:4:5:6:7:8]/", "[1:2:3:4:5:6:7:8]"},
	}
	for _, tt := range tests {
		t.Run(tt.input, func(t *testing.T) {
			if got := mustParse(t, tt.input).Hostname(); got != tt.host {
				t.Fatalf("Hostname = %q, want %q", got, tt.host)
			}
		})
	}
}

func TestSetByName(t *testing.T) {
	u, err := Parse("https://example.com/a", nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := u.Set("pathname", "/b"); err != nil || u.Href() != "https://example.com/b" {
		t.Fatalf("Set pathname: %v, href %s", err, u.Href())
	}
	if err := u.Set("href", "not a url"); !errors.Is(err, ErrInvalidURL) || u.Href() != "https://example.com/b" {
		t.Fatalf("Set bad href: %v, href %s", err, u.Href())
	}
	if err := u.Set("origin", "https://x"); !errors.Is(err, ErrUnknownComponent) || u.Href() != "https://example.com/b" {
		t.Fatalf("Set origin: %v, href %s", err, u.Href())
	}
}
