package weburl

import (
	"strings"
	"testing"
	"time"
)

// TestLargeInputsStayLinear guards against quadratic paths: scripts control
// URL strings, so a large input must cost in proportion to its size. It
// compares 16x more input against the small run, so slow or -race builds
// do not matter: linear code takes ~16x, quadratic ~256x.
func TestLargeInputsStayLinear(t *testing.T) {
	tests := []struct {
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
	// run returns the best of three, to damp noise on a shared machine.
	run := func(s string) time.Duration {
		best := time.Duration(1<<63 - 1)
		for range 3 {
			start := time.Now()
			if u, err := Parse(s, nil); err == nil {
				_ = u.Href()
				_ = u.SearchParams().Len()
			}
			best = min(best, time.Since(start))
		}
		return best
	}
	const small = 1 << 11
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			smallIn, bigIn := tt.gen(small), tt.gen(16*small)
			base := run(smallIn)
			big := run(bigIn)
			if limit := 64*base + 100*time.Millisecond; big > limit {
				t.Fatalf("16x input took %v vs %v (limit %v): superlinear", big, base, limit)
			}
		})
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
