package weburl

import (
	"encoding/json"
	"os"
	"path/filepath"
	"testing"
)

// seedURLs adds every WPT input and base to the corpus.
func seedURLs(f *testing.F, add func(input, base string)) {
	b, err := os.ReadFile(filepath.Join("testdata", "wpt", "urltestdata.json"))
	if err != nil {
		f.Fatal(err)
	}
	var raw []json.RawMessage
	if err := json.Unmarshal(b, &raw); err != nil {
		f.Fatal(err)
	}
	for _, r := range raw {
		var tc urlTestCase
		if json.Unmarshal(r, &tc) != nil {
			continue
		}
		base := ""
		if tc.Base != nil {
			base = *tc.Base
		}
		add(tc.Input, base)
	}
}

// checkStable fails when u's href does not re-parse to itself.
func checkStable(t *testing.T, what string, u *URL) {
	t.Helper()
	href := u.Href()
	again, err := Parse(href, nil)
	if err != nil {
		t.Fatalf("%s: href %q does not re-parse: %v", what, href, err)
	}
	if got := again.Href(); got != href {
		t.Fatalf("%s: href %q re-parses to %q", what, href, got)
	}
}

func FuzzParse(f *testing.F) {
	seedURLs(f, func(input, base string) { f.Add(input, base) })
	f.Fuzz(func(t *testing.T, input, base string) {
		u, err := Parse(input, nil)
		if err == nil {
			checkStable(t, "Parse("+input+")", u)
			_ = u.Origin()
		}
		if CanParse(input, base) {
			u, err := ParseWithBase(input, base)
			if err != nil {
				t.Fatalf("CanParse true but ParseWithBase failed: %v", err)
			}
			checkStable(t, "ParseWithBase", u)
		}
	})
}

// FuzzSetters applies one setter to a parsed URL: no panics, and the result
// still round-trips through its href.
func FuzzSetters(f *testing.F) {
	seedURLs(f, func(input, _ string) { f.Add(input, uint8(0), "x") })
	f.Add("http://example.com/", uint8(4), "[::1]:8080")
	f.Add("sc://x/", uint8(7), "//p")
	f.Add("file:///C:/", uint8(1), "a")
	attrs := []string{"href", "protocol", "username", "password", "host", "hostname", "port", "pathname", "search", "hash"}
	f.Fuzz(func(t *testing.T, href string, which uint8, value string) {
		u, err := Parse(href, nil)
		if err != nil {
			return
		}
		sp := u.SearchParams()
		attr := attrs[int(which)%len(attrs)]
		applySetter(u, attr, value)
		checkStable(t, attr+" setter", u)
		if got, want := sp.String(), ParseQuery(u.Search()).String(); got != want {
			t.Fatalf("searchParams %q out of sync with search %q", got, u.Search())
		}
	})
}

// FuzzSearchParams checks that serializing and re-parsing keeps the pairs.
func FuzzSearchParams(f *testing.F) {
	f.Add("a=b&c=d")
	f.Add("a+b=%20&&=&%zz=%C2")
	f.Add("\uFEFF=\x00&\xff=1")
	f.Fuzz(func(t *testing.T, q string) {
		sp := ParseQuery(q)
		s := sp.String()
		again := ParseQuery(s)
		if again.String() != s || again.Len() != sp.Len() {
			t.Fatalf("%q -> %q -> %q", q, s, again.String())
		}
		for i := 0; i < sp.Len(); i++ {
			n1, v1, _ := sp.At(i)
			n2, v2, _ := again.At(i)
			if n1 != n2 || v1 != v2 {
				t.Fatalf("pair %d: %q=%q became %q=%q", i, n1, v1, n2, v2)
			}
		}
	})
}
