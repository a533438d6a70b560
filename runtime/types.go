package runtime

import (
	"encoding/json"
	"fmt"
	"net/http"
	"time"

	"github.com/picloud/picloud/internal/limits"
)

// Script is one deployed version of a script, as the runtime needs it.
type Script struct {
	ID      string
	AppID   string
	Name    string
	Version int
	// Hash identifies Code; compiled programs are cached by it.
	Hash string
	// Code is the output of Transform: what goja runs.
	Code     string
	Bindings json.RawMessage
	// Limits are the script's resolved limits (overrides applied and
	// clamped to the node's ceilings); zero fields take the engine's
	// defaults.
	Limits limits.Limits
}

// ExecRequest is one invocation of a script's fetch handler.
type ExecRequest struct {
	Script      Script
	Method      string
	URL         string // absolute URL as the client asked for it
	Header      http.Header
	Body        []byte
	Params      map[string]string
	RequestID   string
	ExecutionID string
}

// Outcome classifies how an execution ended.
type Outcome string

// Outcomes recorded with every execution.
const (
	OutcomeSuccess Outcome = "success"
	OutcomeError   Outcome = "error"
	OutcomeTimeout Outcome = "timeout"
	OutcomeLimit   Outcome = "limit"
)

// LogLine is one console call made by a script.
type LogLine struct {
	Time    time.Time `json:"time"`
	Level   string    `json:"level"`
	Message string    `json:"message"`
}

// ExecResult describes a finished execution.
type ExecResult struct {
	Outcome  Outcome
	Status   int
	Duration time.Duration
	Logs     []LogLine
	// Wrote is true once the response status line went to the client;
	// after that an error can no longer become an error response.
	Wrote bool
}

// SyntaxError locates a compile error in uploaded source. Line is 1-based,
// Column 1-based.
type SyntaxError struct {
	Line    int
	Column  int
	Message string
}

func (e *SyntaxError) Error() string {
	return fmt.Sprintf("%d:%d: %s", e.Line, e.Column, e.Message)
}
