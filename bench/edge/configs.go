package main

import (
	"fmt"
	"strings"
)

// benchTopology is decagon.yaml for the run: one service and the edge's local health checks.
// The stage throttling is replaced on the command line (--stage-rate-limit): decagon.yaml
// accepts at most API Gateway's default account limit of 10,000 requests/s.
const benchTopology = `
stage:
  name: Test
  throttling: {rateLimit: 10000, burstLimit: 5000}
services:
  - name: tests
    pathRules: [{priority: 10, paths: ["/test", "/test/*"]}]
    desiredCount: 2
`

// backendConf is the fixed small-JSON backend: nginx, one worker, answering every path with
// the same body, and the JWKS under /pool for the edge's issuer.
func backendConf(dir string, port int) string {
	return strings.NewReplacer("@DIR@", dir, "@PORT@", fmt.Sprint(port), "@BODY@", body).Replace(`
worker_processes 1;
pid @DIR@/nginx-backend/nginx.pid;
error_log @DIR@/nginx-backend/error.log warn;
events { worker_connections 4096; }
http {
    access_log off;
    client_body_temp_path @DIR@/nginx-backend/body;
    proxy_temp_path @DIR@/nginx-backend/proxy;
    fastcgi_temp_path @DIR@/nginx-backend/fastcgi;
    uwsgi_temp_path @DIR@/nginx-backend/uwsgi;
    scgi_temp_path @DIR@/nginx-backend/scgi;
    keepalive_requests 1000000;
    server {
        listen 127.0.0.1:@PORT@ backlog=4096;
        location /pool/ { root @DIR@/www; default_type application/json; }
        location / { default_type application/json; return 200 '@BODY@'; }
    }
}
`)
}

// proxyNginxConf is nginx as a plain reverse proxy with a keep-alive pool to the backend.
func proxyNginxConf(dir string, port int, backend string) string {
	return strings.NewReplacer("@DIR@", dir, "@PORT@", fmt.Sprint(port), "@BACKEND@", backend).Replace(`
worker_processes auto;
pid @DIR@/nginx-proxy/nginx.pid;
error_log @DIR@/nginx-proxy/error.log warn;
events { worker_connections 4096; }
http {
    access_log off;
    client_body_temp_path @DIR@/nginx-proxy/body;
    proxy_temp_path @DIR@/nginx-proxy/proxy;
    fastcgi_temp_path @DIR@/nginx-proxy/fastcgi;
    uwsgi_temp_path @DIR@/nginx-proxy/uwsgi;
    scgi_temp_path @DIR@/nginx-proxy/scgi;
    keepalive_requests 1000000;
    upstream backend { server @BACKEND@; keepalive 256; }
    server {
        listen 127.0.0.1:@PORT@ backlog=4096;
        location / {
            proxy_pass http://backend;
            proxy_http_version 1.1;
            proxy_set_header Connection "";
            proxy_set_header X-Forwarded-For $remote_addr;
        }
    }
}
`)
}

// haproxyConf is HAProxy as a reverse proxy, with extra http-request rules in the frontend.
func haproxyConf(port int, backend, rules string) string {
	return fmt.Sprintf(`
global
    maxconn 8000
    tune.bufsize 16384

defaults
    mode http
    timeout connect 5s
    timeout client 30s
    timeout server 30s
    timeout http-keep-alive 30s
    option http-keep-alive
    option forwardfor

frontend fe
    bind 127.0.0.1:%d
%s
    default_backend be

backend be
    http-reuse always
    server s1 %s
`, port, rules, backend)
}

// jwtRules verify the token as the edge's authorizer does: RS256 signature against the public
// key, exp in the future, iss and aud exact, token_use id.
func jwtRules(pubPEM, issuer string) string {
	return strings.NewReplacer("@PEM@", pubPEM, "@ISS@", issuer, "@AUD@", clientID).Replace(`
    http-request set-var(txn.bearer) http_auth_bearer
    http-request set-var(txn.alg) var(txn.bearer),jwt_header_query('$.alg')
    http-request deny status 401 unless { var(txn.alg) -m str RS256 }
    http-request deny status 401 unless { var(txn.bearer),jwt_verify(txn.alg,"@PEM@") -m int 1 }
    http-request set-var(txn.exp) var(txn.bearer),jwt_payload_query('$.exp','int')
    http-request set-var(txn.now) date()
    http-request deny status 401 unless { var(txn.exp),sub(txn.now) -m int gt 0 }
    http-request deny status 401 unless { var(txn.bearer),jwt_payload_query('$.iss') -m str @ISS@ }
    http-request deny status 401 unless { var(txn.bearer),jwt_payload_query('$.aud') -m str @AUD@ }
    http-request deny status 401 unless { var(txn.bearer),jwt_payload_query('$.token_use') -m str id }`)
}
