package main

import (
	"context"
	"io"

	"github.com/decagon/decagon/internal/cli"
	"github.com/decagon/decagon/internal/devstack"
	"github.com/decagon/decagon/internal/telemetry"
)

func runDev(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := cli.New("dev", "[flags]", "Runs the local stack: the edge (WAF, stage, authorizer, load balancer), the identity provider, and every service of decagon.yaml as a local ECS service whose tasks are `decagon serve` child processes: desired count kept, step scaling, rolling deployments.", stdout, stderr)
	cfg := devstack.LocalConfig{TaskOutput: stderr, AccessLog: stderr, Version: version}
	finish := cfg.Flags(fs)
	unused, err := fs.ParseNoArgs(args)
	if err != nil {
		return err
	}
	logger, err := newLogger(stderr, cfg.LogLevel, unused)
	if err != nil {
		return err
	}
	if err := finish(logger); err != nil {
		return err
	}
	stopTelemetry, err := telemetry.Start(ctx, telemetry.Config{ServiceName: "decagon-dev", Version: version})
	if err != nil {
		return err
	}
	defer stopTelemetry()
	stack, err := devstack.StartLocal(ctx, cfg)
	if err != nil {
		return err
	}
	if err := stack.Banner(stdout, cfg.DataDir); err != nil {
		return err
	}
	return stack.Wait()
}
