package contract

import (
	"context"
	"testing"
	"time"
)

func TestContext(t *testing.T) {
	ctx, cancel := Context(context.Background())
	defer cancel()
	if d, ok := ctx.Deadline(); !ok || time.Until(d) > DefaultTimeout {
		t.Errorf("no deadline given: deadline %v, %v; want within %s", d, ok, DefaultTimeout)
	}
	own, ownCancel := context.WithTimeout(context.Background(), time.Hour)
	defer ownCancel()
	ctx, cancel = Context(own)
	defer cancel()
	if d, _ := ctx.Deadline(); time.Until(d) < 59*time.Minute {
		t.Errorf("a caller's deadline was replaced: %v", d)
	}
}

func TestID(t *testing.T) {
	for _, c := range []struct {
		in, want string
		ok       bool
	}{
		{"0190b3b2-7e4c-7a12-8d3e-2f1a0b9c8d7e", "0190b3b2-7e4c-7a12-8d3e-2f1a0b9c8d7e", true},
		{"0190B3B2-7E4C-7A12-8D3E-2F1A0B9C8D7E", "0190b3b2-7e4c-7a12-8d3e-2f1a0b9c8d7e", true},
		{"0190b3b2-7e4c-7a12-8d3e-2f1a0b9c8D7e", "0190b3b2-7e4c-7a12-8d3e-2f1a0b9c8d7e", true},
		{"{0190b3b2-7e4c-7a12-8d3e-2f1a0b9c8d7e}", "0190b3b2-7e4c-7a12-8d3e-2f1a0b9c8d7e", true},
		{"0190b3b27e4c7a128d3e2f1a0b9c8d7e", "0190b3b2-7e4c-7a12-8d3e-2f1a0b9c8d7e", true},
		{"", "", false},
		{"0190b3b2-7e4c-7a12-8d3e-2f1a0b9c8d7", "", false},
		{"zz90b3b2-7e4c-7a12-8d3e-2f1a0b9c8d7e", "", false},
	} {
		got, ok := ID(c.in)
		if got != c.want || ok != c.ok {
			t.Errorf("ID(%q) = %q, %v; want %q, %v", c.in, got, ok, c.want, c.ok)
		}
	}
}

func TestExpired(t *testing.T) {
	now := time.Date(2030, 1, 2, 0, 0, 0, 0, time.UTC)
	for _, c := range []struct {
		age  time.Duration
		want bool
	}{
		{0, false}, {IdempotencyTTL - time.Microsecond, false}, {IdempotencyTTL, true}, {IdempotencyTTL + time.Hour, true}, {-time.Hour, false},
	} {
		if got := Expired(now.Add(-c.age), now); got != c.want {
			t.Errorf("Expired(age %s) = %v, want %v", c.age, got, c.want)
		}
	}
}

func TestTimeLayoutOrders(t *testing.T) {
	// Fixed width: text order must be time order across digit-count changes.
	a := time.Date(999, 1, 1, 0, 0, 0, 0, time.UTC).Format(TimeLayout)
	b := time.Date(2030, 1, 1, 0, 0, 0, 1000, time.UTC).Format(TimeLayout)
	c := time.Date(2030, 1, 1, 0, 0, 0, 100000, time.UTC).Format(TimeLayout)
	if !(a < b && b < c) || len(a) != len(c) {
		t.Errorf("layout does not order: %s %s %s", a, b, c)
	}
}
