package main

import (
	"fmt"
	"os/exec"
	"strconv"
	"time"

	"github.com/decagon/decagon/bench/internal/wrk"
)

// runWrk runs wrk and parses its report.
func runWrk(url, token string, d time.Duration, conns, threads int) (wrk.Result, error) {
	secs := max(1, int(d.Round(time.Second)/time.Second))
	cmd := exec.Command("wrk", "-t", strconv.Itoa(threads), "-c", strconv.Itoa(conns), "-d", strconv.Itoa(secs)+"s",
		"--latency", "-H", "Authorization: Bearer "+token, url)
	out, err := cmd.CombinedOutput()
	if err != nil {
		return wrk.Result{}, fmt.Errorf("wrk: %w\n%s", err, out)
	}
	return wrk.Parse(string(out))
}
