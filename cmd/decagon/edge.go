package main

import (
	"context"
	"io"
	"os"
	"runtime/debug"

	"github.com/decagon/decagon/internal/cli"
	"github.com/decagon/decagon/internal/devstack"
	"github.com/decagon/decagon/internal/telemetry"
)

func runEdge(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := cli.New("edge", "[flags]", "Runs the edge alone (stage, authorizer, throttling, load balancer, WAF) in front of targets given per service.", stdout, stderr)
	cfg := devstack.EdgeConfig{Version: version}
	finish := cfg.Flags(fs)
	logLevel := fs.String("log-level", "info", "debug, info, warn or error")
	unused, err := fs.ParseNoArgs(args)
	if err != nil {
		return err
	}
	logger, err := newLogger(stderr, *logLevel, unused)
	if err != nil {
		return err
	}
	if err := finish(logger); err != nil {
		return err
	}
	// The edge allocates per request and keeps little: a higher GC target trades a little
	// memory for throughput. GOGC in the environment still wins.
	if os.Getenv("GOGC") == "" {
		debug.SetGCPercent(400)
	}
	stopTelemetry, err := telemetry.Start(ctx, telemetry.Config{ServiceName: "decagon-edge", Version: version})
	if err != nil {
		return err
	}
	defer stopTelemetry()
	return devstack.ServeEdge(ctx, cfg)
}
