package main

import (
	"testing"
	"time"

	"github.com/decagon/decagon/bench/internal/wrk"
)

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
			{Result: wrk.Result{RPS: 900, P99: 3 * time.Millisecond}, rss: 50},
			{Result: wrk.Result{RPS: 1200, P99: 1 * time.Millisecond}, rss: 40},
			{Result: wrk.Result{RPS: 1000, P99: 2 * time.Millisecond}, rss: 55},
		}, 1000, 900, 1200, 2 * time.Millisecond, 55},
		{"even", []sample{
			{Result: wrk.Result{RPS: 100, P99: 4 * time.Millisecond}, rss: 1},
			{Result: wrk.Result{RPS: 300, P99: 2 * time.Millisecond}, rss: 2},
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
