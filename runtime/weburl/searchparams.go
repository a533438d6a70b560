package weburl

import (
	"sort"
	"strings"
	"unicode/utf16"
)

// Pair is one name/value entry of a SearchParams list.
type Pair struct {
	Name  string
	Value string
}

// SearchParams is the URLSearchParams model: an ordered list of name/value
// pairs. One obtained from URL.SearchParams is linked to that URL, and every
// mutation re-serializes the URL's query. Not safe for concurrent mutation.
type SearchParams struct {
	list []Pair
	url  *URL // nil when standalone
}

// NewSearchParams returns an empty, unlinked list (new URLSearchParams()).
func NewSearchParams() *SearchParams { return &SearchParams{} }

// ParseQuery returns an unlinked list parsed from an
// application/x-www-form-urlencoded string; one leading "?" is ignored, as
// in new URLSearchParams("?a=b").
func ParseQuery(query string) *SearchParams {
	return &SearchParams{list: parseURLEncoded(strings.TrimPrefix(query, "?"))}
}

// parseURLEncoded is the application/x-www-form-urlencoded parser.
func parseURLEncoded(s string) []Pair {
	var out []Pair
	for _, seq := range strings.Split(s, "&") {
		if seq == "" {
			continue
		}
		name, value, _ := strings.Cut(seq, "=")
		out = append(out, Pair{Name: formDecode(name), Value: formDecode(value)})
	}
	return out
}

func formDecode(s string) string {
	s = strings.ReplaceAll(s, "+", " ")
	return utf8DecodeWithoutBOM(percentDecode(s))
}

// Len returns the number of pairs (URLSearchParams.size).
func (sp *SearchParams) Len() int { return len(sp.list) }

// At returns pair i; JS iterators walk the live list by index.
func (sp *SearchParams) At(i int) (name, value string, ok bool) {
	if i < 0 || i >= len(sp.list) {
		return "", "", false
	}
	return sp.list[i].Name, sp.list[i].Value, true
}

// Each calls fn for each pair in order until fn returns false.
func (sp *SearchParams) Each(fn func(name, value string) bool) {
	for _, p := range sp.list {
		if !fn(p.Name, p.Value) {
			return
		}
	}
}

// Pairs returns a copy of the list.
func (sp *SearchParams) Pairs() []Pair { return append([]Pair(nil), sp.list...) }

// Append adds a pair at the end.
func (sp *SearchParams) Append(name, value string) {
	sp.list = append(sp.list, Pair{toUSV(name), toUSV(value)})
	sp.update()
}

// Delete removes all pairs named name, and if value is non-nil only those
// whose value also matches.
func (sp *SearchParams) Delete(name string, value *string) {
	name = toUSV(name)
	var v string
	if value != nil {
		v = toUSV(*value)
	}
	kept := sp.list[:0]
	for _, p := range sp.list {
		if p.Name == name && (value == nil || p.Value == v) {
			continue
		}
		kept = append(kept, p)
	}
	clear(sp.list[len(kept):])
	sp.list = kept
	sp.update()
}

// Get returns the first value for name.
func (sp *SearchParams) Get(name string) (string, bool) {
	name = toUSV(name)
	for _, p := range sp.list {
		if p.Name == name {
			return p.Value, true
		}
	}
	return "", false
}

// GetAll returns every value for name, in order (never nil).
func (sp *SearchParams) GetAll(name string) []string {
	name = toUSV(name)
	out := []string{}
	for _, p := range sp.list {
		if p.Name == name {
			out = append(out, p.Value)
		}
	}
	return out
}

// Has reports whether a pair named name exists (with the given value, if
// value is non-nil).
func (sp *SearchParams) Has(name string, value *string) bool {
	name = toUSV(name)
	var v string
	if value != nil {
		v = toUSV(*value)
	}
	for _, p := range sp.list {
		if p.Name == name && (value == nil || p.Value == v) {
			return true
		}
	}
	return false
}

// Set replaces the first pair named name and removes the others, or appends.
func (sp *SearchParams) Set(name, value string) {
	name, value = toUSV(name), toUSV(value)
	found := false
	kept := sp.list[:0]
	for _, p := range sp.list {
		if p.Name == name {
			if found {
				continue
			}
			found = true
			p.Value = value
		}
		kept = append(kept, p)
	}
	clear(sp.list[len(kept):])
	sp.list = kept
	if !found {
		sp.list = append(sp.list, Pair{name, value})
	}
	sp.update()
}

// Sort orders pairs stably by name, comparing UTF-16 code units as JS does.
func (sp *SearchParams) Sort() {
	sort.SliceStable(sp.list, func(i, j int) bool {
		return lessUTF16(sp.list[i].Name, sp.list[j].Name)
	})
	sp.update()
}

// String is the application/x-www-form-urlencoded serializer.
func (sp *SearchParams) String() string {
	var b strings.Builder
	for i, p := range sp.list {
		if i > 0 {
			b.WriteByte('&')
		}
		appendEncoded(&b, p.Name, formSet, true)
		b.WriteByte('=')
		appendEncoded(&b, p.Value, formSet, true)
	}
	return b.String()
}

// Clone returns an unlinked copy (new URLSearchParams(other)).
func (sp *SearchParams) Clone() *SearchParams { return &SearchParams{list: sp.Pairs()} }

// update writes the serialized list back into the linked URL's query.
func (sp *SearchParams) update() {
	if sp.url != nil {
		sp.url.setQueryFromParams(sp.String())
	}
}

// lessUTF16 compares a and b by UTF-16 code units.
func lessUTF16(a, b string) bool {
	ra, rb := []rune(a), []rune(b)
	for i := 0; i < len(ra) && i < len(rb); i++ {
		if ra[i] == rb[i] {
			continue
		}
		if ra[i] >= 0x10000 && rb[i] >= 0x10000 {
			return ra[i] < rb[i] // surrogate pairs keep code point order
		}
		return unit(ra[i]) < unit(rb[i])
	}
	return len(ra) < len(rb)
}

// unit returns the first UTF-16 code unit of r, which decides the order of
// two different code points at the same position.
func unit(r rune) rune {
	if r >= 0x10000 {
		hi, _ := utf16.EncodeRune(r)
		return hi
	}
	return r
}
