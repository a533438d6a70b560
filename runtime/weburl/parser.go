package weburl

import (
	"fmt"
	"strings"
)

type state int

const (
	stateNone state = iota
	stateSchemeStart
	stateScheme
	stateNoScheme
	stateSpecialRelativeOrAuthority
	statePathOrAuthority
	stateRelative
	stateRelativeSlash
	stateSpecialAuthoritySlashes
	stateSpecialAuthorityIgnoreSlashes
	stateAuthority
	stateHost
	stateHostname
	statePort
	stateFile
	stateFileSlash
	stateFileHost
	statePathStart
	statePath
	stateOpaquePath
	stateQuery
	stateFragment
)

const eof rune = -1

func fail(reason string) error { return fmt.Errorf("%w: %s", ErrInvalidURL, reason) }

func isC0OrSpace(c rune) bool { return c >= 0 && c <= 0x20 }

func isAlpha(c rune) bool { return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' }

func isDigit(c rune) bool { return c >= '0' && c <= '9' }

func toLower(c rune) rune {
	if c >= 'A' && c <= 'Z' {
		return c + 'a' - 'A'
	}
	return c
}

func isDriveLetter(s string) bool {
	return len(s) == 2 && isAlpha(rune(s[0])) && (s[1] == ':' || s[1] == '|')
}

func isNormalizedDriveLetter(s string) bool { return isDriveLetter(s) && s[1] == ':' }

func startsWithDriveLetter(in []rune) bool {
	if len(in) < 2 || !isAlpha(in[0]) || (in[1] != ':' && in[1] != '|') {
		return false
	}
	if len(in) == 2 {
		return true
	}
	switch in[2] {
	case '/', '\\', '?', '#':
		return true
	}
	return false
}

func isSingleDot(s string) bool { return s == "." || strings.EqualFold(s, "%2e") }

func isDoubleDot(s string) bool {
	switch strings.ToLower(s) {
	case "..", ".%2e", "%2e.", "%2e%2e":
		return true
	}
	return false
}

// prepareInput strips leading/trailing C0 controls and spaces (only for a
// fresh parse) and removes all ASCII tabs and newlines.
func prepareInput(s string, trim bool) []rune {
	in := []rune(s)
	if trim {
		start, end := 0, len(in)
		for start < end && isC0OrSpace(in[start]) {
			start++
		}
		for end > start && isC0OrSpace(in[end-1]) {
			end--
		}
		in = in[start:end]
	}
	out := in[:0:0]
	for _, c := range in {
		if c != '\t' && c != '\n' && c != '\r' {
			out = append(out, c)
		}
	}
	return out
}

// basicParse is the basic URL parser. With override != stateNone it modifies
// url in place (setters); the returned error then only reports failure.
func basicParse(s string, base, url *URL, override state) error {
	in := prepareInput(s, override == stateNone)
	st := override
	if st == stateNone {
		st = stateSchemeStart
	}
	var (
		buf            []rune
		atSignSeen     bool
		insideBrackets bool
		passwordSeen   bool
		// opaque path and fragment are built here and flushed into url, so
		// long inputs stay linear.
		opaqueB, fragB strings.Builder
		// credentials accumulate across several '@'; a fresh parse starts
		// them empty.
		userB, passB strings.Builder
	)
	flush := func() {
		if opaqueB.Len() > 0 {
			url.opaque += opaqueB.String()
			opaqueB.Reset()
		}
		if fragB.Len() > 0 {
			url.fragment += fragB.String()
			fragB.Reset()
		}
	}
	defer flush()
	n := len(in)
	at := func(i int) rune {
		if i >= 0 && i < n {
			return in[i]
		}
		return eof
	}
	remainingStartsWith := func(p int, r rune) bool { return at(p+1) == r }

	for p := 0; ; p++ {
		c := at(p)
		switch st {
		case stateSchemeStart:
			if isAlpha(c) {
				buf = append(buf, toLower(c))
				st = stateScheme
			} else if override == stateNone {
				st = stateNoScheme
				p--
			} else {
				return fail("invalid scheme start")
			}

		case stateScheme:
			if isAlpha(c) || isDigit(c) || c == '+' || c == '-' || c == '.' {
				buf = append(buf, toLower(c))
			} else if c == ':' {
				scheme := string(buf)
				if override != stateNone {
					if url.isSpecial() != isSpecialScheme(scheme) {
						return nil
					}
					if (url.includesCredentials() || url.port >= 0) && scheme == "file" {
						return nil
					}
					if url.scheme == "file" && url.hasHost && url.host == "" {
						return nil
					}
				}
				url.scheme = scheme
				if override != stateNone {
					if url.port >= 0 && url.port == defaultPort(url.scheme) {
						url.port = -1
					}
					return nil
				}
				buf = buf[:0]
				switch {
				case url.scheme == "file":
					st = stateFile
				case url.isSpecial() && base != nil && base.scheme == url.scheme:
					st = stateSpecialRelativeOrAuthority
				case url.isSpecial():
					st = stateSpecialAuthoritySlashes
				case remainingStartsWith(p, '/'):
					st = statePathOrAuthority
					p++
				default:
					url.hasOpaque, url.opaque = true, ""
					st = stateOpaquePath
				}
			} else if override == stateNone {
				buf = buf[:0]
				st = stateNoScheme
				p = -1
			} else {
				return fail("invalid scheme")
			}

		case stateNoScheme:
			switch {
			case base == nil || (base.hasOpaque && c != '#'):
				return fail("missing scheme, non-relative URL")
			case base.hasOpaque && c == '#':
				url.scheme = base.scheme
				url.hasOpaque, url.opaque = true, base.opaque
				url.path = nil
				url.query, url.hasQuery = base.query, base.hasQuery
				url.fragment, url.hasFrag = "", true
				st = stateFragment
			case base.scheme != "file":
				st = stateRelative
				p--
			default:
				st = stateFile
				p--
			}

		case stateSpecialRelativeOrAuthority:
			if c == '/' && remainingStartsWith(p, '/') {
				st = stateSpecialAuthorityIgnoreSlashes
				p++
			} else {
				st = stateRelative
				p--
			}

		case statePathOrAuthority:
			if c == '/' {
				st = stateAuthority
			} else {
				st = statePath
				p--
			}

		case stateRelative:
			url.scheme = base.scheme
			if c == '/' || (url.isSpecial() && c == '\\') {
				st = stateRelativeSlash
			} else {
				url.username, url.password = base.username, base.password
				url.host, url.hasHost, url.port = base.host, base.hasHost, base.port
				url.path = append([]string(nil), base.path...)
				url.query, url.hasQuery = base.query, base.hasQuery
				switch c {
				case '?':
					url.query, url.hasQuery = "", true
					st = stateQuery
				case '#':
					url.fragment, url.hasFrag = "", true
					st = stateFragment
				case eof:
				default:
					url.query, url.hasQuery = "", false
					url.shortenPath()
					st = statePath
					p--
				}
			}

		case stateRelativeSlash:
			if url.isSpecial() && (c == '/' || c == '\\') {
				st = stateSpecialAuthorityIgnoreSlashes
			} else if c == '/' {
				st = stateAuthority
			} else {
				url.username, url.password = base.username, base.password
				url.host, url.hasHost, url.port = base.host, base.hasHost, base.port
				st = statePath
				p--
			}

		case stateSpecialAuthoritySlashes:
			if c == '/' && remainingStartsWith(p, '/') {
				p++
			} else {
				p--
			}
			st = stateSpecialAuthorityIgnoreSlashes

		case stateSpecialAuthorityIgnoreSlashes:
			if c != '/' && c != '\\' {
				st = stateAuthority
				p--
			}

		case stateAuthority:
			if c == '@' {
				if atSignSeen {
					buf = append([]rune("%40"), buf...)
				}
				atSignSeen = true
				for _, cp := range buf {
					if cp == ':' && !passwordSeen {
						passwordSeen = true
						continue
					}
					if passwordSeen {
						appendEncodedRune(&passB, cp, userinfoSet)
					} else {
						appendEncodedRune(&userB, cp, userinfoSet)
					}
				}
				url.username, url.password = userB.String(), passB.String()
				buf = buf[:0]
			} else if c == eof || c == '/' || c == '?' || c == '#' || (url.isSpecial() && c == '\\') {
				if atSignSeen && len(buf) == 0 {
					return fail("host missing")
				}
				p -= len(buf) + 1
				buf = buf[:0]
				st = stateHost
			} else {
				buf = append(buf, c)
			}

		case stateHost, stateHostname:
			if override != stateNone && url.scheme == "file" {
				p--
				st = stateFileHost
			} else if c == ':' && !insideBrackets {
				if len(buf) == 0 {
					return fail("host missing")
				}
				if override == stateHostname {
					return fail("port in hostname")
				}
				h, err := parseHost(string(buf), !url.isSpecial())
				if err != nil {
					return fail("invalid host")
				}
				url.host, url.hasHost = h, true
				buf = buf[:0]
				st = statePort
			} else if c == eof || c == '/' || c == '?' || c == '#' || (url.isSpecial() && c == '\\') {
				p--
				if url.isSpecial() && len(buf) == 0 {
					return fail("host missing")
				} else if override != stateNone && len(buf) == 0 && (url.includesCredentials() || url.port >= 0) {
					return fail("host missing")
				}
				h, err := parseHost(string(buf), !url.isSpecial())
				if err != nil {
					return fail("invalid host")
				}
				url.host, url.hasHost = h, true
				buf = buf[:0]
				st = statePathStart
				if override != stateNone {
					return nil
				}
			} else {
				if c == '[' {
					insideBrackets = true
				} else if c == ']' {
					insideBrackets = false
				}
				buf = append(buf, c)
			}

		case statePort:
			if isDigit(c) {
				buf = append(buf, c)
			} else if c == eof || c == '/' || c == '?' || c == '#' || (url.isSpecial() && c == '\\') || override != stateNone {
				if len(buf) != 0 {
					port := 0
					for _, d := range buf {
						port = port*10 + int(d-'0')
						if port > 65535 {
							return fail("port out of range")
						}
					}
					if port == defaultPort(url.scheme) {
						url.port = -1
					} else {
						url.port = port
					}
					buf = buf[:0]
					if override != stateNone {
						return nil
					}
				}
				if override != stateNone {
					return fail("invalid port")
				}
				st = statePathStart
				p--
			} else {
				return fail("invalid port")
			}

		case stateFile:
			url.scheme = "file"
			url.host, url.hasHost = "", true
			if c == '/' || c == '\\' {
				st = stateFileSlash
			} else if base != nil && base.scheme == "file" {
				url.host, url.hasHost = base.host, base.hasHost
				url.path = append([]string(nil), base.path...)
				url.query, url.hasQuery = base.query, base.hasQuery
				switch c {
				case '?':
					url.query, url.hasQuery = "", true
					st = stateQuery
				case '#':
					url.fragment, url.hasFrag = "", true
					st = stateFragment
				case eof:
				default:
					url.query, url.hasQuery = "", false
					if !startsWithDriveLetter(in[p:]) {
						url.shortenPath()
					} else {
						url.path = nil
					}
					st = statePath
					p--
				}
			} else {
				st = statePath
				p--
			}

		case stateFileSlash:
			if c == '/' || c == '\\' {
				st = stateFileHost
			} else {
				if base != nil && base.scheme == "file" {
					url.host, url.hasHost = base.host, base.hasHost
					if !startsWithDriveLetter(in[p:]) && len(base.path) > 0 && isNormalizedDriveLetter(base.path[0]) {
						url.path = append(url.path, base.path[0])
					}
				}
				st = statePath
				p--
			}

		case stateFileHost:
			if c == eof || c == '/' || c == '\\' || c == '?' || c == '#' {
				p--
				if override == stateNone && isDriveLetter(string(buf)) {
					st = statePath
				} else if len(buf) == 0 {
					url.host, url.hasHost = "", true
					if override != stateNone {
						return nil
					}
					st = statePathStart
				} else {
					h, err := parseHost(string(buf), !url.isSpecial())
					if err != nil {
						return fail("invalid host")
					}
					if h == "localhost" {
						h = ""
					}
					url.host, url.hasHost = h, true
					if override != stateNone {
						return nil
					}
					buf = buf[:0]
					st = statePathStart
				}
			} else {
				buf = append(buf, c)
			}

		case statePathStart:
			if url.isSpecial() {
				st = statePath
				if c != '/' && c != '\\' {
					p--
				}
			} else if override == stateNone && c == '?' {
				url.query, url.hasQuery = "", true
				st = stateQuery
			} else if override == stateNone && c == '#' {
				url.fragment, url.hasFrag = "", true
				st = stateFragment
			} else if c != eof {
				st = statePath
				if c != '/' {
					p--
				}
			} else if override != stateNone && !url.hasHost {
				url.path = append(url.path, "")
			}

		case statePath:
			slashy := c == '/' || (url.isSpecial() && c == '\\')
			if c == eof || slashy || (override == stateNone && (c == '?' || c == '#')) {
				seg := string(buf)
				if isDoubleDot(seg) {
					url.shortenPath()
					if !slashy {
						url.path = append(url.path, "")
					}
				} else if isSingleDot(seg) && !slashy {
					url.path = append(url.path, "")
				} else if !isSingleDot(seg) {
					if url.scheme == "file" && len(url.path) == 0 && isDriveLetter(seg) {
						seg = seg[:1] + ":"
					}
					url.path = append(url.path, seg)
				}
				buf = buf[:0]
				if c == '?' {
					url.query, url.hasQuery = "", true
					st = stateQuery
				}
				if c == '#' {
					url.fragment, url.hasFrag = "", true
					st = stateFragment
				}
			} else {
				buf = appendEncodedRunes(buf, c, pathSet)
			}

		case stateOpaquePath:
			switch {
			case c == '?':
				flush()
				url.query, url.hasQuery = "", true
				st = stateQuery
			case c == '#':
				flush()
				url.fragment, url.hasFrag = "", true
				st = stateFragment
			case c == ' ':
				// A space before ? or # is encoded so it cannot be lost when
				// the query or fragment is later removed.
				if r := at(p + 1); r == '?' || r == '#' {
					opaqueB.WriteString("%20")
				} else {
					opaqueB.WriteByte(' ')
				}
			case c != eof:
				appendEncodedRune(&opaqueB, c, c0ControlSet)
			}

		case stateQuery:
			if (override == stateNone && c == '#') || c == eof {
				set := querySet
				if url.isSpecial() {
					set = specialQuerySet
				}
				var b strings.Builder
				b.WriteString(url.query)
				appendEncoded(&b, string(buf), set, false)
				url.query = b.String()
				buf = buf[:0]
				if c == '#' {
					url.fragment, url.hasFrag = "", true
					st = stateFragment
				}
			} else {
				buf = append(buf, c)
			}

		case stateFragment:
			if c != eof {
				appendEncodedRune(&fragB, c, fragmentSet)
			}
		}
		if p >= n {
			break
		}
	}
	return nil
}
