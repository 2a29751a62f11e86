package devstack

import (
	"os"
	"os/exec"
	"strconv"
	"strings"

	"github.com/decagon/decagon/internal/ecs"
)

// taskCommand is how `decagon dev` starts a task: `decagon serve <service>` of the same binary
// on the task's loopback port, sharing the stack's data dir, database, object store and
// identity provider.
type taskCommand struct {
	exe         string
	dataDir     string
	databaseURL string
	blobURL     string
	issuer      string
	clientID    string
	publicURL   string // the edge's base URL, for the directory store's signed URLs
	maxUpload   int64
	maxPresign  int64 // decagon.yaml's cap on a presigned upload, as the infra passes it
	logLevel    string
	metrics     *taskMetrics // told of each task's /metrics address
}

func (c taskCommand) command(service, addr string) *exec.Cmd {
	args := []string{
		// The target group has drained a task by the time it gets SIGTERM: no drain of its own.
		"--drain", "0s",
		// The issuer is an identifier, not an address (idp.LocalIssuer): the keys come from
		// the data dir's files.
		"--auth-issuer", c.issuer, "--auth-client-id", c.clientID, "--auth-local-idp",
		"--data-dir", c.dataDir, "--public-url", c.publicURL,
	}
	if c.maxPresign > 0 {
		args = append(args, "--max-presigned-size", strconv.FormatInt(c.maxPresign, 10))
	}
	if c.maxUpload > 0 {
		args = append(args, "--max-upload", strconv.FormatInt(c.maxUpload, 10))
	}
	if c.logLevel != "" {
		args = append(args, "--log-level", c.logLevel)
	}
	if c.blobURL != "" {
		args = append(args, "--blob-url", c.blobURL)
	}
	if c.metrics != nil {
		if admin, err := ecs.FreeAddr(); err == nil { // never the port of another task
			args = append(args, "--admin-addr", admin)
			c.metrics.track(addr, admin)
		}
	}
	cmd := ecs.ServeCommand(c.exe, service, args...)(addr)
	cmd.Env = taskEnv(os.Environ(), c.databaseURL)
	return cmd
}

// taskEnv is a task's environment: the stack's, without its DECAGON_* variables (the task gets
// its settings as flags, and would warn of every variable `decagon serve` does not read), plus
// the database URL, which stays out of the command line (ps shows that to every user) since it
// may hold a password.
func taskEnv(env []string, databaseURL string) []string {
	out := make([]string, 0, len(env)+1)
	for _, kv := range env {
		if !strings.HasPrefix(kv, "DECAGON_") {
			out = append(out, kv)
		}
	}
	return append(out, "DECAGON_DATABASE_URL="+databaseURL)
}
