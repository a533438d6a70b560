package limits

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"
)

func TestValidate(t *testing.T) {
	cases := []struct {
		name    string
		raw     string
		kind    error
		field   string
		want    string
		inError []string
	}{
		{name: "empty", raw: "", want: "{}"},
		{name: "null", raw: "null", want: "{}"},
		{name: "one knob", raw: `{"cpu_time_ms": 2000}`, want: `{"cpu_time_ms":2000}`},
		{name: "at ceiling", raw: `{"memory_bytes": 268435456}`, want: `{"memory_bytes":268435456}`},
		{name: "unknown key", raw: `{"cpu_ms": 1}`, kind: ErrUnknown, field: "cpu_ms", inError: []string{"cpu_ms", "cpu_time_ms"}},
		{name: "above ceiling", raw: `{"wall_time_ms": 300001}`, kind: ErrAboveCeiling, field: "wall_time_ms", inError: []string{"wall_time_ms", "300001", "300000"}},
		{name: "zero", raw: `{"log_lines": 0}`, kind: ErrInvalid, field: "log_lines"},
		{name: "negative", raw: `{"log_lines": -5}`, kind: ErrInvalid, field: "log_lines"},
		{name: "fraction", raw: `{"log_lines": 1.5}`, kind: ErrInvalid, field: "log_lines"},
		{name: "string", raw: `{"log_lines": "10"}`, kind: ErrInvalid, field: "log_lines"},
		{name: "not an object", raw: `[1]`, kind: ErrInvalid},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got, err := Validate(json.RawMessage(tc.raw), Ceilings)
			if tc.kind == nil {
				if err != nil || string(got) != tc.want {
					t.Fatalf("Validate = %s, %v; want %s", got, err, tc.want)
				}
				return
			}
			var e *Error
			if !errors.Is(err, tc.kind) || !errors.As(err, &e) || e.Field != tc.field {
				t.Fatalf("Validate err = %#v, want kind %v field %q", err, tc.kind, tc.field)
			}
			for _, s := range tc.inError {
				if !strings.Contains(e.Message, s) {
					t.Errorf("message %q lacks %q", e.Message, s)
				}
			}
		})
	}
}

func TestResolveClampsToCeilings(t *testing.T) {
	c := Ceilings
	c.CPUTimeMS = 500
	l, err := Resolve(Defaults, json.RawMessage(`{"cpu_time_ms": 20000, "log_lines": 7}`), c)
	if err != nil {
		t.Fatal(err)
	}
	if l.CPUTimeMS != 500 || l.LogLines != 7 || l.WallTimeMS != Defaults.WallTimeMS {
		t.Fatalf("Resolve = %+v", l)
	}
}

func TestParseCeilings(t *testing.T) {
	c, err := ParseCeilings(`{"memory_bytes": 1073741824}`)
	if err != nil || c.MemoryBytes != 1<<30 || c.CPUTimeMS != Ceilings.CPUTimeMS {
		t.Fatalf("ParseCeilings = %+v, %v", c, err)
	}
	if _, err := ParseCeilings(`{"nope": 1}`); err == nil {
		t.Fatal("unknown ceiling accepted")
	}
}

func FuzzValidate(f *testing.F) {
	f.Add(`{"cpu_time_ms": 10}`)
	f.Add(`{"x": 1}`)
	f.Add(`null`)
	f.Fuzz(func(t *testing.T, raw string) {
		out, err := Validate(json.RawMessage(raw), Ceilings)
		if err != nil {
			return
		}
		// Whatever is accepted must resolve within ceilings.
		l, err := Resolve(Defaults, out, Ceilings)
		if err != nil {
			t.Fatalf("accepted %q but Resolve failed: %v", raw, err)
		}
		lf, cf := l.fields(), Ceilings.fields()
		for i := range lf {
			if *lf[i].v > *cf[i].v || *lf[i].v <= 0 {
				t.Fatalf("%s = %d out of range", lf[i].name, *lf[i].v)
			}
		}
	})
}
