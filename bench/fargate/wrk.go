package main

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"time"
)

var (
	reRPS      = regexp.MustCompile(`Requests/sec:\s+([0-9.]+)`)
	reRequests = regexp.MustCompile(`(\d+) requests in`)
	reP50      = regexp.MustCompile(`\s50%\s+([0-9.]+)(us|ms|s)\b`)
	reP99      = regexp.MustCompile(`\s99%\s+([0-9.]+)(us|ms|s)\b`)
	reNon2xx   = regexp.MustCompile(`Non-2xx or 3xx responses:\s+(\d+)`)
	reSockErr  = regexp.MustCompile(`Socket errors:[^\n]*`)
)

// wrkResult is one wrk run.
type wrkResult struct {
	rps        float64
	requests   int64
	p50, p99   time.Duration
	non2xx     int
	sockErrors string
}

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
func runWrk(dir, base, script string, d time.Duration, conns, threads int) (wrkResult, error) {
	path := filepath.Join(dir, "case.lua")
	if err := os.WriteFile(path, []byte(script), 0o644); err != nil {
		return wrkResult{}, err
	}
	secs := max(1, int(d.Round(time.Second)/time.Second))
	cmd := exec.Command("wrk", "-t", strconv.Itoa(threads), "-c", strconv.Itoa(conns),
		"-d", strconv.Itoa(secs)+"s", "--timeout", "10s", "--latency", "-s", path, base)
	out, err := cmd.CombinedOutput()
	if err != nil {
		return wrkResult{}, fmt.Errorf("wrk: %w\n%s", err, out)
	}
	return parseWrk(string(out))
}

// parseWrk reads wrk's --latency report.
func parseWrk(s string) (wrkResult, error) {
	var r wrkResult
	m := reRPS.FindStringSubmatch(s)
	if m == nil {
		return r, fmt.Errorf("wrk output without Requests/sec:\n%s", s)
	}
	r.rps, _ = strconv.ParseFloat(m[1], 64)
	if m := reRequests.FindStringSubmatch(s); m != nil {
		r.requests, _ = strconv.ParseInt(m[1], 10, 64)
	}
	r.p50 = wrkDuration(reP50.FindStringSubmatch(s))
	r.p99 = wrkDuration(reP99.FindStringSubmatch(s))
	if m := reNon2xx.FindStringSubmatch(s); m != nil {
		r.non2xx, _ = strconv.Atoi(m[1])
	}
	r.sockErrors = reSockErr.FindString(s)
	return r, nil
}

func wrkDuration(m []string) time.Duration {
	if m == nil {
		return 0
	}
	v, _ := strconv.ParseFloat(m[1], 64)
	unit := map[string]float64{"us": 1e3, "ms": 1e6, "s": 1e9}[m[2]]
	return time.Duration(v * unit)
}
