package web

import (
	"net/http"

	"github.com/google/uuid"

	"github.com/decagon/decagon/internal/problem"
)

// PathUUID returns the named path value as a canonical UUID, or a 400 problem naming it.
func PathUUID(r *http.Request, name string) (string, error) {
	raw := r.PathValue(name)
	id, err := uuid.Parse(raw)
	if err != nil || len(raw) != 36 {
		return "", problem.Newf(http.StatusBadRequest, "%s must be a UUID", name)
	}
	for i := 0; i < len(raw); i++ {
		if 'A' <= raw[i] && raw[i] <= 'Z' {
			return id.String(), nil // the canonical form is lower-case
		}
	}
	return raw, nil // already canonical, without a copy
}
