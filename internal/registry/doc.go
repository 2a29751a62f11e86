// Package registry is the list of decagon's services and how each is built from its
// dependencies: the database, the object store, the token verifier and what measures them.
// `decagon serve NAME` builds one service; `decagon dev` builds one per replica.
//
// It is the one place that names the service packages' handlers and the stores' constructors
// (services.go); cmd/decagon names services only by the strings in Names. It may import the
// service packages, store, blob, auth, health, service, web, metrics and telemetry, and cli,
// dbsecret and idp for the flags of `decagon serve` (flags.go); only cmd/decagon and devstack
// import it.
package registry
