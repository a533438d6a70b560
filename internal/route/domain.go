package route

import (
	"fmt"
	"strings"
)

// DomainKind is the kind of an app's domain claim.
type DomainKind uint8

// Domain kinds (SEED "Domains and apps").
const (
	DomainExact    DomainKind = iota // api.example.com
	DomainWildcard                   // *.example.com
	DomainParam                      // {tenant}.example.com: a wildcard whose left part is bound to a name
)

// Domain is a parsed domain claim pattern.
type Domain struct {
	kind  DomainKind
	name  string // lower-case host (exact) or suffix (wildcard, param)
	param string
}

// Kind returns exact, wildcard or param.
func (d Domain) Kind() DomainKind { return d.kind }

// Param returns the name a parameterized claim binds, else "".
func (d Domain) Param() string { return d.param }

// Shape returns the key two claims collide on: the host for an exact claim,
// "*.suffix" for wildcard and parameterized ones alike.
func (d Domain) Shape() string {
	if d.kind == DomainExact {
		return d.name
	}
	return "*." + d.name
}

// String returns the canonical pattern.
func (d Domain) String() string {
	switch d.kind {
	case DomainWildcard:
		return "*." + d.name
	case DomainParam:
		return "{" + d.param + "}." + d.name
	}
	return d.name
}

// ParseDomain parses a domain claim: exact ("api.example.com"), wildcard
// ("*.example.com", one or more labels before the suffix) or parameterized
// ("{tenant}.example.com", the same shape as the wildcard, binding everything
// before the suffix to the name). Errors are *ParseError wrapping
// ErrInvalidPattern.
func ParseDomain(pattern string) (Domain, error) {
	fail := func(pos int, msg string) (Domain, error) {
		return Domain{}, &ParseError{What: "domain", Input: pattern, Pos: pos, Msg: msg, Err: ErrInvalidPattern}
	}
	switch {
	case pattern == "":
		return fail(0, "empty domain")
	case pattern == "*":
		return fail(0, "a claim must name a domain (for example *.example.com)")
	case strings.HasPrefix(pattern, "*."):
		name, err := parseHostname(pattern, 2, "domain")
		if err != nil {
			return Domain{}, err
		}
		if name[0] == '[' {
			return fail(2, "a wildcard cannot precede an IP address")
		}
		return Domain{kind: DomainWildcard, name: name}, nil
	case pattern[0] == '{':
		end := strings.IndexByte(pattern, '}')
		if end < 0 {
			return fail(0, "unclosed '{'")
		}
		if err := checkName(pattern[1:end], 1); err != nil {
			return fail(err.pos, err.msg)
		}
		if end+1 >= len(pattern) || pattern[end+1] != '.' {
			return fail(end+1, "a parameter must be the whole leftmost label ({name}.example.com)")
		}
		name, err := parseHostname(pattern, end+2, "domain")
		if err != nil {
			return Domain{}, err
		}
		if name[0] == '[' {
			return fail(end+2, "a parameter cannot precede an IP address")
		}
		return Domain{kind: DomainParam, name: name, param: pattern[1:end]}, nil
	}
	name, err := parseHostname(pattern, 0, "domain")
	if err != nil {
		return Domain{}, err
	}
	return Domain{kind: DomainExact, name: name}, nil
}

// Claim is an app's claim on a domain pattern.
type Claim struct {
	ID      string `json:"id"`
	Pattern string `json:"pattern"`
	AppID   string `json:"app_id"`
}

type claimEntry struct {
	claim  Claim
	domain Domain
}

// DomainTable maps request hosts to claims (Host → app, the first phase of
// dispatch). It is immutable and safe for concurrent use; lookups cost one
// map probe per label of the host, whatever the number of claims.
type DomainTable struct {
	exact  map[string]*claimEntry
	wild   map[string]*claimEntry // keyed by suffix
	claims []Claim
}

// NewDomainTable validates the claims and refuses the first invalid one or
// the first shape collision (the error wraps *ParseError or
// *ClaimConflictError).
func NewDomainTable(claims []Claim) (*DomainTable, error) {
	d := newDomainTable(len(claims))
	for i, c := range claims {
		e, err := d.check(c, false)
		if err != nil {
			return nil, fmt.Errorf("claim %d (id %q): %w", i, c.ID, err)
		}
		d.insert(e)
	}
	return d, nil
}

// BuildDomainTable is NewDomainTable that leaves out and reports bad claims
// instead of failing, for the data plane.
func BuildDomainTable(claims []Claim) (*DomainTable, []error) {
	d := newDomainTable(len(claims))
	var errs []error
	for i, c := range claims {
		e, err := d.check(c, false)
		if err != nil {
			errs = append(errs, fmt.Errorf("claim %d (id %q): %w", i, c.ID, err))
			continue
		}
		d.insert(e)
	}
	return d, errs
}

func newDomainTable(n int) *DomainTable {
	return &DomainTable{exact: map[string]*claimEntry{}, wild: map[string]*claimEntry{}, claims: make([]Claim, 0, n)}
}

// Len returns the number of claims.
func (d *DomainTable) Len() int { return len(d.claims) }

// Claims returns the claims in insertion order (a copy).
func (d *DomainTable) Claims() []Claim { return append([]Claim(nil), d.claims...) }

// Check reports whether c is valid and its shape is free: nil, a
// *ParseError (ErrInvalidPattern) or a *ClaimConflictError (ErrConflict)
// carrying the existing claim. An existing claim with the same non-empty ID
// is ignored, so Check also validates an update of c.
func (d *DomainTable) Check(c Claim) error {
	_, err := d.check(c, true)
	return err
}

func (d *DomainTable) check(c Claim, skipSameID bool) (*claimEntry, error) {
	dom, err := ParseDomain(c.Pattern)
	if err != nil {
		return nil, err
	}
	m := d.wild
	if dom.kind == DomainExact {
		m = d.exact
	}
	if x := m[dom.name]; x != nil && !(skipSameID && c.ID != "" && x.claim.ID == c.ID) {
		return nil, &ClaimConflictError{Existing: x.claim, New: c}
	}
	return &claimEntry{claim: c, domain: dom}, nil
}

func (d *DomainTable) insert(e *claimEntry) {
	if e.domain.kind == DomainExact {
		d.exact[e.domain.name] = e
	} else {
		d.wild[e.domain.name] = e
	}
	d.claims = append(d.claims, e.claim)
}

// Match returns the claim for a request host (a port is stripped, case is
// ignored): an exact claim first, then wildcard and parameterized claims by
// longest suffix. A parameterized claim binds everything before its suffix
// (labels and dots) to its name; params is nil otherwise.
func (d *DomainTable) Match(host string) (Claim, map[string]string, bool) {
	h := NormalizeHost(host)
	if e := d.exact[h]; e != nil {
		return e.claim, nil, true
	}
	if len(d.wild) == 0 {
		return Claim{}, nil, false
	}
	for i := 0; i < len(h); i++ {
		if h[i] != '.' || i == 0 {
			continue
		}
		if e := d.wild[h[i+1:]]; e != nil {
			var params map[string]string
			if e.domain.kind == DomainParam {
				params = map[string]string{e.domain.param: h[:i]}
			}
			return e.claim, params, true
		}
	}
	return Claim{}, nil, false
}
