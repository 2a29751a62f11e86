package blobtest

import (
	"crypto/subtle"
	"fmt"
	"net/http"
	"net/textproto"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
)

// presignVerifier checks SigV4 presigned URLs (query-string authentication) the way S3 does
// before passing the request on: the signature must match one recomputed with the server's
// credentials over the method, path, query and the signed headers as received, and the URL
// must not have expired. gofakes3 checks neither. Requests authenticated by headers (the SDK's
// own calls) pass unchecked; anonymous ones are refused, as by a private bucket.
//
// The recomputation uses the SDK's own signer; what it proves is that a presigned URL binds
// what we say it binds (method, key, expiry, content type, length, If-None-Match), not that the
// SDK implements SigV4 correctly — real S3 is the judge of that.
type presignVerifier struct {
	next   http.Handler
	creds  aws.Credentials
	region string
	now    func() time.Time
}

func (v *presignVerifier) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	code, msg := "", ""
	switch {
	case r.URL.Query().Has("X-Amz-Signature") || r.URL.Query().Has("X-Amz-Credential"):
		code, msg = v.verify(r)
	case r.Header.Get("Authorization") == "":
		code, msg = "AccessDenied", "Anonymous access is forbidden"
	}
	if code != "" {
		w.Header().Set("Content-Type", "application/xml")
		w.WriteHeader(http.StatusForbidden)
		fmt.Fprintf(w, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Error><Code>%s</Code><Message>%s</Message></Error>", code, msg)
		return
	}
	v.next.ServeHTTP(w, r)
}

// verify returns an S3 error code and message, or "" when the request is authentic.
func (v *presignVerifier) verify(r *http.Request) (string, string) {
	q := r.URL.Query()
	if q.Get("X-Amz-Algorithm") != "AWS4-HMAC-SHA256" {
		return "AuthorizationQueryParametersError", "unsupported algorithm"
	}
	if !strings.HasPrefix(q.Get("X-Amz-Credential"), v.creds.AccessKeyID+"/") {
		return "InvalidAccessKeyId", "unknown access key"
	}
	signedAt, err := time.Parse("20060102T150405Z", q.Get("X-Amz-Date"))
	if err != nil {
		return "AuthorizationQueryParametersError", "bad X-Amz-Date"
	}
	secs, err := strconv.Atoi(q.Get("X-Amz-Expires"))
	if err != nil || secs < 1 || secs > 604800 {
		return "AuthorizationQueryParametersError", "bad X-Amz-Expires"
	}
	if !v.now().Before(signedAt.Add(time.Duration(secs) * time.Second)) {
		return "AccessDenied", "Request has expired"
	}
	want := q.Get("X-Amz-Signature")
	credential := q.Get("X-Amz-Credential")
	signedHeaders := q.Get("X-Amz-SignedHeaders")
	for _, k := range []string{"X-Amz-Algorithm", "X-Amz-Credential", "X-Amz-Date", "X-Amz-SignedHeaders", "X-Amz-Signature"} {
		q.Del(k)
	}
	u := url.URL{Scheme: "http", Host: r.Host, Path: r.URL.Path, RawPath: r.URL.RawPath, RawQuery: q.Encode()}
	req, err := http.NewRequestWithContext(r.Context(), r.Method, u.String(), nil)
	if err != nil {
		return "AuthorizationQueryParametersError", err.Error()
	}
	for h := range strings.SplitSeq(signedHeaders, ";") {
		switch h {
		case "host":
		case "content-length":
			req.ContentLength = r.ContentLength
		default:
			req.Header[textproto.CanonicalMIMEHeaderKey(h)] = r.Header.Values(h)
		}
	}
	signed, _, err := v4.NewSigner().PresignHTTP(r.Context(), v.creds, req, "UNSIGNED-PAYLOAD", "s3", v.region, signedAt,
		func(o *v4.SignerOptions) { o.DisableURIPathEscaping = true })
	if err != nil {
		return "SignatureDoesNotMatch", err.Error()
	}
	su, err := url.Parse(signed)
	if err != nil {
		return "SignatureDoesNotMatch", err.Error()
	}
	got := su.Query()
	if got.Get("X-Amz-SignedHeaders") != signedHeaders || got.Get("X-Amz-Credential") != credential ||
		subtle.ConstantTimeCompare([]byte(got.Get("X-Amz-Signature")), []byte(want)) != 1 {
		return "SignatureDoesNotMatch", "The request signature we calculated does not match the signature you provided."
	}
	return "", ""
}
