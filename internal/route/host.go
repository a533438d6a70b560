package route

import (
	"fmt"
	"net/netip"
	"strings"
)

// HostKind is the kind of a route's host pattern.
type HostKind uint8

// Host kinds (SEED "Routing semantics").
const (
	HostAny      HostKind = iota // "" or "*": every host
	HostStrict                   // a literal host, compared case-insensitively
	HostWildcard                 // "*.example.com": one or more labels before the suffix
)

// Host is a parsed route host pattern.
type Host struct {
	kind HostKind
	name string // lower-case host (strict) or suffix without "*." (wildcard)
}

// Kind returns any, strict or wildcard.
func (h Host) Kind() HostKind { return h.kind }

// Suffix returns the wildcard's suffix ("example.com" for "*.example.com").
func (h Host) Suffix() string {
	if h.kind == HostWildcard {
		return h.name
	}
	return ""
}

// String returns the canonical pattern: "*", "api.example.com" or "*.example.com".
func (h Host) String() string {
	switch h.kind {
	case HostStrict:
		return h.name
	case HostWildcard:
		return "*." + h.name
	}
	return "*"
}

// Matches reports whether a request host (port allowed) matches h.
func (h Host) Matches(requestHost string) bool {
	rh := NormalizeHost(requestHost)
	switch h.kind {
	case HostStrict:
		return rh == h.name
	case HostWildcard:
		return len(rh) > len(h.name)+1 && strings.HasSuffix(rh, h.name) && rh[len(rh)-len(h.name)-1] == '.'
	}
	return true
}

// ParseHost parses a route host pattern: "" or "*" for any host, a literal
// host (strict, case-insensitive; a trailing dot is dropped; IPv6 in
// brackets), or "*.suffix" (wildcard, several labels allowed). Ports are not
// part of a pattern. Errors are *ParseError wrapping ErrInvalidPattern.
func ParseHost(s string) (Host, error) {
	if s == "" || s == "*" {
		return Host{kind: HostAny}, nil
	}
	if strings.HasPrefix(s, "*.") {
		name, err := parseHostname(s, 2, "host")
		if err != nil {
			return Host{}, err
		}
		return Host{kind: HostWildcard, name: name}, nil
	}
	name, err := parseHostname(s, 0, "host")
	if err != nil {
		return Host{}, err
	}
	return Host{kind: HostStrict, name: name}, nil
}

// parseHostname validates s[off:] as a DNS name (letters, digits, '-' and
// '_', labels of 1–63 bytes) or a bracketed IPv6 address, and returns it in
// lower case without a trailing dot.
func parseHostname(s string, off int, what string) (string, error) {
	fail := func(pos int, format string, args ...any) (string, error) {
		return "", &ParseError{What: what, Input: s, Pos: pos, Msg: fmt.Sprintf(format, args...), Err: ErrInvalidPattern}
	}
	h := s[off:]
	if h == "" {
		return fail(off, "empty host name")
	}
	if h[0] == '[' {
		end := strings.IndexByte(h, ']')
		if end < 0 {
			return fail(off, "unclosed '['")
		}
		if end != len(h)-1 {
			if h[end+1] == ':' {
				return fail(off+end+1, "port not allowed in a %s pattern", what)
			}
			return fail(off+end+1, "unexpected text after ']'")
		}
		a, err := netip.ParseAddr(h[1:end])
		if err != nil || !a.Is6() || a.Zone() != "" {
			return fail(off+1, "invalid IPv6 address")
		}
		if off != 0 {
			return fail(off, "a wildcard cannot precede an IP address")
		}
		return "[" + a.String() + "]", nil
	}
	if strings.HasSuffix(h, ".") && len(h) > 1 {
		h = h[:len(h)-1]
	}
	if len(h) > 253 {
		return fail(off+253, "host name longer than 253 bytes")
	}
	labelStart := 0
	for i := 0; i <= len(h); i++ {
		if i == len(h) || h[i] == '.' {
			switch n := i - labelStart; {
			case n == 0:
				return fail(off+i, "empty label")
			case n > 63:
				return fail(off+labelStart, "label longer than 63 bytes")
			case h[labelStart] == '-':
				return fail(off+labelStart, "label starts with '-'")
			case h[i-1] == '-':
				return fail(off+i-1, "label ends with '-'")
			}
			labelStart = i + 1
			continue
		}
		c := h[i]
		switch {
		case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9', c == '-', c == '_':
		case c == '*':
			return fail(off+i, "wildcard allowed only as the whole leftmost label (*.example.com)")
		case c == ':':
			return fail(off+i, "port not allowed in a %s pattern", what)
		case c == '{' || c == '}':
			if what == "domain" {
				return fail(off+i, "a parameter is allowed only as the whole leftmost label ({name}.example.com)")
			}
			return fail(off+i, "invalid character %q (host parameters exist only in domain claims)", rune(c))
		case c >= 0x80:
			return fail(off+i, "non-ASCII character (use the punycode form)")
		default:
			return fail(off+i, "invalid character %q", rune(c))
		}
	}
	return strings.ToLower(h), nil
}

// NormalizeHost turns a request's Host header into the form patterns are
// compared with: port stripped, trailing dot dropped, lower case.
func NormalizeHost(h string) string {
	if h != "" && h[0] == '[' {
		if end := strings.IndexByte(h, ']'); end >= 0 {
			h = h[:end+1]
			if a, err := netip.ParseAddr(h[1:end]); err == nil && a.Zone() == "" {
				return "[" + a.String() + "]"
			}
			return lowerASCII(h)
		}
	} else if i := strings.LastIndexByte(h, ':'); i >= 0 && strings.IndexByte(h, ':') == i {
		h = h[:i]
	}
	if len(h) > 1 && h[len(h)-1] == '.' {
		h = h[:len(h)-1]
	}
	return lowerASCII(h)
}

func lowerASCII(s string) string {
	for i := 0; i < len(s); i++ {
		if c := s[i]; 'A' <= c && c <= 'Z' {
			return strings.ToLower(s)
		}
	}
	return s
}

// NormalizeMethod returns "*" for "" or "*" (any method), else the method
// upper-cased; it must be an HTTP token (RFC 9110) of at most 32 bytes.
func NormalizeMethod(s string) (string, error) {
	if s == "" || s == "*" {
		return "*", nil
	}
	fail := func(pos int, msg string) (string, error) {
		return "", &ParseError{What: "method", Input: s, Pos: pos, Msg: msg, Err: ErrInvalidPattern}
	}
	if len(s) > 32 {
		return fail(32, "method longer than 32 bytes")
	}
	for i := 0; i < len(s); i++ {
		if !isTchar(s[i]) {
			return fail(i, fmt.Sprintf("invalid character %q in method", rune(s[i])))
		}
	}
	return upperASCII(s), nil
}

func upperASCII(s string) string {
	for i := 0; i < len(s); i++ {
		if c := s[i]; 'a' <= c && c <= 'z' {
			return strings.ToUpper(s)
		}
	}
	return s
}

func isTchar(c byte) bool {
	if 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' {
		return true
	}
	return strings.IndexByte("!#$%&'*+-.^_`|~", c) >= 0
}
