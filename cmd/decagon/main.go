// Command decagon runs decagon's services, its local stack and its tools. main only wires: each
// command makes its flag set, on which the Config of the package it runs registers its flags
// (Config.Flags), parses, lets the Config fill itself, then starts and stops the package.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"syscall"

	"github.com/decagon/decagon/internal/cli"
	"github.com/decagon/decagon/internal/telemetry"
)

const usage = `decagon — a secure REST API on AWS, and the same API on your laptop.

usage: decagon <command> [flags] [arguments]

commands:
  dev       run the local stack: edge (WAF, stage, authorizer, load balancer), identity provider,
            and every service of decagon.yaml as local ECS tasks (child processes)
  edge      run the edge alone in front of given targets
  serve     run one service as its container does: decagon serve tests|uploads
  migrate   apply the embedded database schema to --database-url
  token     mint a token the running local stack accepts
  verify    run the API contract against a stage: the local stack or the deployed invoke URL
  version   print the version

Run 'decagon <command> --help' for a command's flags and environment variables.
`

func main() {
	if err := realMain(context.Background()); err != nil {
		os.Exit(cli.ExitCode(err))
	}
}

// realMain turns SIGINT and SIGTERM into the cancellation of ctx and runs the command.
func realMain(ctx context.Context) error {
	ctx, stop := signal.NotifyContext(ctx, os.Interrupt, syscall.SIGTERM)
	defer stop()
	err := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	if err != nil && !errors.Is(err, flag.ErrHelp) {
		fmt.Fprintln(os.Stderr, "decagon:", err)
	}
	return err
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return cli.UsageError{Msg: "no command given"}
	}
	cmd, rest := args[0], args[1:]
	switch cmd {
	case "dev":
		return runDev(ctx, rest, stdout, stderr)
	case "edge":
		return runEdge(ctx, rest, stdout, stderr)
	case "serve":
		return runServe(ctx, rest, stdout, stderr)
	case "migrate":
		return runMigrate(ctx, rest, stdout, stderr)
	case "token":
		return runToken(rest, stdout, stderr)
	case "verify":
		return runVerify(ctx, rest, stdout, stderr)
	case "version", "--version", "-version":
		fmt.Fprintln(stdout, versionString())
		return nil
	case "help", "-h", "--help":
		fmt.Fprint(stdout, usage)
		return nil
	default:
		fmt.Fprint(stderr, usage)
		return cli.Usagef("unknown command %q", cmd)
	}
}

// newLogger returns the JSON logger every long-running command uses, after warning of the
// DECAGON_* variables set that the command does not read.
func newLogger(w io.Writer, level string, unusedEnv []string) (*slog.Logger, error) {
	var l slog.Level
	if err := l.UnmarshalText([]byte(level)); err != nil {
		return nil, cli.Usagef("--log-level: %v", err)
	}
	// Lines logged with a request's context carry its trace ID.
	logger := slog.New(telemetry.LogHandler(slog.NewJSONHandler(w, &slog.HandlerOptions{Level: l})))
	for _, name := range unusedEnv {
		logger.Warn("environment variable set but not read by this command", "variable", name)
	}
	return logger, nil
}

// warnUnused is newLogger's warning for the short commands, which print plain text.
func warnUnused(w io.Writer, cmd string, unusedEnv []string) {
	for _, name := range unusedEnv {
		fmt.Fprintf(w, "decagon %s: warning: %s is set but %s does not read it\n", cmd, name, cmd)
	}
}
