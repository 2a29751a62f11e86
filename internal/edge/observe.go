package edge

import "time"

// Authorizer results, as Observation.Authorizer reports them.
const (
	AuthAllowed           = "allowed"
	AuthMissingToken      = "missing_token"
	AuthInvalidToken      = "invalid_token"
	AuthInsufficientScope = "insufficient_scope"
	AuthUnavailable       = "unavailable"
)

// Observation is what the edge knows about a request once its response is done: the access
// log line's facts, for metrics and the local dashboard (Config.Observe).
type Observation struct {
	Method string
	// Path is the request's path as sent; Resource the document path it matched
	// ("/test/{test_id}") or the mount prefix that served it, "" when none.
	Path, Resource string
	// Group is the target group the request was forwarded to, "" when it was not; Target the
	// address of the last target tried.
	Group, Target string
	// ClientIP is the client's address as the edge tells it (trusted proxies applied).
	ClientIP string
	// Status is the response status; 0 when the response was cut off.
	Status int
	// Latency runs from arrival to the end of the response; IntegrationLatency from
	// forwarding to the target's response headers, negative when no target was reached.
	Latency, IntegrationLatency time.Duration
	// Attempts is the number of targets tried (2 after a retry).
	Attempts int
	// Authorizer is one of the Auth* results, "" when the authorizer did not run.
	Authorizer string
	// Throttled is set when stage or method throttling refused the request.
	Throttled bool
}

// observe hands x's facts to the observer, in x: no allocation per request.
func (e *Edge) observe(x *exchange, method, path string, status int, latency time.Duration) {
	x.obs = Observation{
		Method: method, Path: path, Resource: x.resource, Group: x.group, Target: x.trace.Target,
		ClientIP: x.ip, Status: status, Latency: latency, IntegrationLatency: x.integLat,
		Attempts: x.trace.Attempts, Authorizer: x.authResult, Throttled: x.throttled,
	}
	e.observer(&x.obs)
}
