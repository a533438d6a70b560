package route

import (
	"fmt"
	"testing"
)

// benchRoutes builds n routes shaped like a real app's: a third exact, a
// third param, a third prefix, spread over a few hosts.
func benchRoutes(n int) []Route {
	routes := make([]Route, 0, n)
	hosts := []string{"", "api.example.com", "*.example.com"}
	for i := 0; len(routes) < n; i++ {
		host := hosts[i%len(hosts)]
		var path string
		switch i % 3 {
		case 0:
			path = fmt.Sprintf("/svc%d/items", i)
		case 1:
			path = fmt.Sprintf("/svc%d/items/:id/detail", i)
		case 2:
			path = fmt.Sprintf("/svc%d/static/*", i)
		}
		routes = append(routes, Route{ID: fmt.Sprint(i), Method: "GET", Host: host, Path: path, Target: "s"})
	}
	return routes
}

func benchMatch(b *testing.B, n int) {
	tab, err := NewTable(benchRoutes(n))
	if err != nil {
		b.Fatal(err)
	}
	// Requests for the last route of each kind on its host, plus a miss
	// that falls through every host tier.
	last := func(r int) int {
		i := n - 1
		for i%3 != r {
			i--
		}
		return i
	}
	reqs := []struct{ host, path string }{
		{"", fmt.Sprintf("/svc%d/items", last(0))},
		{"api.example.com", fmt.Sprintf("/svc%d/items/42/detail", last(1))},
		{"x.example.com", fmt.Sprintf("/svc%d/static/css/site.css", last(2))},
		{"api.example.com", "/nowhere/at/all"},
	}
	for _, rq := range reqs[:3] {
		if _, ok := tab.Match("GET", rq.host, rq.path); !ok {
			b.Fatalf("no match for %v", rq)
		}
	}
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; b.Loop(); i++ {
		rq := reqs[i%len(reqs)]
		tab.Match("GET", rq.host, rq.path)
	}
}

func BenchmarkMatch10(b *testing.B)    { benchMatch(b, 10) }
func BenchmarkMatch10000(b *testing.B) { benchMatch(b, 10000) }

func BenchmarkNewTable10000(b *testing.B) {
	routes := benchRoutes(10000)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := NewTable(routes); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkDomainMatch(b *testing.B) {
	claims := make([]Claim, 0, 1000)
	for i := 0; i < 1000; i++ {
		claims = append(claims, Claim{ID: fmt.Sprint(i), Pattern: fmt.Sprintf("app%d.example.com", i)})
	}
	claims = append(claims, Claim{ID: "t", Pattern: "{tenant}.example.com"})
	d, err := NewDomainTable(claims)
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		if i%2 == 0 {
			d.Match("app500.example.com:443")
		} else {
			d.Match("acme.example.com")
		}
	}
}
