package main

import (
	"context"
	"io"
	"strings"

	"github.com/decagon/decagon/internal/cli"
	"github.com/decagon/decagon/internal/registry"
	"github.com/decagon/decagon/internal/telemetry"
)

func runServe(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := cli.New("serve", "[flags] "+strings.Join(registry.Names, "|"), "Runs one service as its Fargate task does.", stdout, stderr)
	cfg := registry.ServeConfig{Version: version}
	finish := cfg.Flags(fs)
	logLevel := fs.String("log-level", "info", "debug, info, warn or error")
	unused, err := fs.Parse(args)
	if err != nil {
		return err
	}
	if fs.NArg() != 1 || !registry.Known(fs.Arg(0)) {
		return cli.Usagef("serve wants one service name: %s", strings.Join(registry.Names, " or "))
	}
	cfg.Name = fs.Arg(0)
	logger, err := newLogger(stderr, *logLevel, unused)
	if err != nil {
		return err
	}
	if err := finish(ctx, logger.With("service", cfg.Name)); err != nil {
		return err
	}
	stopTelemetry, err := telemetry.Start(ctx, telemetry.Config{ServiceName: "decagon-" + cfg.Name, Version: version})
	if err != nil {
		return err
	}
	defer stopTelemetry()
	return registry.Serve(ctx, cfg)
}
