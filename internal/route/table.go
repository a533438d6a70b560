package route

import (
	"fmt"
	"net/url"
	"strings"
)

// Route binds a method, host and path pattern to a target. Target is opaque
// here (the caller's script id). Method "" or "*" means any; Host "" or "*"
// means any.
type Route struct {
	ID     string `json:"id"`
	Method string `json:"method"`
	Host   string `json:"host"`
	Path   string `json:"path"`
	Target string `json:"target"`
}

// Match is the answer to a request: the winning route, its bound parameters
// (path params by name and, for a prefix route, the remainder under the
// wildcard's name; nil when there are none) and the remainder itself.
type Match struct {
	Route   Route
	Params  map[string]string
	Rest    string // decoded remainder after a prefix route's segments
	RawRest string // the same remainder as it appeared in the request
}

// entry is a parsed route held in a trie.
type entry struct {
	route  Route
	method string // normalized; "*" for any
	host   Host
	path   Path
	order  int // position in the table, the last tie-breaker
}

// node is one trie level, keyed by a decoded path segment.
type node struct {
	lit      map[string]*node
	param    *node
	ends     []*entry // exact and param routes whose segments end here
	prefixes []*entry // prefix routes whose segments before the wildcard end here
}

// Table is an immutable set of routes (usually one app's) indexed for
// matching: one trie per host pattern, so Match costs about the same with
// ten routes as with ten thousand. It is safe for concurrent use.
type Table struct {
	any    *node
	strict map[string]*node
	wild   map[string]*node // keyed by suffix, without "*."
	n      int
	routes []Route
}

// NewTable validates every route and refuses the first invalid or
// conflicting one; the error wraps *ParseError or *ConflictError.
func NewTable(routes []Route) (*Table, error) {
	t := newTable(len(routes))
	for i, r := range routes {
		e, err := t.check(r, false)
		if err != nil {
			return nil, fmt.Errorf("route %d (id %q): %w", i, r.ID, err)
		}
		t.insert(e)
	}
	return t, nil
}

// BuildTable is NewTable for the data plane: an invalid or conflicting route
// is left out and reported instead of failing the whole table, so one bad
// row cannot take every other route of an app offline.
func BuildTable(routes []Route) (*Table, []error) {
	t := newTable(len(routes))
	var errs []error
	for i, r := range routes {
		e, err := t.check(r, false)
		if err != nil {
			errs = append(errs, fmt.Errorf("route %d (id %q): %w", i, r.ID, err))
			continue
		}
		t.insert(e)
	}
	return t, errs
}

func newTable(n int) *Table {
	return &Table{strict: map[string]*node{}, wild: map[string]*node{}, routes: make([]Route, 0, n)}
}

// Len returns the number of routes in the table.
func (t *Table) Len() int { return t.n }

// Routes returns the table's routes in insertion order (a copy).
func (t *Table) Routes() []Route { return append([]Route(nil), t.routes...) }

// Check reports whether r is valid and conflict-free against t: nil, or an
// error matching ErrInvalidPattern, ErrReserved (*ParseError) or ErrConflict
// (*ConflictError naming the existing route). A table route with the same
// non-empty ID as r is ignored, so Check also validates an update of r.
func (t *Table) Check(r Route) error {
	_, err := t.check(r, true)
	return err
}

func (t *Table) check(r Route, skipSameID bool) (*entry, error) {
	m, err := NormalizeMethod(r.Method)
	if err != nil {
		return nil, err
	}
	h, err := ParseHost(r.Host)
	if err != nil {
		return nil, err
	}
	p, err := ParsePath(r.Path)
	if err != nil {
		return nil, err
	}
	e := &entry{route: r, method: m, host: h, path: p, order: t.n}
	root := t.root(h, false)
	if root == nil {
		return e, nil
	}
	var found *entry
	consider := func(list []*entry) {
		for _, x := range list {
			if x.method != m || !x.path.Overlaps(p) || skipSameID && r.ID != "" && x.route.ID == r.ID {
				continue
			}
			if found == nil || x.order < found.order {
				found = x
			}
		}
	}
	overlapWalk(root, p.segs, 0, func(n *node) {
		if p.kind == PathPrefix {
			consider(n.prefixes)
		} else {
			consider(n.ends)
		}
	})
	if found != nil {
		return nil, &ConflictError{Existing: found.route, New: r}
	}
	return e, nil
}

// overlapWalk visits every node whose segment shape could also match a
// request that segs matches: a literal meets the same literal or a param; a
// param meets the param child and every literal child.
func overlapWalk(n *node, segs []Segment, i int, visit func(*node)) {
	if i == len(segs) {
		visit(n)
		return
	}
	s := segs[i]
	if s.Kind == SegLiteral {
		if c := n.lit[s.Value]; c != nil {
			overlapWalk(c, segs, i+1, visit)
		}
	} else {
		for _, c := range n.lit {
			overlapWalk(c, segs, i+1, visit)
		}
	}
	if n.param != nil {
		overlapWalk(n.param, segs, i+1, visit)
	}
}

func (t *Table) root(h Host, create bool) *node {
	switch h.kind {
	case HostStrict:
		n := t.strict[h.name]
		if n == nil && create {
			n = &node{}
			t.strict[h.name] = n
		}
		return n
	case HostWildcard:
		n := t.wild[h.name]
		if n == nil && create {
			n = &node{}
			t.wild[h.name] = n
		}
		return n
	}
	if t.any == nil && create {
		t.any = &node{}
	}
	return t.any
}

func (t *Table) insert(e *entry) {
	n := t.root(e.host, true)
	for _, s := range e.path.segs {
		if s.Kind == SegLiteral {
			c := n.lit[s.Value]
			if c == nil {
				if n.lit == nil {
					n.lit = map[string]*node{}
				}
				c = &node{}
				n.lit[s.Value] = c
			}
			n = c
		} else {
			if n.param == nil {
				n.param = &node{}
			}
			n = n.param
		}
	}
	if e.path.kind == PathPrefix {
		n.prefixes = append(n.prefixes, e)
	} else {
		n.ends = append(n.ends, e)
	}
	t.n++
	t.routes = append(t.routes, e.route)
}

// Match returns the route that answers method + host + path, if any.
// path is the request's escaped path (r.URL.EscapedPath(), no query): it is
// split on "/" first and each segment is then percent-decoded, so an encoded
// slash never creates a segment. Hosts are tried most specific first
// (strict, then wildcards by longest suffix, then any) and the first host
// pattern with a matching route wins; within it the path precedence rules
// decide, then a specific method beats any.
func (t *Table) Match(method, host, path string) (Match, bool) {
	if path == "" {
		path = "/" // as net/http treats an empty path
	}
	var segsBuf [24]string
	var offsBuf [24]int
	segs, offs, ok := splitRequest(path, segsBuf[:0], offsBuf[:0])
	if !ok {
		return Match{}, false
	}
	m := matcher{segs: segs, method: upperASCII(method)}
	m.exactLen = len(segs)
	if m.exactLen > 0 && segs[m.exactLen-1] == "" {
		m.exactLen-- // a trailing slash does not count for exact and param routes
	}
	if len(t.strict) > 0 || len(t.wild) > 0 {
		h := NormalizeHost(host)
		if n := t.strict[h]; n != nil {
			m.walk(n, 0)
		}
		for i := 0; m.best == nil && len(t.wild) > 0 && i < len(h); i++ {
			if h[i] == '.' && i > 0 {
				if n := t.wild[h[i+1:]]; n != nil {
					m.walk(n, 0)
				}
			}
		}
	}
	if m.best == nil && t.any != nil {
		m.walk(t.any, 0)
	}
	if m.best == nil {
		return Match{}, false
	}
	return m.result(path, offs), true
}

type matcher struct {
	segs     []string
	exactLen int
	method   string
	best     *entry
}

func (m *matcher) walk(n *node, i int) {
	if len(n.prefixes) > 0 && i < len(m.segs) {
		for _, e := range n.prefixes {
			m.consider(e)
		}
	}
	if i == m.exactLen {
		for _, e := range n.ends {
			m.consider(e)
		}
	}
	if i < len(m.segs) {
		s := m.segs[i]
		if c := n.lit[s]; c != nil {
			m.walk(c, i+1)
		}
		if n.param != nil && s != "" {
			m.walk(n.param, i+1)
		}
	}
}

func (m *matcher) consider(e *entry) {
	if methodRank(e.method, m.method) < 0 {
		return
	}
	if m.best == nil || better(e, m.best, m.method) {
		m.best = e
	}
}

func (m *matcher) result(path string, offs []int) Match {
	e := m.best
	res := Match{Route: e.route}
	for i, s := range e.path.segs {
		if s.Kind == SegParam {
			if res.Params == nil {
				res.Params = make(map[string]string, 2)
			}
			res.Params[s.Value] = m.segs[i]
		}
	}
	if e.path.kind == PathPrefix {
		k := len(e.path.segs)
		res.RawRest = path[offs[k]:]
		res.Rest = res.RawRest
		if strings.IndexByte(res.RawRest, '%') >= 0 {
			// Every segment already decoded, so the whole remainder does too.
			res.Rest, _ = url.PathUnescape(res.RawRest)
		}
		if res.Params == nil {
			res.Params = make(map[string]string, 1)
		}
		res.Params[e.path.rest] = res.Rest
	}
	return res
}

// splitRequest splits an escaped request path into decoded segments and the
// byte offset where each starts. "/" is one empty segment; "/a/" is "a", "".
func splitRequest(p string, segs []string, offs []int) ([]string, []int, bool) {
	if p == "" || p[0] != '/' {
		return nil, nil, false
	}
	start := 1
	for {
		end := strings.IndexByte(p[start:], '/')
		if end < 0 {
			end = len(p)
		} else {
			end += start
		}
		seg := p[start:end]
		if strings.IndexByte(seg, '%') >= 0 {
			d, err := url.PathUnescape(seg)
			if err != nil {
				return nil, nil, false
			}
			seg = d
		}
		segs = append(segs, seg)
		offs = append(offs, start)
		if end == len(p) {
			break
		}
		start = end + 1
	}
	return segs, offs, true
}

// methodRank orders how well a route method serves a request method:
// 2 the same method, 1 a GET route answering HEAD, 0 any, -1 not at all.
func methodRank(route, req string) int {
	switch {
	case route == req:
		return 2
	case route == "*":
		return 0
	case route == "GET" && req == "HEAD":
		return 1
	}
	return -1
}

// better reports whether a takes precedence over b for the same request
// (both match it). The order is SEED's: exact beats the rest; among the
// non-exact, more leading literal segments win; on a tie a param route beats
// a prefix route; among prefixes the longest wins. Then, for shapes SEED
// leaves open, segment by segment a literal beats a param; then the more
// specific method; then the route added first.
func better(a, b *entry, method string) bool {
	pa, pb := &a.path, &b.path
	if ea, eb := pa.kind == PathExact, pb.kind == PathExact; ea != eb {
		return ea
	}
	if pa.leading != pb.leading {
		return pa.leading > pb.leading
	}
	if xa, xb := pa.kind == PathPrefix, pb.kind == PathPrefix; xa != xb {
		return !xa
	}
	if len(pa.segs) != len(pb.segs) {
		return len(pa.segs) > len(pb.segs)
	}
	for i := range pa.segs {
		ka, kb := pa.segs[i].Kind, pb.segs[i].Kind
		if ka != kb {
			return ka == SegLiteral
		}
	}
	if ra, rb := methodRank(a.method, method), methodRank(b.method, method); ra != rb {
		return ra > rb
	}
	return a.order < b.order
}
