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
	return id.String(), nil
}
