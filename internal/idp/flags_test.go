package idp

import (
	"bytes"
	"strings"
	"testing"
	"time"

	"github.com/decagon/decagon/internal/cli"
)

// The flags of `decagon token` fill MintOptions: lists split on commas (and spaces for scopes),
// defaults a signed-in user's access token for an hour.
func TestMintOptionsFlags(t *testing.T) {
	for _, tc := range []struct {
		args                   []string
		user, typ, groups, scp string
		ttl                    time.Duration
	}{
		{nil, "dev", "access", "", "", time.Hour},
		{[]string{"--user", "alice", "--groups", "admin, ops", "--scope", "a b,c", "--type", "id", "--ttl", "5m"}, "alice", "id", "admin ops", "a b c", 5 * time.Minute},
	} {
		var out bytes.Buffer
		fs := cli.New("token", "", "", &out, &out)
		var o MintOptions
		finish := o.Flags(fs)
		if _, err := fs.Parse(tc.args); err != nil {
			t.Fatal(err)
		}
		finish()
		if o.User != tc.user || o.Type != tc.typ || strings.Join(o.Groups, " ") != tc.groups || strings.Join(o.Scopes, " ") != tc.scp || o.TTL != tc.ttl {
			t.Errorf("%q: %+v", tc.args, o)
		}
	}
}
