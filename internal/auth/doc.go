// Package auth checks Amazon Cognito user pool tokens the way API Gateway's Cognito authorizer
// does, and turns the verdict into an HTTP response.
//
// A [Verifier] accepts compact RS256 (or another asymmetric algorithm) JWS tokens signed by a key
// from the issuer's JWKS, {issuer}/.well-known/jwks.json. Keys never come from the token itself:
// the jku, jwk, x5u and x5c header parameters are ignored. The JWKS is fetched lazily and cached
// by kid; a token naming an unknown kid triggers at most one fetch per
// [Config.RefreshInterval], shared by all callers waiting for it, and a failed fetch keeps the
// keys already known. Verifying a token whose kid is cached does no network I/O.
//
// A [Requirement] says what a route wants, with API Gateway's rule: no scopes means an ID token
// (token_use "id", aud one of the client IDs); scopes mean an access token (token_use "access",
// client_id one of the client IDs) carrying at least one of them.
//
// Errors come in three classes, each a sentinel wrapped with the exact reason for the log:
//
//   - [ErrInvalidToken] (401): missing, malformed, forged, expired, wrong issuer, audience,
//     token_use or algorithm. [ErrMissingToken] is the one member of this class that carries no
//     error code in WWW-Authenticate (RFC 6750 §3.1).
//   - [ErrInsufficientScope] (403): a valid token without any of the required scopes.
//   - [ErrKeysUnavailable] (503): the token names a key we do not know and the JWKS could not
//     be fetched, so the token can be judged neither good nor bad. Cognito answers 401 only when
//     the token is bad; answering 401 here would make clients throw away good tokens during an
//     outage of the key endpoint, so we answer 503 with Retry-After instead.
//
// [ProblemFor] maps these to the RFC 9457 problem sent to the client, which names only a short
// reason; [Middleware] logs the detailed reason with the request ID.
package auth
