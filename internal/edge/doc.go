// Package edge is decagon's local API Gateway: the stage in front of the load balancer, built
// from the same files the infrastructure reads — api/openapi.yaml for the routes, the
// authorizer, the integrations' timeouts, request validation and the gateway responses, and
// decagon.yaml (internal/topology) for the stage name, throttling, path rules and health checks.
//
// A request passes, in order:
//
//	request ID        a well-formed client X-Request-Id is kept, another one is made
//	WAF               Config.WAF, when set (internal/waf)
//	mounts            Config.Mounts: local endpoints such as /_idp/, without authorizer
//	stage router      /{path} and /{stage}/{path}; 404 unknown path, 405 unknown method
//	payload limit     413 past Config.MaxBodyBytes (10 MB)
//	throttling        token bucket per stage, or per method where decagon.yaml overrides; 429
//	authorizer        Cognito rules per operation (ID token, or access token with a scope);
//	                  401 / 403; verified tokens are cached until their exp
//	validation        parameters, content type and JSON body against the document; 400 / 415
//	load balancer     path rules → target group → least outstanding healthy target, or
//	                  any unhealthy one that accepts connections when none is healthy
//	                  (internal/balancer: an ALB fails open); 502 / 503 / 504
//
// and leaves one JSON access log line with API Gateway's $context field names.
//
// Every refusal is an RFC 9457 problem whose body is the document's
// x-amazon-apigateway-gateway-responses template for its response type, so the local edge and
// the deployed API Gateway answer alike.
//
// The package may import api, internal/topology, internal/auth (the verifier), internal/balancer,
// internal/problem and internal/web; never a service package, and no service imports it.
package edge
