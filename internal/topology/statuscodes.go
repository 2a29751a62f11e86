package topology

import (
	"fmt"
	"strconv"
	"strings"
)

// StatusCodes is a set of HTTP status codes written in ALB's success code syntax ("200",
// "200,204", "200-299"), parsed once by Parse into the form the local load balancer matches
// responses against. The zero value contains no code.
type StatusCodes struct {
	ranges [][2]int // inclusive, each within 200..499
}

// ParseStatusCodes parses ALB's success code syntax: codes and inclusive ranges between 200
// and 499, separated by commas.
func ParseStatusCodes(s string) (StatusCodes, error) {
	if strings.TrimSpace(s) == "" {
		return StatusCodes{}, fmt.Errorf("must list HTTP codes like \"200\", \"200,204\" or \"200-299\"")
	}
	var out StatusCodes
	for part := range strings.SplitSeq(s, ",") {
		lo, hi, isRange := strings.Cut(strings.TrimSpace(part), "-")
		if !isRange {
			hi = lo
		}
		a, errA := strconv.Atoi(strings.TrimSpace(lo))
		b, errB := strconv.Atoi(strings.TrimSpace(hi))
		if errA != nil || errB != nil || a < 200 || b > 499 || a > b {
			return StatusCodes{}, fmt.Errorf("must list HTTP codes between 200 and 499 like \"200\", \"200,204\" or \"200-299\", got %q", s)
		}
		out.ranges = append(out.ranges, [2]int{a, b})
	}
	return out, nil
}

// Contains reports whether code is in the set.
func (c StatusCodes) Contains(code int) bool {
	for _, r := range c.ranges {
		if code >= r[0] && code <= r[1] {
			return true
		}
	}
	return false
}

// Empty reports whether the set holds no code (a HealthCheck not made by Parse).
func (c StatusCodes) Empty() bool { return len(c.ranges) == 0 }

// String returns the set in ALB's syntax, without spaces.
func (c StatusCodes) String() string {
	var b strings.Builder
	for i, r := range c.ranges {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString(strconv.Itoa(r[0]))
		if r[1] != r[0] {
			b.WriteByte('-')
			b.WriteString(strconv.Itoa(r[1]))
		}
	}
	return b.String()
}
