package route

import (
	"errors"
	"reflect"
	"testing"
)

func TestParseDomain(t *testing.T) {
	tests := []struct {
		name, in string
		kind     DomainKind
		canon    string
		shape    string
		err      string
	}{
		{"seed exact", "api.example.com", DomainExact, "api.example.com", "api.example.com", ""},
		{"exact lower-cased", "API.Example.COM", DomainExact, "api.example.com", "api.example.com", ""},
		{"seeded localhost", "localhost", DomainExact, "localhost", "localhost", ""},
		{"seed wildcard", "*.example.com", DomainWildcard, "*.example.com", "*.example.com", ""},
		{"seed parameterized", "{tenant}.example.com", DomainParam, "{tenant}.example.com", "*.example.com", ""},
		{"param name keeps its case", "{Tenant}.Example.com", DomainParam, "{Tenant}.example.com", "*.example.com", ""},
		{"empty", "", 0, "", "", `invalid domain "": empty domain at position 0`},
		{"bare star", "*", 0, "", "", `invalid domain "*": a claim must name a domain (for example *.example.com) at position 0`},
		{"port", "api.example.com:80", 0, "", "", `invalid domain "api.example.com:80": port not allowed in a domain pattern at position 15`},
		{"param not leftmost", "api.{t}.example.com", 0, "", "", `invalid domain "api.{t}.example.com": a parameter is allowed only as the whole leftmost label ({name}.example.com) at position 4`},
		{"param part of a label", "{t}x.example.com", 0, "", "", `invalid domain "{t}x.example.com": a parameter must be the whole leftmost label ({name}.example.com) at position 3`},
		{"param without suffix", "{t}", 0, "", "", `invalid domain "{t}": a parameter must be the whole leftmost label ({name}.example.com) at position 3`},
		{"unclosed param", "{t.example.com", 0, "", "", `invalid domain "{t.example.com": unclosed '{' at position 0`},
		{"empty param name", "{}.example.com", 0, "", "", `invalid domain "{}.example.com": missing parameter name at position 0`},
		{"bad param name", "{a-b}.example.com", 0, "", "", `invalid domain "{a-b}.example.com": invalid character '-' in parameter name at position 2`},
		{"inner wildcard", "a.*.example.com", 0, "", "", `invalid domain "a.*.example.com": wildcard allowed only as the whole leftmost label (*.example.com) at position 2`},
		{"empty label", "a..com", 0, "", "", `invalid domain "a..com": empty label at position 2`},
		{"wildcard of an IP", "*.[::1]", 0, "", "", `invalid domain "*.[::1]": a wildcard cannot precede an IP address at position 2`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d, err := ParseDomain(tt.in)
			if tt.err != "" {
				if err == nil || err.Error() != tt.err || !errors.Is(err, ErrInvalidPattern) {
					t.Fatalf("ParseDomain(%q) err = %v, want %s", tt.in, err, tt.err)
				}
				return
			}
			if err != nil {
				t.Fatalf("ParseDomain(%q): %v", tt.in, err)
			}
			if d.Kind() != tt.kind || d.String() != tt.canon || d.Shape() != tt.shape {
				t.Fatalf("ParseDomain(%q) = %v %q %q, want %v %q %q", tt.in, d.Kind(), d.String(), d.Shape(), tt.kind, tt.canon, tt.shape)
			}
		})
	}
}

func TestDomainConflicts(t *testing.T) {
	tests := []struct {
		name          string
		existing, new string
		conflict      bool
	}{
		{"same exact", "api.example.com", "api.example.com", true},
		{"exact differs only in case", "API.example.com", "api.example.com", true},
		{"seed: parameterized has the shape of a wildcard", "*.example.com", "{tenant}.example.com", true},
		{"two parameter names, one shape", "{a}.example.com", "{b}.example.com", true},
		{"exact under a wildcard is fine", "*.example.com", "api.example.com", false},
		{"nested wildcards are fine", "*.example.com", "*.eu.example.com", false},
		{"different suffixes", "*.example.com", "*.example.org", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ex := Claim{ID: "c1", Pattern: tt.existing, AppID: "app1"}
			nw := Claim{ID: "c2", Pattern: tt.new, AppID: "app2"}
			d, err := NewDomainTable([]Claim{ex})
			if err != nil {
				t.Fatal(err)
			}
			err = d.Check(nw)
			_, newErr := NewDomainTable([]Claim{ex, nw})
			if !tt.conflict {
				if err != nil || newErr != nil {
					t.Fatalf("Check = %v, NewDomainTable = %v; want no conflict", err, newErr)
				}
				return
			}
			for _, e := range []error{err, newErr} {
				var ce *ClaimConflictError
				if !errors.Is(e, ErrConflict) || !errors.As(e, &ce) || ce.Existing != ex || ce.New != nw {
					t.Fatalf("err = %v, want a *ClaimConflictError with the existing claim", e)
				}
			}
			// An update of the existing claim is not a conflict with itself.
			if err := d.Check(Claim{ID: "c1", Pattern: tt.new, AppID: "app1"}); err != nil {
				t.Fatalf("update of c1: %v", err)
			}
		})
	}
}

func TestDomainMatch(t *testing.T) {
	d, err := NewDomainTable([]Claim{
		{ID: "local", Pattern: "localhost", AppID: "default"},
		{ID: "api", Pattern: "api.example.com", AppID: "api"},
		{ID: "wild", Pattern: "*.example.com", AppID: "wild"},
		{ID: "eu", Pattern: "{tenant}.eu.example.com", AppID: "tenants"},
		{ID: "ip", Pattern: "[::1]", AppID: "v6"},
	})
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name, host string
		want       string
		params     map[string]string
	}{
		{"seed: exact before wildcard", "api.example.com", "api", nil},
		{"wildcard catches others", "www.example.com", "wild", nil},
		{"wildcard spans labels", "a.b.example.com", "wild", nil},
		{"seed: longer suffix first, param binds", "acme.eu.example.com", "eu", map[string]string{"tenant": "acme"}},
		{"param binds several labels", "x.acme.eu.example.com", "eu", map[string]string{"tenant": "x.acme"}},
		{"bare suffix of a param claim falls to a shorter wildcard", "eu.example.com", "wild", nil},
		{"port stripped, case ignored", "API.Example.com:8443", "api", nil},
		{"trailing dot", "localhost.", "local", nil},
		{"localhost with port", "localhost:8080", "local", nil},
		{"ipv6 with port", "[::1]:8080", "ip", nil},
		{"seed: unknown host", "example.org", "", nil},
		{"bare suffix of a wildcard is unknown", "example.com", "", nil},
		{"empty host", "", "", nil},
		{"leading dot", ".example.com", "", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, params, ok := d.Match(tt.host)
			if tt.want == "" {
				if ok {
					t.Fatalf("Match(%q) = %q, want none", tt.host, c.ID)
				}
				return
			}
			if !ok || c.ID != tt.want || !reflect.DeepEqual(params, tt.params) {
				t.Fatalf("Match(%q) = %q %v %v, want %q %v", tt.host, c.ID, params, ok, tt.want, tt.params)
			}
		})
	}
	if d.Len() != 5 || len(d.Claims()) != 5 {
		t.Errorf("Len = %d", d.Len())
	}
}

func TestBuildDomainTable(t *testing.T) {
	d, errs := BuildDomainTable([]Claim{{ID: "a", Pattern: "*.x.com"}, {ID: "b", Pattern: "{t}.x.com"}, {ID: "c", Pattern: "bad host"}, {ID: "d", Pattern: "y.com"}})
	if len(errs) != 2 || d.Len() != 2 {
		t.Fatalf("kept %d, errors %v", d.Len(), errs)
	}
	if c, _, ok := d.Match("q.x.com"); !ok || c.ID != "a" {
		t.Fatalf("Match = %v %v", c, ok)
	}
}
