//go:build race

package waf

// raceEnabled: the race detector slows Coraza's rule evaluation about tenfold.
const raceEnabled = true
