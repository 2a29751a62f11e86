package blob

import (
	"errors"
	"strings"
	"testing"
)

func TestValidKey(t *testing.T) {
	t.Parallel()
	cases := []struct {
		key string
		ok  bool
	}{
		{"uploads/3f9a0c/5b1e2d3c-0000-4000-8000-000000000000", true},
		{"a", true},
		{"A-Z_0.9=x", true},
		{strings.Repeat("a", MaxKeyLen), true},
		{strings.Repeat("a", MaxKeyLen+1), false},
		{"", false},
		{"/a", false},
		{"a/", false},
		{"a//b", false},
		{"..", false},
		{"a/../b", false},
		{".", false},
		{".git/config", false},
		{"a/.b", false},
		{"a b", false},
		{"a\x00b", false},
		{"a\nb", false},
		{"a\\b", false},
		{"é", false},
		{"a%2fb", false},
		{"a?b", false},
		{"a#b", false},
		{"obj.attrs", false},
		{"obj.tmp", false},
		{"dir.tmp/obj", false},
		{"a__0x2f__b", false},
		{"a_b", true},
	}
	for _, c := range cases {
		err := ValidKey(c.key)
		if c.ok != (err == nil) {
			t.Errorf("ValidKey(%q) = %v, want ok=%v", c.key, err, c.ok)
		}
		if err != nil && !errors.Is(err, ErrInvalidKey) {
			t.Errorf("ValidKey(%q) = %v, not ErrInvalidKey", c.key, err)
		}
	}
}

func TestCheckSignOptions(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name string
		o    SignOptions
		ok   bool
	}{
		{"GET defaults", SignOptions{Method: "GET"}, true},
		{"PUT defaults", SignOptions{Method: "PUT"}, true},
		{"PUT 5 GiB", SignOptions{Method: "PUT", ContentLength: MaxPutSize}, true},
		{"PUT over 5 GiB", SignOptions{Method: "PUT", ContentLength: MaxPutSize + 1}, false},
		{"PUT negative length", SignOptions{Method: "PUT", ContentLength: -1}, false},
		{"PUT with disposition", SignOptions{Method: "PUT", ContentDisposition: "attachment"}, false},
		{"GET with length", SignOptions{Method: "GET", ContentLength: 3}, false},
		{"DELETE", SignOptions{Method: "DELETE"}, false},
		{"lowercase get", SignOptions{Method: "get"}, false},
		{"expiry too short", SignOptions{Method: "GET", Expiry: 500 * 1e6}, false},
		{"expiry negative", SignOptions{Method: "GET", Expiry: -1}, false},
		{"expiry over 7 days", SignOptions{Method: "GET", Expiry: MaxExpiry + 1e9}, false},
		{"expiry 7 days", SignOptions{Method: "GET", Expiry: MaxExpiry}, true},
		{"bad content type", SignOptions{Method: "PUT", ContentType: "no slash"}, false},
		{"header injection in disposition", SignOptions{Method: "GET", ContentDisposition: "attachment\r\nSet-Cookie: x=y"}, false},
		{"header injection in type", SignOptions{Method: "GET", ContentType: "text/plain\nX: y"}, false},
	}
	for _, c := range cases {
		o, err := checkSignOptions(c.o)
		if c.ok != (err == nil) {
			t.Errorf("%s: checkSignOptions(%+v) = %v, want ok=%v", c.name, c.o, err, c.ok)
		}
		if err == nil && (o.Expiry == 0 || (o.Method == "PUT" && o.ContentType == "")) {
			t.Errorf("%s: defaults not applied: %+v", c.name, o)
		}
	}
}
