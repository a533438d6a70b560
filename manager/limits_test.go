package manager

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"strings"
	"testing"
)

func TestDeployLimits(t *testing.T) {
	ctx := context.Background()
	m := open(t)
	if _, err := m.CreateApp(ctx, "lim", "Lim"); err != nil {
		t.Fatal(err)
	}
	d, err := m.Deploy(ctx, DeployInput{App: "lim", Name: "s", Source: "v1", Limits: json.RawMessage(`{"cpu_time_ms": 2500, "log_lines": 50}`)})
	if err != nil {
		t.Fatal(err)
	}
	s, err := m.Script(ctx, d.ID)
	if err != nil {
		t.Fatal(err)
	}
	var got map[string]int64
	if err := json.Unmarshal(s.Limits, &got); err != nil || got["cpu_time_ms"] != 2500 || got["log_lines"] != 50 || len(got) != 2 {
		t.Fatalf("stored limits = %s (%v)", s.Limits, err)
	}
	// A deploy that leaves limits out keeps the current ones (as bindings);
	// an explicit {} clears them.
	d2, err := m.Deploy(ctx, DeployInput{App: "lim", Name: "s", Source: "v2"})
	if err != nil {
		t.Fatal(err)
	}
	if s, _ := m.Script(ctx, d2.ID); !jsonEqual(s.Limits, `{"cpu_time_ms": 2500, "log_lines": 50}`) {
		t.Fatalf("a deploy without limits changed them to %s", s.Limits)
	}
	d2, err = m.Deploy(ctx, DeployInput{App: "lim", Name: "s", Source: "v3", Limits: json.RawMessage(`{}`)})
	if err != nil {
		t.Fatal(err)
	}
	if s, _ := m.Script(ctx, d2.ID); string(s.Limits) != "{}" {
		t.Fatalf("a deploy with limits {} left %s", s.Limits)
	}
	if v, err := m.ScriptVersion(ctx, d.ID, 1); err != nil || !jsonEqual(v.Limits, `{"cpu_time_ms": 2500, "log_lines": 50}`) {
		t.Fatalf("version 1 limits = %+v, %v", v, err)
	}

	cases := []struct {
		name, raw, code string
		details         map[string]any
	}{
		{"unknown", `{"cpu": 1}`, "unknown_limit", map[string]any{"field": "cpu"}},
		{"above ceiling", `{"memory_bytes": 1073741824}`, "limit_above_ceiling",
			map[string]any{"field": "memory_bytes", "value": int64(1 << 30), "ceiling": int64(256 << 20)}},
		{"not a number", `{"log_lines": "x"}`, "invalid_limits", map[string]any{"field": "log_lines"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := m.Deploy(ctx, DeployInput{App: "lim", Name: "s", Source: "v4", Limits: json.RawMessage(tc.raw)})
			var e *Error
			if !errors.As(err, &e) || e.Status != http.StatusUnprocessableEntity || e.Code != tc.code {
				t.Fatalf("err = %v, want 422 %s", err, tc.code)
			}
			det := e.Details.(map[string]any)
			for k, v := range tc.details {
				if det[k] != v {
					t.Errorf("details[%s] = %v, want %v", k, det[k], v)
				}
			}
			if tc.code == "limit_above_ceiling" && !strings.Contains(e.Message, "1073741824") {
				t.Errorf("message %q lacks the value asked", e.Message)
			}
		})
	}
	if s, _ := m.Script(ctx, d.ID); s.Version != 3 {
		t.Fatalf("a refused deploy changed the version to %d", s.Version)
	}
}

// jsonEqual compares a JSON document with want, ignoring layout.
func jsonEqual(got json.RawMessage, want string) bool {
	var a, b any
	if json.Unmarshal(got, &a) != nil || json.Unmarshal([]byte(want), &b) != nil {
		return false
	}
	ja, _ := json.Marshal(a)
	jb, _ := json.Marshal(b)
	return string(ja) == string(jb)
}
