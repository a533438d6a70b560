// Package limits defines the sandbox knobs of one script execution: their
// defaults, the node's ceilings, and the validation of per-script
// overrides. It is pure data and may be imported by any package; the
// manager validates overrides with it and the runtime enforces them.
package limits

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"strings"
	"time"
)

// Limits bound one execution. Every field is a positive number; JSON keys
// are the names clients use in overrides and ceilings.
type Limits struct {
	// WallTimeMS bounds the whole execution, awaits included.
	WallTimeMS int64 `json:"wall_time_ms"`
	// CPUTimeMS bounds the time spent running synchronous JS, summed over
	// the execution (goja Interrupt).
	CPUTimeMS int64 `json:"cpu_time_ms"`
	// CallDepth bounds the JS call stack.
	CallDepth int64 `json:"call_depth"`
	// RequestBodyBytes bounds the request body handed to the script.
	RequestBodyBytes int64 `json:"request_body_bytes"`
	// ResponseBodyBytes bounds the response body the script returns.
	ResponseBodyBytes int64 `json:"response_body_bytes"`
	// Subrequests bounds outgoing fetch calls per execution.
	Subrequests int64 `json:"subrequests"`
	// LogLines bounds console lines kept per execution.
	LogLines int64 `json:"log_lines"`
	// MemoryBytes bounds the heap growth attributed to one execution and
	// the size of any single allocation made from JS.
	MemoryBytes int64 `json:"memory_bytes"`
}

// Defaults apply when a script overrides nothing.
var Defaults = Limits{
	WallTimeMS:        30_000,
	CPUTimeMS:         1_000,
	CallDepth:         512,
	RequestBodyBytes:  10 << 20,
	ResponseBodyBytes: 16 << 20,
	Subrequests:       50,
	LogLines:          1_000,
	MemoryBytes:       64 << 20,
}

// Ceilings are the node's maxima for overrides unless the admin raises
// them (PICLOUD_LIMIT_CEILINGS).
var Ceilings = Limits{
	WallTimeMS:        300_000,
	CPUTimeMS:         30_000,
	CallDepth:         4_096,
	RequestBodyBytes:  100 << 20,
	ResponseBodyBytes: 100 << 20,
	Subrequests:       1_000,
	LogLines:          10_000,
	MemoryBytes:       256 << 20,
}

// WallTime is WallTimeMS as a duration.
func (l Limits) WallTime() time.Duration { return time.Duration(l.WallTimeMS) * time.Millisecond }

// CPUTime is CPUTimeMS as a duration.
func (l Limits) CPUTime() time.Duration { return time.Duration(l.CPUTimeMS) * time.Millisecond }

// fields lists the knobs by JSON name, in declaration order.
func (l *Limits) fields() []field {
	return []field{
		{"wall_time_ms", &l.WallTimeMS},
		{"cpu_time_ms", &l.CPUTimeMS},
		{"call_depth", &l.CallDepth},
		{"request_body_bytes", &l.RequestBodyBytes},
		{"response_body_bytes", &l.ResponseBodyBytes},
		{"subrequests", &l.Subrequests},
		{"log_lines", &l.LogLines},
		{"memory_bytes", &l.MemoryBytes},
	}
}

type field struct {
	name string
	v    *int64
}

// Names returns the JSON names of every knob.
func Names() []string {
	var l Limits
	var out []string
	for _, f := range l.fields() {
		out = append(out, f.name)
	}
	return out
}

// Sentinel errors of Validate; the concrete error is *Error.
var (
	ErrUnknown      = errors.New("unknown limit")
	ErrAboveCeiling = errors.New("limit above ceiling")
	ErrInvalid      = errors.New("invalid limit")
)

// Error describes a refused override.
type Error struct {
	Kind    error  // ErrUnknown, ErrAboveCeiling or ErrInvalid
	Field   string // JSON name
	Value   any    // the value asked
	Ceiling int64  // set for ErrAboveCeiling
	Message string
}

func (e *Error) Error() string { return e.Message }

// Unwrap lets errors.Is match the Kind.
func (e *Error) Unwrap() error { return e.Kind }

// Parse reads an override object. Unknown keys and values that are not
// positive integers are refused; an empty or null raw is no override.
func Parse(raw json.RawMessage) (map[string]int64, error) {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 || string(raw) == "null" {
		return nil, nil
	}
	var m map[string]json.RawMessage
	if err := json.Unmarshal(raw, &m); err != nil {
		return nil, &Error{Kind: ErrInvalid, Message: fmt.Sprintf("limits must be an object of {\"name\": number}: %v", err)}
	}
	known := map[string]bool{}
	for _, n := range Names() {
		known[n] = true
	}
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	out := make(map[string]int64, len(m))
	for _, k := range keys {
		if !known[k] {
			return nil, &Error{Kind: ErrUnknown, Field: k, Message: fmt.Sprintf("unknown limit %q (known: %s)", k, strings.Join(Names(), ", "))}
		}
		var n json.Number
		dec := json.NewDecoder(bytes.NewReader(m[k]))
		dec.UseNumber()
		if err := dec.Decode(&n); err != nil || bytes.HasPrefix(bytes.TrimSpace(m[k]), []byte(`"`)) {
			return nil, &Error{Kind: ErrInvalid, Field: k, Value: string(m[k]), Message: fmt.Sprintf("limit %s must be a positive integer, got %s", k, m[k])}
		}
		v, err := n.Int64()
		if err != nil || v <= 0 {
			return nil, &Error{Kind: ErrInvalid, Field: k, Value: string(n), Message: fmt.Sprintf("limit %s must be a positive integer, got %s", k, n)}
		}
		out[k] = v
	}
	return out, nil
}

// Validate checks an override object against ceilings and returns it in
// canonical form (an object with only the keys given).
func Validate(raw json.RawMessage, ceilings Limits) (json.RawMessage, error) {
	m, err := Parse(raw)
	if err != nil {
		return nil, err
	}
	for _, f := range ceilings.fields() {
		if v, ok := m[f.name]; ok && v > *f.v {
			return nil, &Error{Kind: ErrAboveCeiling, Field: f.name, Value: v, Ceiling: *f.v,
				Message: fmt.Sprintf("limit %s = %d is above the ceiling %d", f.name, v, *f.v)}
		}
	}
	if m == nil {
		m = map[string]int64{}
	}
	out, err := json.Marshal(m)
	return out, err
}

// Resolve applies overrides over base, clamping every value to ceilings:
// a stored override above a ceiling lowered since is clamped, not refused.
func Resolve(base Limits, raw json.RawMessage, ceilings Limits) (Limits, error) {
	m, err := Parse(raw)
	if err != nil {
		return base, err
	}
	out := base
	cf := ceilings.fields()
	for i, f := range out.fields() {
		if v, ok := m[f.name]; ok {
			*f.v = v
		}
		if c := *cf[i].v; c > 0 && *f.v > c {
			*f.v = c
		}
	}
	return out, nil
}

// ParseCeilings reads PICLOUD_LIMIT_CEILINGS: a JSON object of knob names
// to maxima, applied over the built-in Ceilings. Empty means the built-ins.
func ParseCeilings(s string) (Limits, error) {
	c := Ceilings
	if strings.TrimSpace(s) == "" {
		return c, nil
	}
	m, err := Parse(json.RawMessage(s))
	if err != nil {
		return c, fmt.Errorf("PICLOUD_LIMIT_CEILINGS: %w", err)
	}
	for _, f := range c.fields() {
		if v, ok := m[f.name]; ok {
			*f.v = v
		}
	}
	return c, nil
}
