package cli

import (
	"fmt"
	"net"
	"strconv"
	"strings"
)

// Size defines a flag holding a size in bytes, written as 10485760, 10MiB, 512KiB or 1GiB.
func (fs *FlagSet) Size(name string, value int64, usage string) *int64 {
	s := size(value)
	fs.Var(&s, name, usage+" (bytes, or with KiB/MiB/GiB)")
	return (*int64)(&s)
}

// size is a flag.Value of bytes.
type size int64

var sizeUnits = []struct {
	suffix string
	mult   int64
}{{"GiB", 1 << 30}, {"MiB", 1 << 20}, {"KiB", 1 << 10}, {"B", 1}, {"", 1}}

// String writes the size with the largest unit that divides it: 10MiB, 1536KiB, 100.
func (s *size) String() string {
	for _, u := range sizeUnits[:3] {
		if n := int64(*s); n != 0 && n%u.mult == 0 {
			return strconv.FormatInt(n/u.mult, 10) + u.suffix
		}
	}
	return strconv.FormatInt(int64(*s), 10)
}

func (s *size) Set(v string) error {
	for _, u := range sizeUnits {
		num, ok := strings.CutSuffix(v, u.suffix)
		if !ok {
			continue
		}
		n, err := strconv.ParseInt(strings.TrimSpace(num), 10, 64)
		if err != nil || n < 0 || n > (1<<62)/u.mult {
			break
		}
		*s = size(n * u.mult)
		return nil
	}
	return fmt.Errorf("invalid size %q: use bytes or a number with KiB, MiB or GiB", v)
}

// List splits a comma-separated flag value, dropping empty items.
func List(s string) []string {
	var out []string
	for _, p := range strings.Split(s, ",") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}

// Targets defines a flag collecting addresses per service: "tests=127.0.0.1:9001,127.0.0.1:9002",
// repeated per service or joined with ';' (as one environment variable holds them).
func (fs *FlagSet) Targets(name, usage string) map[string][]string {
	t := targets{}
	fs.Var(t, name, usage)
	return t
}

// targets is a flag.Value of addresses per service.
type targets map[string][]string

func (t targets) String() string {
	var parts []string
	for svc, addrs := range t {
		parts = append(parts, svc+"="+strings.Join(addrs, ","))
	}
	return strings.Join(parts, ";")
}

func (t targets) Set(v string) error {
	for group := range strings.SplitSeq(v, ";") {
		if strings.TrimSpace(group) == "" {
			continue
		}
		svc, list, ok := strings.Cut(group, "=")
		svc = strings.TrimSpace(svc)
		if !ok || svc == "" {
			return fmt.Errorf("want SERVICE=HOST:PORT[,HOST:PORT...], got %q", group)
		}
		for _, addr := range List(list) {
			if _, _, err := net.SplitHostPort(addr); err != nil {
				return fmt.Errorf("target %q of %s: %w", addr, svc, err)
			}
			t[svc] = append(t[svc], addr)
		}
	}
	return nil
}
