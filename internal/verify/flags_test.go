package verify

import (
	"bytes"
	"testing"

	"github.com/decagon/decagon/internal/cli"
)

// The flags of `decagon verify` fill Config: --url is required, the token comes from $TOKEN
// unless given, --bearer=false sends the bare token, and the lines go to the command's stdout.
func TestConfigFlags(t *testing.T) {
	t.Setenv("TOKEN", "from-env")
	for _, tc := range []struct {
		args              []string
		token             string
		noBearer, refused bool
	}{
		{[]string{"--url", "http://127.0.0.1:8080"}, "from-env", false, false},
		{[]string{"--url", "http://127.0.0.1:8080", "--token", "given", "--bearer=false"}, "given", true, false},
		{[]string{"--token", "given"}, "", false, true},
	} {
		var out bytes.Buffer
		fs := cli.New("verify", "", "", &out, &out)
		var c Config
		finish := c.Flags(fs)
		if _, err := fs.Parse(tc.args); err != nil {
			t.Fatal(err)
		}
		err := finish()
		if tc.refused {
			if cli.ExitCode(err) != 2 {
				t.Errorf("%q: %v, want a usage error", tc.args, err)
			}
			continue
		}
		if err != nil || c.Token != tc.token || c.NoBearer != tc.noBearer || c.Out != &out {
			t.Errorf("%q: %v, token %q, no bearer %v, out %v", tc.args, err, c.Token, c.NoBearer, c.Out)
		}
	}
}
