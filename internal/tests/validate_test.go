package tests

import (
	"encoding/json"
	"errors"
	"net/http"
	"strings"
	"testing"

	"github.com/decagon/decagon/internal/problem"
)

func TestValidateNew(t *testing.T) {
	str := func(s string) *string { return &s }
	cases := []struct {
		name     string
		in       newTest
		status   int
		wantData string
	}{
		{"minimal", newTest{Name: str("a")}, 0, ""},
		{"200 runes", newTest{Name: str(strings.Repeat("é", 200))}, 0, ""},
		{"201 runes", newTest{Name: str(strings.Repeat("é", 201))}, 400, ""},
		{"missing name", newTest{}, 400, ""},
		{"empty name", newTest{Name: str("")}, 400, ""},
		{"null data", newTest{Name: str("a"), Data: json.RawMessage("null")}, 0, ""},
		{"object compacted", newTest{Name: str("a"), Data: json.RawMessage(`{ "k" : [1, 2] }`)}, 0, `{"k":[1,2]}`},
		{"array data", newTest{Name: str("a"), Data: json.RawMessage(`[1]`)}, 400, ""},
		{"string data", newTest{Name: str("a"), Data: json.RawMessage(`"x"`)}, 400, ""},
		{"data at limit", newTest{Name: str("a"), Data: json.RawMessage(`{"k":"` + strings.Repeat("x", MaxDataBytes-8) + `"}`)}, 0, "*"},
		{"data over limit", newTest{Name: str("a"), Data: json.RawMessage(`{"k":"` + strings.Repeat("x", MaxDataBytes-7) + `"}`)}, 413, ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, data, err := validateNew(tc.in)
			if tc.status == 0 {
				if err != nil {
					t.Fatal(err)
				}
				if tc.wantData != "*" && string(data) != tc.wantData {
					t.Fatalf("data %q, want %q", data, tc.wantData)
				}
				return
			}
			var p *problem.Problem
			if !errors.As(err, &p) || p.Status != tc.status {
				t.Fatalf("got %v, want status %d", err, tc.status)
			}
		})
	}
}

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
