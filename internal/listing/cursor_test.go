package listing

import (
	"encoding/base64"
	"testing"
	"time"
)

func TestCursorRoundTrip(t *testing.T) {
	cases := []Position{
		{CreatedAt: time.Date(2026, 11, 25, 12, 0, 0, 123456000, time.UTC), ID: "019abcde-0000-7000-8000-000000000001"},
		{CreatedAt: time.Unix(0, 0).UTC(), ID: "00000000-0000-0000-0000-000000000000"},
	}
	for _, p := range cases {
		got, err := Decode(Encode(p))
		if err != nil {
			t.Fatal(err)
		}
		if !got.CreatedAt.Equal(p.CreatedAt) || got.ID != p.ID {
			t.Fatalf("got %+v, want %+v", got, p)
		}
	}
}

func TestDecodeRejects(t *testing.T) {
	enc := func(s string) string { return base64.RawURLEncoding.EncodeToString([]byte(s)) }
	for _, c := range []string{
		"", "!!!", enc("v2.1.019abcde-0000-7000-8000-000000000001"),
		enc("v1.x.019abcde-0000-7000-8000-000000000001"),
		enc("v1.-5.019abcde-0000-7000-8000-000000000001"),
		enc("v1.1.not-a-uuid"),
		enc("v1.1.019ABCDE-0000-7000-8000-000000000001"), // not canonical
		enc("v1.1.019abcde-0000-7000-8000-000000000001.extra"),
		enc("v1.99999999999999999999.019abcde-0000-7000-8000-000000000001"),
		base64.StdEncoding.EncodeToString([]byte("v1.1.019abcde-0000-7000-8000-000000000001")), // padded
	} {
		if _, err := Decode(c); err == nil {
			t.Errorf("Decode(%q) accepted", c)
		}
	}
}

// FuzzDecode: a cursor either decodes to a position that re-encodes to itself, or fails.
func FuzzDecode(f *testing.F) {
	f.Add(Encode(Position{CreatedAt: time.Unix(1764072000, 5000).UTC(), ID: "019abcde-0000-7000-8000-000000000001"}))
	f.Add("djEuMS4w")
	f.Add("")
	f.Fuzz(func(t *testing.T, s string) {
		p, err := Decode(s)
		if err != nil {
			return
		}
		if again := Encode(p); again != s {
			t.Fatalf("cursor %q decodes to %+v which encodes to %q", s, p, again)
		}
	})
}
