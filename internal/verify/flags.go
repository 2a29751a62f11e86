package verify

import (
	"os"

	"github.com/decagon/decagon/internal/cli"
)

// Flags registers the flags of `decagon verify` and returns the function that fills c from
// them after Parse: --url is required, the token defaults to $TOKEN and the lines go to the
// command's stdout.
func (c *Config) Flags(fs *cli.FlagSet) (finish func() error) {
	fs.StringVar(&c.URL, "url", "", "the stage's base URL: http://127.0.0.1:8080 or https://…/Test (required)")
	fs.StringVar(&c.Token, "token", "", "a user's token (default $TOKEN)")
	fs.StringVar(&c.OtherToken, "token-other", "", "another user's token: checks that records stay their owner's")
	fs.StringVar(&c.AdminToken, "admin-token", "", "a token of a member of the admin group: checks admin reads")
	bearer := fs.Bool("bearer", true, "send 'Authorization: Bearer TOKEN'; --bearer=false sends the bare token")
	return func() error {
		if c.URL == "" {
			return cli.Usagef("verify needs --url")
		}
		if c.Token == "" {
			// Read after parsing, so that --help never prints the token as a default.
			c.Token = os.Getenv("TOKEN")
		}
		c.Out, c.NoBearer = fs.Stdout(), !*bearer
		return nil
	}
}
