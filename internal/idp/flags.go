package idp

import (
	"strings"
	"time"

	"github.com/decagon/decagon/internal/cli"
)

// Flags registers the flags of `decagon token` that set o and returns the function that
// fills o's lists from them after Parse. Mint checks the values.
func (o *MintOptions) Flags(fs *cli.FlagSet) (finish func()) {
	fs.StringVar(&o.User, "user", "dev", "user name (cognito:username); the token's sub is derived from it")
	groups := fs.String("groups", "", "comma-separated groups (cognito:groups), e.g. admin")
	fs.StringVar(&o.Type, "type", "access", "token type: access (what the API wants) or id (refused by every scoped route, as API Gateway does)")
	scope := fs.String("scope", "", "space- or comma-separated scopes of an access token (default aws.cognito.signin.user.admin, a signed-in user's)")
	fs.DurationVar(&o.TTL, "ttl", time.Hour, "lifetime, 1m to 24h")
	fs.StringVar(&o.Issuer, "issuer", "", "issuer URL (default: the stack's, kept in --data-dir)")
	return func() {
		o.Groups = cli.List(*groups)
		o.Scopes = strings.Fields(strings.ReplaceAll(*scope, ",", " "))
	}
}
