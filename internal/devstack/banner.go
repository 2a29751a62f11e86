package devstack

import (
	"fmt"
	"io"
	"time"

	"github.com/decagon/decagon/internal/idp"
)

// Banner mints a signed-in user's access token, valid 12 hours, and writes to w what
// `decagon dev` prints once the stack is up: at idle, the terminal shows it and nothing else.
// dataDir is the stack's, for the command that mints more tokens.
func (l *Local) Banner(w io.Writer, dataDir string) error {
	token, err := l.Mint(idp.MintOptions{User: "dev", TTL: 12 * time.Hour})
	if err != nil {
		return err
	}
	base := l.URL()
	_, err = fmt.Fprintf(w, banner, base, l.Backend, dataDir, token, base, base, base, base, base, base, dataDir)
	return err
}

const banner = `decagon dev is running at %s (database: %s, data: %s)

A token for user "dev", valid 12 hours:

  export TOKEN=%s

Try:

  curl -s -X POST %s/test -H "Authorization: Bearer $TOKEN" -H 'Content-Type: application/json' -d '{"name":"first"}'
  curl -s %s/test -H "Authorization: Bearer $TOKEN"
  curl -s %s/_dev/targets
  curl -s %s/_dev/services
  open %s/_dev/          (the live dashboard; %s/metrics for Prometheus)

More tokens: decagon token --data-dir %s --user alice [--groups admin]
`
