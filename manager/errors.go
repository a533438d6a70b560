package manager

import (
	"errors"
	"fmt"
	"net/http"
)

// Error is a user-facing failure of a control-plane operation. Its Code is
// stable and documented; Status is the HTTP status the admin API answers.
type Error struct {
	Status  int
	Code    string
	Message string
	Details any
}

func (e *Error) Error() string { return e.Message }

// Sentinel errors callers may branch on with errors.Is.
var (
	ErrNotFound = errors.New("not found")
	ErrConflict = errors.New("conflict")
)

// Is lets errors.Is(err, ErrNotFound) and errors.Is(err, ErrConflict) match.
func (e *Error) Is(target error) bool {
	switch target {
	case ErrNotFound:
		return e.Status == http.StatusNotFound
	case ErrConflict:
		return e.Status == http.StatusConflict
	}
	return false
}

func notFound(what, ref string) *Error {
	return &Error{Status: http.StatusNotFound, Code: "not_found", Message: fmt.Sprintf("%s %q not found", what, ref)}
}

func invalid(code, format string, args ...any) *Error {
	return &Error{Status: http.StatusUnprocessableEntity, Code: code, Message: fmt.Sprintf(format, args...)}
}

func conflict(code, msg string, details any) *Error {
	return &Error{Status: http.StatusConflict, Code: code, Message: msg, Details: details}
}
