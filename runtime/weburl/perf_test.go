package weburl

import (
	"fmt"
	goruntime "runtime"
	"strings"
	"testing"
)

// TestLargeInputsStayLinear guards against quadratic paths: scripts control
// URL strings, so a large input must cost in proportion to its size. It
// compares the bytes allocated for 16x more input, not time, so a loaded
// machine cannot fail it: linear code allocates ~16x, quadratic string
// building ~256x. (Timing-based growth is covered by BenchmarkParseLarge.)
func TestLargeInputsStayLinear(t *testing.T) {
	const small = 1 << 11
	for _, tt := range largeInputs {
		t.Run(tt.name, func(t *testing.T) {
			base := allocated(tt.gen(small))
			big := allocated(tt.gen(16 * small))
			if limit := 64*base + 1<<20; big > limit {
				t.Fatalf("16x input allocated %d bytes vs %d (limit %d): superlinear", big, base, limit)
			}
		})
	}
}

var largeInputs = []struct {
	name string
	gen  func(n int) string
}{
	{"long path", func(n int) string { return "http://h/" + strings.Repeat("a/", n) }},
	{"dot segments", func(n int) string { return "http://h/" + strings.Repeat("../", n) }},
	{"many at signs", func(n int) string { return "http://" + strings.Repeat("u@", n) + "h/" }},
	{"long opaque path", func(n int) string { return "sc:" + strings.Repeat("x ", n) + "?q" }},
	{"long query", func(n int) string { return "http://h/?" + strings.Repeat("a=b&", n) }},
	{"long fragment", func(n int) string { return "http://h/#" + strings.Repeat("\u00e9", n) }},
	{"long host", func(n int) string { return "http://" + strings.Repeat("a.", n) + "com/" }},
	{"long idna host", func(n int) string { return "http://" + strings.Repeat("\u00e9.", n) + "com/" }},
	{"long ipv6-ish", func(n int) string { return "http://[" + strings.Repeat("1:", n) + "]/" }},
}

func parseAll(s string) {
	if u, err := Parse(s, nil); err == nil {
		_ = u.Href()
		_ = u.SearchParams().Len()
	}
}

// allocated returns the bytes allocated while parsing s.
func allocated(s string) uint64 {
	var before, after goruntime.MemStats
	goruntime.ReadMemStats(&before)
	parseAll(s)
	goruntime.ReadMemStats(&after)
	return after.TotalAlloc - before.TotalAlloc
}

func BenchmarkParseLarge(b *testing.B) {
	for _, tt := range largeInputs {
		for _, n := range []int{1 << 11, 1 << 15} {
			in := tt.gen(n)
			b.Run(fmt.Sprintf("%s/%d", tt.name, n), func(b *testing.B) {
				for i := 0; i < b.N; i++ {
					parseAll(in)
				}
			})
		}
	}
}

func BenchmarkParse(b *testing.B) {
	inputs := []string{
		"https://api.example.com/v1/items?limit=10&cursor=abc#frag",
		"http://user:pass@[::1]:8080/a/../b/./c?q=%20x",
		"https://bücher.example/straße?ä=ö",
	}
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		if _, err := Parse(inputs[i%len(inputs)], nil); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkSearchParams(b *testing.B) {
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		sp := ParseQuery("a=1&b=two+words&c=%C3%A9&a=2")
		sp.Set("a", "3")
		sp.Sort()
		_ = sp.String()
	}
}
