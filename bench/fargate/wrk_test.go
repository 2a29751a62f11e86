package main

import (
	"testing"
	"time"
)

const wrkReport = `Running 10s test @ http://127.0.0.1:40000
  1 threads and 16 connections
  Thread Stats   Avg      Stdev     Max   +/- Stdev
    Latency    12.01ms   20.12ms 201.00ms   90.00%
    Req/Sec     1.20k   100.00     1.40k    70.00%
  Latency Distribution
     50%   10.43ms
     75%   14.00ms
     90%   30.00ms
     99%   89.38ms
  11940 requests in 10.00s, 5.00MB read
  Non-2xx or 3xx responses: 3
Requests/sec:   1194.00
Transfer/sec:    512.00KB
`

func TestParseWrk(t *testing.T) {
	r, err := parseWrk(wrkReport)
	if err != nil {
		t.Fatal(err)
	}
	want := wrkResult{rps: 1194, requests: 11940, p50: 10430 * time.Microsecond, p99: 89380 * time.Microsecond, non2xx: 3}
	if r != want {
		t.Errorf("parseWrk = %+v, want %+v", r, want)
	}
	if _, err := parseWrk("wrk: connection refused"); err == nil {
		t.Error("a report without Requests/sec parsed")
	}
}

func TestSummarize(t *testing.T) {
	cases := []struct {
		name    string
		in      []sample
		rps     float64
		lo, hi  float64
		p99     time.Duration
		peakRSS int64
	}{
		{"odd", []sample{
			{wrkResult: wrkResult{rps: 900, p99: 3 * time.Millisecond}, rss: 50},
			{wrkResult: wrkResult{rps: 1200, p99: 1 * time.Millisecond}, rss: 40},
			{wrkResult: wrkResult{rps: 1000, p99: 2 * time.Millisecond}, rss: 55},
		}, 1000, 900, 1200, 2 * time.Millisecond, 55},
		{"even", []sample{
			{wrkResult: wrkResult{rps: 100, p99: 4 * time.Millisecond}, rss: 1},
			{wrkResult: wrkResult{rps: 300, p99: 2 * time.Millisecond}, rss: 2},
		}, 200, 100, 300, 3 * time.Millisecond, 2},
		{"none", nil, 0, 0, 0, 0, 0},
	}
	for _, c := range cases {
		s := summarize(c.in)
		if s.rps != c.rps || s.rpsMin != c.lo || s.rpsMax != c.hi || s.p99 != c.p99 || s.rss != c.peakRSS {
			t.Errorf("%s: summarize = %+v, want rps %v (%v–%v), p99 %v, rss %d", c.name, s, c.rps, c.lo, c.hi, c.p99, c.peakRSS)
		}
	}
}
