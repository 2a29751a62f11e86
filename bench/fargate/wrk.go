package main

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"time"

	"github.com/decagon/decagon/bench/internal/wrk"
)

// ensureWrk installs Debian's wrk when it is missing.
func ensureWrk() error {
	if _, err := exec.LookPath("wrk"); err == nil {
		return nil
	}
	fmt.Println("wrk not found: installing the Debian package ...")
	for _, args := range [][]string{{"update", "-qq"}, {"install", "-y", "-qq", "wrk"}} {
		cmd := exec.Command("apt-get", args...)
		cmd.Env = append(os.Environ(), "DEBIAN_FRONTEND=noninteractive")
		cmd.Stdout, cmd.Stderr = os.Stdout, os.Stderr
		if err := cmd.Run(); err != nil {
			return fmt.Errorf("apt-get %v: %w (install wrk by hand)", args, err)
		}
	}
	return nil
}

// runWrk runs wrk with the case's Lua script against base and parses its report.
func runWrk(dir, base, script string, d time.Duration, conns, threads int) (wrk.Result, error) {
	path := filepath.Join(dir, "case.lua")
	if err := os.WriteFile(path, []byte(script), 0o644); err != nil {
		return wrk.Result{}, err
	}
	secs := max(1, int(d.Round(time.Second)/time.Second))
	cmd := exec.Command("wrk", "-t", strconv.Itoa(threads), "-c", strconv.Itoa(conns),
		"-d", strconv.Itoa(secs)+"s", "--timeout", "10s", "--latency", "-s", path, base)
	out, err := cmd.CombinedOutput()
	if err != nil {
		return wrk.Result{}, fmt.Errorf("wrk: %w\n%s", err, out)
	}
	return wrk.Parse(string(out))
}
