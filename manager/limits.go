package manager

import (
	"encoding/json"
	"errors"
	"net/http"

	"github.com/picloud/picloud/internal/limits"
)

// validateLimits checks a deploy's sandbox overrides against the node's
// ceilings: an unknown knob or a value above its ceiling is a 422 naming
// the field, the value asked and the ceiling.
func (m *Manager) validateLimits(raw json.RawMessage) ([]byte, error) {
	out, err := limits.Validate(raw, m.ceilings)
	var le *limits.Error
	if !errors.As(err, &le) {
		return out, err
	}
	e := &Error{Status: http.StatusUnprocessableEntity, Code: "invalid_limits", Message: le.Message,
		Details: map[string]any{"field": le.Field, "value": le.Value}}
	switch {
	case errors.Is(err, limits.ErrUnknown):
		e.Code = "unknown_limit"
		e.Details = map[string]any{"field": le.Field, "known": limits.Names()}
	case errors.Is(err, limits.ErrAboveCeiling):
		e.Code = "limit_above_ceiling"
		e.Details = map[string]any{"field": le.Field, "value": le.Value, "ceiling": le.Ceiling}
	}
	return nil, e
}
