// Package faulttest is decagon's fault suite (issue 11): tests, run in CI like any other, that
// break what the services depend on while they serve and check what clients see and what is
// left behind —
//
//   - PostgreSQL restarting under load (a TCP proxy in front of it is cut for a second): no
//     acknowledged write lost, only 201 or 503, service back within 2 s of the database;
//   - the S3 endpoint down: 503 problems, nothing half-written, no upload left pending forever;
//   - the directory store's disk full (a 1 MiB tmpfs): 507 problems, no partial object.
//
// The tests poll with deadlines; none sleeps to wait for something to happen. The disk test
// needs to mount a tmpfs (root or CAP_SYS_ADMIN) and skips, saying why, where it cannot.
//
// It holds no code but this comment; its tests may import any internal package but the edge
// and the balancer (a hung replica is the edge's own suite's).
package faulttest
