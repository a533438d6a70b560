package cli

import (
	"bytes"
	"strings"
	"testing"
)

func FuzzParseRouteSpec(f *testing.F) {
	for _, s := range []string{"GET /hello", "/x", "* /a/*rest", "post /u/:id", "", "GET", "a b c"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, spec string) {
		m, p, err := parseRouteSpec(spec)
		if err != nil {
			return
		}
		if !strings.HasPrefix(p, "/") || m == "" || m != strings.ToUpper(m) || strings.ContainsAny(p+m, " \t\n") {
			t.Fatalf("parseRouteSpec(%q) = %q %q", spec, m, p)
		}
	})
}

func FuzzReadStream(f *testing.F) {
	f.Add(": connected\n\nid: 4\nevent: execution\ndata: {\"seq\":4}\n\n")
	f.Add("event: execution\ndata: {\"seq\":1,\"logs\":[{\"level\":\"info\",\"message\":\"x\"}]}\n\n")
	f.Add("data: x\n\n\n\nevent:\n")
	f.Fuzz(func(t *testing.T, stream string) {
		var buf bytes.Buffer
		r := &runner{out: &output{w: &buf}}
		last := int64(0)
		before := last
		_ = r.readStream(strings.NewReader(stream), &last)
		if last < before {
			t.Fatalf("the cursor went back: %d", last)
		}
	})
}
