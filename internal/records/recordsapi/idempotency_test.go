package recordsapi

import (
	"net/http"
	"strings"
	"testing"
)

func TestIdempotencyKeyHeader(t *testing.T) {
	cases := []struct {
		vals []string
		ok   bool
	}{
		{nil, true},
		{[]string{"abc-123"}, true},
		{[]string{strings.Repeat("k", 255)}, true},
		{[]string{strings.Repeat("k", 256)}, false},
		{[]string{""}, false},
		{[]string{"has space"}, false},
		{[]string{"ünicode"}, false},
		{[]string{"a", "b"}, false},
	}
	for _, tc := range cases {
		r, _ := http.NewRequest("POST", "/test", nil)
		for _, v := range tc.vals {
			r.Header.Add("Idempotency-Key", v)
		}
		_, err := idempotencyKey(r)
		if (err == nil) != tc.ok {
			t.Errorf("%q: err=%v, want ok=%v", tc.vals, err, tc.ok)
		}
	}
}
