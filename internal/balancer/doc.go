// Package balancer is the local edge's load balancer: target groups whose targets are picked by
// least outstanding requests among the healthy ones, and active health checks with the
// semantics of an AWS Application Load Balancer.
//
// A target moves between states as an ALB target does:
//
//	initial   --HealthyThreshold successes-->    healthy
//	initial   --UnhealthyThreshold failures-->   unhealthy
//	healthy   --UnhealthyThreshold failures-->   unhealthy
//	unhealthy --HealthyThreshold successes-->    healthy
//	any       --Deregister-->                    draining --idle or delay passed--> removed
//
// Only healthy targets receive requests, unless none is healthy: then the group fails open as
// an ALB does and sends requests to the unhealthy targets that still accept connections (see
// [Group.Pick]). A check succeeds when the target answers the check
// path within the timeout with one of the success codes; the first check runs at registration,
// the next ones every interval.
//
// [Group.RoundTrip] forwards one request to a target: the caller puts the group's name in the
// request URL's host and the group replaces it with the picked target's address. A request
// that never reached its target (the connection was refused, or broke before one byte of the
// request was written) is sent once more to another target, whatever its method, when its body
// can be sent again; what was sent, even in part, never is.
//
// The package imports internal/topology, for the health check as decagon.yaml states it, and
// nothing else of decagon's: the edge builds on it, never the other way round.
package balancer
