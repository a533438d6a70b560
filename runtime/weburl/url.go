package weburl

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
)

// ErrInvalidURL is returned (wrapped) when input is not a valid URL; the JS
// binding turns it into a TypeError.
var ErrInvalidURL = errors.New("invalid URL")

// URL is a parsed WHATWG URL record. The zero value is not useful; get one from
// Parse. A URL is not safe for concurrent mutation.
type URL struct {
	scheme    string
	username  string
	password  string
	host      string // serialized host; meaningful only if hasHost
	hasHost   bool
	port      int // -1 when null
	path      []string
	opaque    string // the opaque path, if hasOpaque
	hasOpaque bool
	query     string
	hasQuery  bool
	fragment  string
	hasFrag   bool

	params *SearchParams // linked URLSearchParams, created on demand
}

var specialPorts = map[string]int{
	"ftp": 21, "file": -1, "http": 80, "https": 443, "ws": 80, "wss": 443,
}

func isSpecialScheme(s string) bool {
	_, ok := specialPorts[s]
	return ok
}

func defaultPort(scheme string) int {
	if p, ok := specialPorts[scheme]; ok {
		return p
	}
	return -1
}

// Parse parses input against an optional base URL (nil for none).
func Parse(input string, base *URL) (*URL, error) {
	u := &URL{port: -1}
	if err := basicParse(input, base, u, stateNone); err != nil {
		return nil, err
	}
	return u, nil
}

// ParseWithBase parses base first and then input against it, like
// new URL(input, base). Callers without a base use Parse(input, nil).
func ParseWithBase(input, base string) (*URL, error) {
	b, err := Parse(base, nil)
	if err != nil {
		return nil, fmt.Errorf("parsing base: %w", err)
	}
	return Parse(input, b)
}

// CanParse reports whether new URL(input, base) would succeed, with base
// given. For URL.canParse(input) without a base, use Parse(input, nil).
func CanParse(input string, base string) bool {
	_, err := ParseWithBase(input, base)
	return err == nil
}

func (u *URL) isSpecial() bool { return isSpecialScheme(u.scheme) }

func (u *URL) includesCredentials() bool { return u.username != "" || u.password != "" }

func (u *URL) cannotHaveCredentialsOrPort() bool {
	return !u.hasHost || u.host == "" || u.scheme == "file"
}

func (u *URL) shortenPath() {
	if u.scheme == "file" && len(u.path) == 1 && isNormalizedDriveLetter(u.path[0]) {
		return
	}
	if len(u.path) > 0 {
		u.path = u.path[:len(u.path)-1]
	}
}

func (u *URL) serializePath() string {
	if u.hasOpaque {
		return u.opaque
	}
	var b strings.Builder
	for _, seg := range u.path {
		b.WriteByte('/')
		b.WriteString(seg)
	}
	return b.String()
}

func (u *URL) serialize(excludeFragment bool) string {
	var b strings.Builder
	b.WriteString(u.scheme)
	b.WriteByte(':')
	if u.hasHost {
		b.WriteString("//")
		if u.includesCredentials() {
			b.WriteString(u.username)
			if u.password != "" {
				b.WriteByte(':')
				b.WriteString(u.password)
			}
			b.WriteByte('@')
		}
		b.WriteString(u.host)
		if u.port >= 0 {
			b.WriteByte(':')
			b.WriteString(strconv.Itoa(u.port))
		}
	} else if !u.hasOpaque && len(u.path) > 1 && u.path[0] == "" {
		b.WriteString("/.")
	}
	b.WriteString(u.serializePath())
	if u.hasQuery {
		b.WriteByte('?')
		b.WriteString(u.query)
	}
	if !excludeFragment && u.hasFrag {
		b.WriteByte('#')
		b.WriteString(u.fragment)
	}
	return b.String()
}

// Clone returns a deep copy without the linked SearchParams.
func (u *URL) Clone() *URL {
	c := *u
	c.path = append([]string(nil), u.path...)
	c.params = nil
	return &c
}

// Href returns the URL serialization.
func (u *URL) Href() string { return u.serialize(false) }

// String returns Href, so a URL prints like JS's toString().
func (u *URL) String() string { return u.Href() }

// Origin returns the serialized origin ("null" for opaque origins).
func (u *URL) Origin() string {
	switch u.scheme {
	case "blob":
		p, err := Parse(u.serializePath(), nil)
		if err != nil || (p.scheme != "http" && p.scheme != "https") {
			return "null"
		}
		return p.Origin()
	case "ftp", "http", "https", "ws", "wss":
		o := u.scheme + "://" + u.host
		if u.port >= 0 {
			o += ":" + strconv.Itoa(u.port)
		}
		return o
	}
	return "null"
}

// Protocol returns the scheme followed by ":".
func (u *URL) Protocol() string { return u.scheme + ":" }

// Username returns the percent-encoded username.
func (u *URL) Username() string { return u.username }

// Password returns the percent-encoded password.
func (u *URL) Password() string { return u.password }

// Host returns host[:port], or "" when the URL has no host.
func (u *URL) Host() string {
	if !u.hasHost {
		return ""
	}
	if u.port < 0 {
		return u.host
	}
	return u.host + ":" + strconv.Itoa(u.port)
}

// Hostname returns the serialized host, or "".
func (u *URL) Hostname() string {
	if !u.hasHost {
		return ""
	}
	return u.host
}

// Port returns the port in decimal, or "" when null.
func (u *URL) Port() string {
	if u.port < 0 {
		return ""
	}
	return strconv.Itoa(u.port)
}

// Pathname returns the serialized path.
func (u *URL) Pathname() string { return u.serializePath() }

// Search returns "?query", or "" when the query is null or empty.
func (u *URL) Search() string {
	if !u.hasQuery || u.query == "" {
		return ""
	}
	return "?" + u.query
}

// Hash returns "#fragment", or "" when the fragment is null or empty.
func (u *URL) Hash() string {
	if !u.hasFrag || u.fragment == "" {
		return ""
	}
	return "#" + u.fragment
}

// ErrUnknownComponent is what Set returns for a name that is no URL setter.
var ErrUnknownComponent = errors.New("weburl: unknown URL component")

// Set runs the setter of the component named as in JS (href, protocol,
// username, password, host, hostname, port, pathname, search, hash).
// Only href can fail to parse; the others ignore what they cannot use.
func (u *URL) Set(name, v string) error {
	switch name {
	case "href":
		return u.SetHref(v)
	case "protocol":
		u.SetProtocol(v)
	case "username":
		u.SetUsername(v)
	case "password":
		u.SetPassword(v)
	case "host":
		u.SetHost(v)
	case "hostname":
		u.SetHostname(v)
	case "port":
		u.SetPort(v)
	case "pathname":
		u.SetPathname(v)
	case "search":
		u.SetSearch(v)
	case "hash":
		u.SetHash(v)
	default:
		return fmt.Errorf("%w: %q", ErrUnknownComponent, name)
	}
	return nil
}

// SetHref replaces the whole URL; on failure (ErrInvalidURL) nothing changes.
func (u *URL) SetHref(v string) error {
	n, err := Parse(v, nil)
	if err != nil {
		return err
	}
	params := u.params
	*u = *n
	u.params = params
	u.syncParams()
	return nil
}

// SetProtocol follows the protocol setter (a no-op for disallowed changes).
func (u *URL) SetProtocol(v string) {
	_ = basicParse(v+":", nil, u, stateSchemeStart)
}

// SetUsername follows the username setter.
func (u *URL) SetUsername(v string) {
	if u.cannotHaveCredentialsOrPort() {
		return
	}
	u.username = encodeString(toUSV(v), userinfoSet)
}

// SetPassword follows the password setter.
func (u *URL) SetPassword(v string) {
	if u.cannotHaveCredentialsOrPort() {
		return
	}
	u.password = encodeString(toUSV(v), userinfoSet)
}

// SetHost follows the host setter.
func (u *URL) SetHost(v string) {
	if u.hasOpaque {
		return
	}
	_ = basicParse(v, nil, u, stateHost)
}

// SetHostname follows the hostname setter.
func (u *URL) SetHostname(v string) {
	if u.hasOpaque {
		return
	}
	_ = basicParse(v, nil, u, stateHostname)
}

// SetPort follows the port setter; "" clears the port.
func (u *URL) SetPort(v string) {
	if u.cannotHaveCredentialsOrPort() {
		return
	}
	if v == "" {
		u.port = -1
		return
	}
	_ = basicParse(v, nil, u, statePort)
}

// SetPathname follows the pathname setter.
func (u *URL) SetPathname(v string) {
	if u.hasOpaque {
		return
	}
	u.path = u.path[:0:0]
	_ = basicParse(v, nil, u, statePathStart)
}

// SetSearch follows the search setter and refreshes the linked SearchParams.
func (u *URL) SetSearch(v string) {
	if v == "" {
		u.query, u.hasQuery = "", false
		u.syncParams()
		return
	}
	v = strings.TrimPrefix(v, "?")
	u.query, u.hasQuery = "", true
	_ = basicParse(v, nil, u, stateQuery)
	u.syncParams()
}

// SetHash follows the hash setter.
func (u *URL) SetHash(v string) {
	if v == "" {
		u.fragment, u.hasFrag = "", false
		return
	}
	v = strings.TrimPrefix(v, "#")
	u.fragment, u.hasFrag = "", true
	_ = basicParse(v, nil, u, stateFragment)
}

// SearchParams returns the URL's linked search parameters (always the same
// object, like JS's [SameObject] url.searchParams). Mutating it rewrites the
// URL's query; setting Search or Href refreshes it.
func (u *URL) SearchParams() *SearchParams {
	if u.params == nil {
		u.params = &SearchParams{url: u}
		u.syncParams()
	}
	return u.params
}

// syncParams sets the linked list to the parse of the current query.
func (u *URL) syncParams() {
	if u.params == nil {
		return
	}
	if u.hasQuery {
		u.params.list = parseURLEncoded(u.query)
	} else {
		u.params.list = nil
	}
}

// setQueryFromParams is the URLSearchParams "update" steps.
func (u *URL) setQueryFromParams(serialized string) {
	u.query, u.hasQuery = serialized, serialized != ""
}

// toUSV replaces invalid UTF-8 with U+FFFD, as WebIDL USVString conversion
// does for lone surrogates coming from JS.
func toUSV(s string) string {
	return strings.ToValidUTF8(s, "\uFFFD")
}
