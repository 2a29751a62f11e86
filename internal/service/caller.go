package service

import (
	"fmt"
	"net/http"

	"github.com/decagon/decagon/internal/auth"
)

// AdminGroup is the token group whose members see every owner's records.
const AdminGroup = "admin"

// Caller is who is asking, from the verified token.
type Caller struct {
	Subject string
	Admin   bool
}

// Scope is the owner filter for the caller: "" (every owner) for admins.
func (c Caller) Scope() string {
	if c.Admin {
		return ""
	}
	return c.Subject
}

// CallerOf returns the caller of an authenticated request.
func CallerOf(r *http.Request) (Caller, error) {
	claims, ok := auth.ClaimsFrom(r.Context())
	if !ok || claims.Subject == "" {
		// New wraps every non-public route in the authenticator; reaching here without claims
		// is a wiring bug, not the client's fault.
		return Caller{}, fmt.Errorf("no verified claims on %s %s", r.Method, r.URL.Path)
	}
	return Caller{Subject: claims.Subject, Admin: claims.InGroup(AdminGroup)}, nil
}
