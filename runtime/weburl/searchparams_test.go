package weburl

import (
	"reflect"
	"testing"
)

func pairsOf(sp *SearchParams) [][2]string {
	out := [][2]string{}
	sp.Each(func(n, v string) bool {
		out = append(out, [2]string{n, v})
		return true
	})
	return out
}

func strp(s string) *string { return &s }

// Cases from wpt url/urlsearchparams-sort.any.js.
func TestSearchParamsSort(t *testing.T) {
	tests := []struct {
		name  string
		input string
		want  [][2]string
	}{
		{"stable by name", "z=b&a=b&z=a&a=a", [][2]string{{"a", "b"}, {"a", "a"}, {"z", "b"}, {"z", "a"}}},
		{"replacement chars", "\uFFFD=x&\uFFFC&\uFFFD=a", [][2]string{{"\uFFFC", ""}, {"\uFFFD", "x"}, {"\uFFFD", "a"}}},
		{"surrogates sort before BMP above them", "ﬃ&🌈", [][2]string{{"🌈", ""}, {"ﬃ", ""}}},
		{"no normalization", "é&e\uFFFD&e\u0301", [][2]string{{"e\u0301", ""}, {"e\uFFFD", ""}, {"é", ""}}},
		{"interleaved", "z=z&a=a&z=y&a=b&z=x&a=c&z=w&a=d&z=v&a=e&z=u&a=f&z=t&a=g",
			[][2]string{{"a", "a"}, {"a", "b"}, {"a", "c"}, {"a", "d"}, {"a", "e"}, {"a", "f"}, {"a", "g"},
				{"z", "z"}, {"z", "y"}, {"z", "x"}, {"z", "w"}, {"z", "v"}, {"z", "u"}, {"z", "t"}}},
		{"prefixes", "bbb&bb&aaa&aa=x&aa=y", [][2]string{{"aa", "x"}, {"aa", "y"}, {"aaa", ""}, {"bb", ""}, {"bbb", ""}}},
		{"empty names", "z=z&=f&=t&=x", [][2]string{{"", "f"}, {"", "t"}, {"", "x"}, {"z", "z"}}},
		{"two astral", "a🌈&a💩", [][2]string{{"a🌈", ""}, {"a💩", ""}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			sp := ParseQuery(tt.input)
			sp.Sort()
			if got := pairsOf(sp); !reflect.DeepEqual(got, tt.want) {
				t.Fatalf("got %q, want %q", got, tt.want)
			}
		})
	}
}

// Cases from wpt url/urlsearchparams-stringifier.any.js.
func TestSearchParamsString(t *testing.T) {
	tests := []struct {
		name, value, want string
	}{
		{"space", "b c", "a=b+c"},
		{"empty", "", "a="},
		{"plus", "+", "a=%2B"},
		{"equals", "=", "a=%3D"},
		{"ampersand", "&", "a=%26"},
		{"unreserved kept", "*-._", "a=*-._"},
		{"percent", "%", "a=%25"},
		{"null", "\x00", "a=%00"},
		{"astral", "\U0001F4A9", "a=%F0%9F%92%A9"},
		{"lone surrogate becomes U+FFFD", "\xed\xa0\x80", "a=%EF%BF%BD"},
		{"form set", "!'()~", "a=%21%27%28%29%7E"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			sp := NewSearchParams()
			sp.Append("a", tt.value)
			if got := sp.String(); got != tt.want {
				t.Fatalf("String() = %q, want %q", got, tt.want)
			}
		})
	}
}

func TestSearchParamsMethods(t *testing.T) {
	tests := []struct {
		name   string
		init   string
		mutate func(sp *SearchParams)
		want   string
	}{
		{"leading question mark ignored", "?a=1&b=2", func(*SearchParams) {}, "a=1&b=2"},
		{"append keeps duplicates", "a=1", func(sp *SearchParams) { sp.Append("a", "2") }, "a=1&a=2"},
		{"delete by name", "a=1&b=2&a=3", func(sp *SearchParams) { sp.Delete("a", nil) }, "b=2"},
		{"delete by name and value", "a=1&b=2&a=3", func(sp *SearchParams) { sp.Delete("a", strp("3")) }, "a=1&b=2"},
		{"set replaces first, drops rest", "a=1&b=2&a=3", func(sp *SearchParams) { sp.Set("a", "x") }, "a=x&b=2"},
		{"set appends when missing", "b=2", func(sp *SearchParams) { sp.Set("a", "x") }, "b=2&a=x"},
		{"plus decodes to space", "a+b=c+d", func(*SearchParams) {}, "a+b=c+d"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			sp := ParseQuery(tt.init)
			tt.mutate(sp)
			if got := sp.String(); got != tt.want {
				t.Fatalf("String() = %q, want %q", got, tt.want)
			}
		})
	}

	sp := ParseQuery("a=1&b=2&a=3&c")
	if v, ok := sp.Get("a"); !ok || v != "1" {
		t.Errorf(`Get("a") = %q, %v`, v, ok)
	}
	if _, ok := sp.Get("zz"); ok {
		t.Error(`Get("zz") found a value`)
	}
	if got := sp.GetAll("a"); !reflect.DeepEqual(got, []string{"1", "3"}) {
		t.Errorf(`GetAll("a") = %q`, got)
	}
	if got := sp.GetAll("zz"); got == nil || len(got) != 0 {
		t.Errorf(`GetAll("zz") = %#v, want empty non-nil`, got)
	}
	if !sp.Has("c", nil) || !sp.Has("a", strp("3")) || sp.Has("a", strp("2")) || sp.Has("zz", nil) {
		t.Error("Has gave a wrong answer")
	}
	if sp.Len() != 4 {
		t.Errorf("Len() = %d", sp.Len())
	}
	if n, v, ok := sp.At(3); !ok || n != "c" || v != "" {
		t.Errorf("At(3) = %q %q %v", n, v, ok)
	}
	if _, _, ok := sp.At(4); ok {
		t.Error("At(4) past the end reported ok")
	}
	c := sp.Clone()
	c.Append("x", "y")
	if sp.Has("x", nil) {
		t.Error("Clone shares its list with the original")
	}
}

// TestSearchParamsLinked checks url.searchParams <-> url.search in both
// directions (wpt url/url-searchparams.any.js and urlsearchparams-delete).
func TestSearchParamsLinked(t *testing.T) {
	u, err := Parse("http://example.org/?a=b", nil)
	if err != nil {
		t.Fatal(err)
	}
	sp := u.SearchParams()
	if u.SearchParams() != sp {
		t.Fatal("SearchParams() is not the same object on each call")
	}
	sp.Set("a", "b c")
	if u.Search() != "?a=b+c" || u.Href() != "http://example.org/?a=b+c" {
		t.Fatalf("after Set: search %q href %q", u.Search(), u.Href())
	}
	sp.Append("z", "1")
	sp.Sort()
	if u.Search() != "?a=b+c&z=1" {
		t.Fatalf("after Append+Sort: search %q", u.Search())
	}
	sp.Delete("a", nil)
	sp.Delete("z", nil)
	if u.Href() != "http://example.org/" {
		t.Fatalf("emptying the params must drop the '?': href %q", u.Href())
	}

	u.SetSearch("?x=1&y=%20")
	if v, _ := sp.Get("y"); v != " " || sp.Len() != 2 {
		t.Fatalf("after SetSearch: %q", pairsOf(sp))
	}
	u.SetSearch("")
	if sp.Len() != 0 {
		t.Fatalf("after SetSearch(\"\"): %q", pairsOf(sp))
	}
	if err := u.SetHref("https://h/?k=v"); err != nil {
		t.Fatal(err)
	}
	if v, _ := sp.Get("k"); v != "v" {
		t.Fatalf("after SetHref: %q", pairsOf(sp))
	}
	if err := u.SetHref("::not a url"); err == nil {
		t.Fatal("SetHref accepted an invalid URL")
	}
	if v, _ := sp.Get("k"); v != "v" || u.Href() != "https://h/?k=v" {
		t.Fatalf("failed SetHref changed state: %q %q", u.Href(), pairsOf(sp))
	}

	// An opaque path keeps its trailing space as %20 once the query goes.
	d, err := Parse("data:space    ?test", nil)
	if err != nil {
		t.Fatal(err)
	}
	d.SearchParams().Delete("test", nil)
	if d.Href() != "data:space   %20" || d.Search() != "" {
		t.Fatalf("opaque path after delete: href %q", d.Href())
	}

	// A standalone SearchParams touches no URL.
	free := ParseQuery("a=1")
	free.Append("b", "2")
	if free.String() != "a=1&b=2" {
		t.Fatalf("standalone: %q", free.String())
	}
}
