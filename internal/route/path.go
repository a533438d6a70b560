package route

import (
	"fmt"
	"net/url"
	"strings"
	"unicode/utf8"
)

// Limits on patterns, so a table stays cheap to walk.
const (
	MaxPathLen      = 1024 // bytes in a path pattern
	MaxPathSegments = 64   // segments in a path pattern, the wildcard included
	maxNameLen      = 64   // bytes in a parameter name
)

// DefaultRestName binds the remainder of a prefix route written `/greet/*`.
const DefaultRestName = "rest"

// ReservedPrefixes are the first path segments every node serves itself
// (DESIGN "Paths served by every node"); routes under them are refused.
var reservedFirst = [...]string{"api", "admin", "healthz", "version", "metrics"}

// SegmentKind tells what a path segment matches.
type SegmentKind uint8

// Segment kinds.
const (
	SegLiteral  SegmentKind = iota // one segment equal to Value (decoded)
	SegParam                       // one non-empty segment, bound to Value (the name)
	SegWildcard                    // the remainder, bound to Value (the name); always last
)

// Segment is one parsed path segment.
type Segment struct {
	Kind  SegmentKind
	Value string // decoded literal, or the parameter name
}

// PathKind is the kind of a path pattern.
type PathKind uint8

// Path kinds (SEED "Routing semantics").
const (
	PathExact  PathKind = iota // only literals: /greet
	PathParam                  // at least one :param, no wildcard: /users/:id
	PathPrefix                 // ends with a wildcard: /greet/* (a strict subtree)
)

func (k PathKind) String() string {
	switch k {
	case PathExact:
		return "exact"
	case PathParam:
		return "param"
	case PathPrefix:
		return "prefix"
	}
	return "unknown"
}

// Path is a parsed, validated route path pattern.
type Path struct {
	raw     string
	segs    []Segment // without the wildcard
	kind    PathKind
	rest    string // wildcard name for PathPrefix
	leading int    // literal segments before the first non-literal one
}

// String returns the pattern as written.
func (p Path) String() string { return p.raw }

// Kind returns exact, param or prefix.
func (p Path) Kind() PathKind { return p.kind }

// Segments returns the segments before the wildcard (a copy).
func (p Path) Segments() []Segment { return append([]Segment(nil), p.segs...) }

// RestName returns the wildcard's name for a prefix path, else "".
func (p Path) RestName() string { return p.rest }

// LeadingLiterals returns how many literal segments come before the first
// parameter or wildcard; it decides precedence among non-exact routes.
func (p Path) LeadingLiterals() int { return p.leading }

// ParamNames returns the parameter names in order, the wildcard's last.
func (p Path) ParamNames() []string {
	var names []string
	for _, s := range p.segs {
		if s.Kind == SegParam {
			names = append(names, s.Value)
		}
	}
	if p.kind == PathPrefix {
		names = append(names, p.rest)
	}
	return names
}

// Overlaps reports whether p and o have the same shape in SEED's sense, so
// that two routes with these paths (same method, same host) conflict: two
// exact paths that are equal; two param paths with the same segment count and
// the same literals wherever both have a literal; two prefixes likewise.
func (p Path) Overlaps(o Path) bool {
	if p.kind != o.kind || len(p.segs) != len(o.segs) {
		return false
	}
	for i, s := range p.segs {
		t := o.segs[i]
		if s.Kind == SegLiteral && t.Kind == SegLiteral && s.Value != t.Value {
			return false
		}
	}
	return true
}

// ParsePath parses a route path pattern: "/" then segments separated by "/".
// A segment is a literal, ":name" (one whole segment) or, last only, "*" or
// "*name" (the remainder; "*" binds it as "rest"). Errors are *ParseError
// wrapping ErrInvalidPattern or ErrReserved.
func ParsePath(s string) (Path, error) {
	fail := func(pos int, format string, args ...any) (Path, error) {
		return Path{}, &ParseError{What: "path", Input: s, Pos: pos, Msg: fmt.Sprintf(format, args...), Err: ErrInvalidPattern}
	}
	if s == "" {
		return fail(0, "empty path")
	}
	if len(s) > MaxPathLen {
		return fail(MaxPathLen, "path longer than %d bytes", MaxPathLen)
	}
	if s[0] != '/' {
		return fail(0, "path must start with '/'")
	}
	p := Path{raw: s, kind: PathExact}
	if s == "/" {
		return p, nil
	}
	leadingDone := false
	wildPos := 0
	names := map[string]bool{}
	start := 1
	for n := 0; ; n++ {
		end := strings.IndexByte(s[start:], '/')
		if end < 0 {
			end = len(s)
		} else {
			end += start
		}
		seg := s[start:end]
		if p.kind == PathPrefix {
			return fail(wildPos, "wildcard must be the last segment")
		}
		if n >= MaxPathSegments {
			return fail(start, "more than %d segments", MaxPathSegments)
		}
		switch {
		case seg == "" && end == len(s):
			return fail(start-1, "trailing slash")
		case seg == "":
			return fail(start, "empty segment")
		case seg[0] == ':':
			name := seg[1:]
			if err := checkName(name, start+1); err != nil {
				return fail(err.pos, "%s", err.msg)
			}
			if names[name] {
				return fail(start, "duplicate parameter name %q", name)
			}
			names[name] = true
			p.segs = append(p.segs, Segment{Kind: SegParam, Value: name})
			p.kind = PathParam
			leadingDone = true
		case seg[0] == '*':
			name := seg[1:]
			if name == "" {
				name = DefaultRestName
			} else if err := checkName(name, start+1); err != nil {
				return fail(err.pos, "%s", err.msg)
			}
			if names[name] {
				return fail(start, "duplicate parameter name %q", name)
			}
			names[name] = true
			p.kind = PathPrefix
			p.rest = name
			wildPos = start
			leadingDone = true
		default:
			lit, err := checkLiteral(seg, start)
			if err != nil {
				return fail(err.pos, "%s", err.msg)
			}
			p.segs = append(p.segs, Segment{Kind: SegLiteral, Value: lit})
			if !leadingDone {
				p.leading++
			}
		}
		if end == len(s) {
			break
		}
		start = end + 1
	}
	if len(p.segs) > 0 && p.segs[0].Kind == SegLiteral {
		first := strings.ToLower(p.segs[0].Value)
		for _, r := range reservedFirst {
			if first == r {
				return Path{}, &ParseError{What: "path", Input: s, Pos: 0, Err: ErrReserved,
					Msg: fmt.Sprintf("/%s is reserved (served by every node)", r)}
			}
		}
	}
	return p, nil
}

// IsReserved reports whether a request path falls under a prefix that
// every node serves itself (/api/, /admin/, /healthz, /version, /metrics);
// the edge dispatches those before consulting any route table.
func IsReserved(requestPath string) bool {
	if requestPath == "" || requestPath[0] != '/' {
		return false
	}
	first := requestPath[1:]
	if i := strings.IndexByte(first, '/'); i >= 0 {
		first = first[:i]
	}
	if strings.IndexByte(first, '%') >= 0 {
		d, err := url.PathUnescape(first)
		if err != nil {
			return false
		}
		first = d
	}
	for _, r := range reservedFirst {
		if strings.EqualFold(first, r) {
			return true
		}
	}
	return false
}

type posErr struct {
	pos int
	msg string
}

func checkName(name string, off int) *posErr {
	if name == "" {
		return &posErr{off - 1, "missing parameter name"}
	}
	if len(name) > maxNameLen {
		return &posErr{off, fmt.Sprintf("parameter name longer than %d bytes", maxNameLen)}
	}
	for i := 0; i < len(name); i++ {
		c := name[i]
		ok := c == '_' || 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || i > 0 && '0' <= c && c <= '9'
		if !ok {
			if c == ':' {
				return &posErr{off + i, "colon in mid-segment"}
			}
			if c == '*' {
				return &posErr{off + i, "asterisk in mid-segment"}
			}
			return &posErr{off + i, fmt.Sprintf("invalid character %q in parameter name", rune(c))}
		}
	}
	return nil
}

// checkLiteral validates a literal segment (RFC 3986 pchar, plus UTF-8
// letters) and returns its decoded form.
func checkLiteral(seg string, off int) (string, *posErr) {
	for i := 0; i < len(seg); {
		c := seg[i]
		switch {
		case c == ':':
			return "", &posErr{off + i, "colon in mid-segment"}
		case c == '*':
			return "", &posErr{off + i, "asterisk in mid-segment"}
		case c == '{' || c == '}':
			return "", &posErr{off + i, fmt.Sprintf("invalid character %q (path parameters are written :name)", rune(c))}
		case c == '%':
			if i+2 >= len(seg) || !ishex(seg[i+1]) || !ishex(seg[i+2]) {
				return "", &posErr{off + i, "invalid percent-encoding"}
			}
			i += 3
		case c >= utf8.RuneSelf:
			r, size := utf8.DecodeRuneInString(seg[i:])
			if r == utf8.RuneError && size <= 1 {
				return "", &posErr{off + i, "invalid UTF-8"}
			}
			i += size
		case isPchar(c):
			i++
		default:
			return "", &posErr{off + i, fmt.Sprintf("invalid character %q", rune(c))}
		}
	}
	lit := seg
	if strings.IndexByte(seg, '%') >= 0 {
		d, err := url.PathUnescape(seg)
		if err != nil {
			return "", &posErr{off, "invalid percent-encoding"}
		}
		lit = d
	}
	if lit == "." || lit == ".." {
		return "", &posErr{off, "dot segment"}
	}
	return lit, nil
}

func ishex(c byte) bool {
	return '0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F'
}

func isPchar(c byte) bool {
	if 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' {
		return true
	}
	switch c {
	case '-', '.', '_', '~', '!', '$', '&', '\'', '(', ')', '+', ',', ';', '=', '@':
		return true
	}
	return false
}
