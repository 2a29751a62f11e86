// Package wrk reads the report of wrk --latency, for the load harnesses under bench/.
package wrk

import (
	"fmt"
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

// Result is one wrk run.
type Result struct {
	RPS      float64
	Requests int64
	P50, P99 time.Duration
	Non2xx   int
	// SocketErrors is wrk's "Socket errors: …" line, "" when there were none.
	SocketErrors string
}

// Parse reads wrk's --latency report; a report without Requests/sec is an error.
func Parse(report string) (Result, error) {
	var r Result
	m := reRPS.FindStringSubmatch(report)
	if m == nil {
		return r, fmt.Errorf("wrk output without Requests/sec:\n%s", report)
	}
	r.RPS, _ = strconv.ParseFloat(m[1], 64)
	if m := reRequests.FindStringSubmatch(report); m != nil {
		r.Requests, _ = strconv.ParseInt(m[1], 10, 64)
	}
	r.P50 = duration(reP50.FindStringSubmatch(report))
	r.P99 = duration(reP99.FindStringSubmatch(report))
	if m := reNon2xx.FindStringSubmatch(report); m != nil {
		r.Non2xx, _ = strconv.Atoi(m[1])
	}
	r.SocketErrors = reSockErr.FindString(report)
	return r, nil
}

func duration(m []string) time.Duration {
	if m == nil {
		return 0
	}
	v, _ := strconv.ParseFloat(m[1], 64)
	unit := map[string]float64{"us": 1e3, "ms": 1e6, "s": 1e9}[m[2]]
	return time.Duration(v * unit)
}
