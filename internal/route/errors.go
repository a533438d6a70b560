package route

import (
	"errors"
	"fmt"
)

// Sentinel errors callers branch on (the admin API maps them to statuses:
// ErrInvalidPattern and ErrReserved to 422, ErrConflict to 409).
var (
	// ErrInvalidPattern marks a path, host, method or domain that does not parse.
	ErrInvalidPattern = errors.New("invalid pattern")
	// ErrReserved marks a path under a prefix that every node serves itself.
	ErrReserved = errors.New("reserved path")
	// ErrConflict marks a route or claim that collides with an existing one.
	ErrConflict = errors.New("conflict")
)

// ParseError reports why a pattern was refused. Pos is the 0-based byte
// offset in Input where the problem was found. Errors.Is(err,
// ErrInvalidPattern) or errors.Is(err, ErrReserved) tells the two apart.
type ParseError struct {
	What  string // "path", "host", "method" or "domain"
	Input string
	Pos   int
	Msg   string
	Err   error // ErrInvalidPattern or ErrReserved
}

func (e *ParseError) Error() string {
	what := e.What
	if what == "" {
		what = "pattern"
	}
	return fmt.Sprintf("invalid %s %q: %s at position %d", what, e.Input, e.Msg, e.Pos)
}

// Unwrap returns ErrInvalidPattern or ErrReserved.
func (e *ParseError) Unwrap() error {
	if e.Err == nil {
		return ErrInvalidPattern
	}
	return e.Err
}

// ConflictError reports a route that collides with one already in a table.
type ConflictError struct {
	Existing Route
	New      Route
}

func (e *ConflictError) Error() string {
	return fmt.Sprintf("route %s conflicts with existing route %q (%s)",
		describe(e.New), e.Existing.ID, describe(e.Existing))
}

// Unwrap returns ErrConflict.
func (e *ConflictError) Unwrap() error { return ErrConflict }

// ClaimConflictError reports a domain claim whose shape collides with an
// existing claim.
type ClaimConflictError struct {
	Existing Claim
	New      Claim
}

func (e *ClaimConflictError) Error() string {
	return fmt.Sprintf("domain %q collides with existing claim %q (%q, app %q)",
		e.New.Pattern, e.Existing.ID, e.Existing.Pattern, e.Existing.AppID)
}

// Unwrap returns ErrConflict.
func (e *ClaimConflictError) Unwrap() error { return ErrConflict }

func describe(r Route) string {
	m := r.Method
	if m == "" {
		m = "*"
	}
	h := r.Host
	if h == "" {
		h = "*"
	}
	return m + " " + h + " " + r.Path
}
