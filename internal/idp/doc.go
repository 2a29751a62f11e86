// Package idp is decagon's local identity provider: a Cognito-shaped token issuer for
// `decagon dev` and `decagon token`, so that the same verifier (package auth) checks local and
// real Cognito tokens alike.
//
// # State on disk
//
// Everything lives in {dataDir}/idp (directory mode 0700, files 0600):
//
//   - keys.json: a JWK set of two RSA-2048 private keys with kid, alg RS256 and use sig. The first
//     signs; the second is published as the "next" key, as Cognito publishes two.
//   - client.json: {"client_id": ..., "client_secret": ...}, the one app client (26 lowercase
//     alphanumeric characters, like Cognito's) and its secret for the client_credentials grant.
//   - issuer: the issuer URL ({baseURL}/_idp) of the running `decagon dev`, one line, written by
//     SetIssuer and read by other processes, so that `decagon token` mints tokens the running
//     stack accepts.
//
// keys.json and client.json are created on first use by writing a temporary file and hard-linking
// it into place, which fails when the file already exists: two processes starting on a fresh
// directory at once end up with one key set and one client, whichever linked first. Later Opens
// reuse them, so tokens survive restarts.
//
// # HTTP endpoints
//
// Handler serves, under PathPrefix (/_idp):
//
//   - GET  /_idp/.well-known/openid-configuration: the discovery document.
//   - GET  /_idp/.well-known/jwks.json: both public keys, never private material.
//   - POST /_idp/oauth2/token: the client_credentials grant, with client authentication by HTTP
//     Basic or form parameters, answering like Cognito's token endpoint.
//
// Anything else under the prefix is a 404 problem.
package idp
