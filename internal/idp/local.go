package idp

import (
	"bytes"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
)

// LocalIssuer is the issuer of a local stack's tokens unless its data dir recorded another: the
// same whatever address the stack listens on, so that tokens minted before a restart on another
// --addr still verify — as a Cognito pool's issuer names the pool, not the address a client
// reached it at. It is an identifier, not where the keys are fetched: see HTTPClient.
const LocalIssuer = "http://localhost" + PathPrefix

// StableIssuer returns the issuer recorded in the data dir, recording LocalIssuer first when
// none is. A data dir from before LocalIssuer keeps the address-bound issuer it recorded, so its
// tokens keep working too.
func (p *Provider) StableIssuer() (string, error) {
	if issuer, err := p.Issuer(); err == nil {
		return issuer, nil
	}
	if err := p.SetIssuer(LocalIssuer); err != nil {
		return "", err
	}
	return LocalIssuer, nil
}

// HTTPClient returns a client that answers requests to issuer's host from the provider's own
// handler, in the process, and refuses every other host. Give it to the verifier
// (auth.Config.HTTPClient) of a stack whose issuer does not name where the stack listens: the
// JWKS then comes from the keys in the data dir, wherever the stack runs.
func (p *Provider) HTTPClient(issuer string) (*http.Client, error) {
	u, err := url.Parse(issuer)
	if err != nil || u.Host == "" {
		return nil, fmt.Errorf("idp: issuer %q: not an absolute URL", issuer)
	}
	return &http.Client{Transport: inProcess{host: u.Host, h: p.Handler()}}, nil
}

// inProcess is an http.RoundTripper serving one host with a handler.
type inProcess struct {
	host string
	h    http.Handler
}

func (t inProcess) RoundTrip(r *http.Request) (*http.Response, error) {
	if r.Body != nil {
		defer r.Body.Close()
	}
	if !strings.EqualFold(r.URL.Host, t.host) {
		return nil, fmt.Errorf("idp: in-process client serves %s only, not %s", t.host, r.URL.Host)
	}
	w := &recorder{header: http.Header{}, status: http.StatusOK}
	t.h.ServeHTTP(w, r.Clone(r.Context()))
	return &http.Response{
		Status:        http.StatusText(w.status),
		StatusCode:    w.status,
		Proto:         "HTTP/1.1",
		ProtoMajor:    1,
		ProtoMinor:    1,
		Header:        w.header,
		Body:          io.NopCloser(&w.body),
		ContentLength: int64(w.body.Len()),
		Request:       r,
	}, nil
}

// recorder is the ResponseWriter inProcess hands the handler.
type recorder struct {
	header http.Header
	status int
	wrote  bool
	body   bytes.Buffer
}

func (w *recorder) Header() http.Header { return w.header }

func (w *recorder) WriteHeader(code int) {
	if !w.wrote {
		w.status, w.wrote = code, true
	}
}

func (w *recorder) Write(b []byte) (int, error) {
	w.wrote = true
	return w.body.Write(b)
}
