package manager

import (
	"encoding/json"
	"reflect"
	"regexp"
	"slices"
	"strings"
	"testing"
)

type openAPIDoc struct {
	OpenAPI string `json:"openapi"`
	Paths   map[string]map[string]struct {
		Capability string `json:"x-picloud-capability"`
		Responses  map[string]json.RawMessage
		Parameters []struct {
			Name string `json:"name"`
			In   string `json:"in"`
		} `json:"parameters"`
	} `json:"paths"`
}

var ginParam = regexp.MustCompile(`[:*]([A-Za-z_]+)`)

// TestOpenAPIMatchesRouter: every route of the router is documented and
// every documented operation is a route, with its path parameters.
func TestOpenAPIMatchesRouter(t *testing.T) {
	var doc openAPIDoc
	if err := json.Unmarshal(openAPIDocument, &doc); err != nil {
		t.Fatalf("openapi.json: %v", err)
	}
	if !strings.HasPrefix(doc.OpenAPI, "3.") {
		t.Fatalf("openapi version %q, want 3.x", doc.OpenAPI)
	}
	m := &Manager{}
	routes := map[string]bool{}
	for _, r := range m.router().Routes() {
		p := ginParam.ReplaceAllString(strings.TrimPrefix(r.Path, APIPrefix), "{$1}")
		routes[strings.ToLower(r.Method)+" "+p] = true
	}
	documented := map[string]bool{}
	for path, ops := range doc.Paths {
		for method, op := range ops {
			k := method + " " + path
			documented[k] = true
			if !routes[k] {
				t.Errorf("documented operation %s is not a route", k)
			}
			if op.Capability == "" || len(op.Responses) == 0 {
				t.Errorf("%s lacks x-picloud-capability or responses", k)
			}
			var want, got []string
			for _, mt := range regexp.MustCompile(`\{([A-Za-z_]+)\}`).FindAllStringSubmatch(path, -1) {
				want = append(want, mt[1])
			}
			for _, p := range op.Parameters {
				if p.In == "path" {
					got = append(got, p.Name)
				}
			}
			if !slices.Equal(want, got) {
				t.Errorf("%s documents path parameters %v, want %v", k, got, want)
			}
		}
	}
	for k := range routes {
		if !documented[k] {
			t.Errorf("route %s is not documented in openapi.json", k)
		}
	}
}

func TestOpenAPIServed(t *testing.T) {
	e := newAPIEnv(t)
	var doc openAPIDoc
	if st := e.do("", "GET", "/openapi.json", nil, &doc); st != 200 || len(doc.Paths) == 0 {
		t.Fatalf("GET openapi.json = %d with %d paths", st, len(doc.Paths))
	}
}

// jsonFields lists the JSON names of a struct's fields, embedded structs
// flattened, as encoding/json does.
func jsonFields(t reflect.Type) []string {
	var out []string
	for i := range t.NumField() {
		f := t.Field(i)
		name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
		switch {
		case name == "-" || !f.IsExported():
		case f.Anonymous && name == "":
			out = append(out, jsonFields(f.Type)...)
		case name == "":
			out = append(out, f.Name)
		default:
			out = append(out, name)
		}
	}
	slices.Sort(out)
	return out
}

// TestOpenAPISchemasMatchTypes: every documented answer schema names
// exactly the fields its Go type encodes, so a field added to a type
// cannot be left out of the document.
func TestOpenAPISchemasMatchTypes(t *testing.T) {
	var doc struct {
		Components struct {
			Schemas map[string]struct {
				Properties map[string]json.RawMessage `json:"properties"`
			} `json:"schemas"`
		} `json:"components"`
	}
	if err := json.Unmarshal(openAPIDocument, &doc); err != nil {
		t.Fatal(err)
	}
	for name, v := range map[string]any{
		"App": App{}, "Domain": Domain{}, "Member": Member{}, "Script": Script{}, "Deployed": Deployed{},
		"Version": Version{}, "Route": Route{}, "RouteMatch": RouteMatch{}, "User": User{}, "APIKey": APIKey{},
		"Execution": Execution{}, "LogEntry": LogEntry{}, "CronTrigger": CronTrigger{}, "CronSpec": CronSpec{},
	} {
		t.Run(name, func(t *testing.T) {
			s, ok := doc.Components.Schemas[name]
			if !ok {
				t.Fatalf("no schema %s", name)
			}
			var got []string
			for p := range s.Properties {
				got = append(got, p)
			}
			slices.Sort(got)
			if want := jsonFields(reflect.TypeOf(v)); !slices.Equal(got, want) {
				t.Errorf("schema %s has %v, the type encodes %v", name, got, want)
			}
		})
	}
}
