package records

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/decagon/decagon"
)

func TestValidateNew(t *testing.T) {
	str := func(s string) *string { return &s }
	cases := []struct {
		name     string
		in       New
		code     decagon.Code
		wantData string
	}{
		{"minimal", New{Name: str("a")}, "", ""},
		{"200 runes", New{Name: str(strings.Repeat("é", 200))}, "", ""},
		{"201 runes", New{Name: str(strings.Repeat("é", 201))}, decagon.EInvalid, ""},
		{"missing name", New{}, decagon.EInvalid, ""},
		{"empty name", New{Name: str("")}, decagon.EInvalid, ""},
		{"null data", New{Name: str("a"), Data: json.RawMessage("null")}, "", ""},
		{"object compacted", New{Name: str("a"), Data: json.RawMessage(`{ "k" : [1, 2] }`)}, "", `{"k":[1,2]}`},
		{"array data", New{Name: str("a"), Data: json.RawMessage(`[1]`)}, decagon.EInvalid, ""},
		{"string data", New{Name: str("a"), Data: json.RawMessage(`"x"`)}, decagon.EInvalid, ""},
		{"data at limit", New{Name: str("a"), Data: json.RawMessage(`{"k":"` + strings.Repeat("x", MaxDataBytes-8) + `"}`)}, "", "*"},
		{"invalid UTF-8 name", New{Name: str("a\xffb")}, decagon.EInvalid, ""},
		{"invalid UTF-8 data value", New{Name: str("a"), Data: json.RawMessage("{\"k\":\"a\xff\xfeb\"}")}, decagon.EInvalid, ""},
		{"invalid UTF-8 data key", New{Name: str("a"), Data: json.RawMessage("{\"\xff\":1}")}, decagon.EInvalid, ""},
		{"data over limit", New{Name: str("a"), Data: json.RawMessage(`{"k":"` + strings.Repeat("x", MaxDataBytes-7) + `"}`)}, decagon.ETooLarge, ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, data, err := Validate(tc.in)
			if tc.code == "" {
				if err != nil {
					t.Fatal(err)
				}
				if tc.wantData != "*" && string(data) != tc.wantData {
					t.Fatalf("data %q, want %q", data, tc.wantData)
				}
				return
			}
			if got := decagon.ErrorCode(err); got != tc.code {
				t.Fatalf("got %v (code %q), want code %q", err, got, tc.code)
			}
		})
	}
}
