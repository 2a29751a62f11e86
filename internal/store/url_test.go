package store

import (
	"path/filepath"
	"strings"
	"testing"
)

func TestURL(t *testing.T) {
	cases := []struct {
		name, raw, password, want, err string
	}{
		{"default is a file in the data dir", "", "", "sqlite:" + filepath.Join("d", "decagon.db"), ""},
		{"sqlite kept", "sqlite:x.db", "pw", "sqlite:x.db", ""},
		{"password merged", "postgres://app@db:5432/decagon", "s3cr/t", "postgres://app:s3cr%2Ft@db:5432/decagon", ""},
		{"postgresql scheme", "postgresql://app@db/decagon", "pw", "postgresql://app:pw@db/decagon", ""},
		{"URL password wins", "postgres://app:inurl@db/decagon", "pw", "postgres://app:inurl@db/decagon", ""},
		{"no password given", "postgres://app@db/decagon", "", "postgres://app@db/decagon", ""},
		{"password without user", "postgres://db/decagon", "pw", "", "names no user"},
		{"unparsable, not echoed", "postgres://app:secret@db:x/", "pw", "", "unparsable"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got, err := URL(tc.raw, tc.password, "d")
			if tc.err != "" {
				if err == nil || !strings.Contains(err.Error(), tc.err) || strings.Contains(err.Error(), "secret") {
					t.Fatalf("err %v, want one containing %q and no password", err, tc.err)
				}
				return
			}
			if err != nil || got != tc.want {
				t.Fatalf("URL = %q, %v; want %q", got, err, tc.want)
			}
		})
	}
}
