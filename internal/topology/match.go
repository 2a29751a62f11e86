package topology

import "slices"

// route is one path pattern of one service, with its rule's priority.
type route struct {
	priority int
	pattern  string
	service  int // index into Topology.Services
}

// buildRoutes lists every pattern in ALB evaluation order: by rule priority, lowest first;
// within a rule, the order written.
func buildRoutes(services []Service) []route {
	var rs []route
	for i, s := range services {
		for _, r := range s.PathRules {
			for _, p := range r.Paths {
				rs = append(rs, route{priority: r.Priority, pattern: p, service: i})
			}
		}
	}
	slices.SortStableFunc(rs, func(a, b route) int { return a.priority - b.priority })
	return rs
}

// Match returns the service whose listener rule is the first, in priority order, with a path
// pattern matching path, as an ALB listener evaluates its rules. path is the request path
// without the query string. It reports false when no rule matches (the listener's default
// action answers then).
func (t *Topology) Match(path string) (*Service, bool) {
	rs := t.routes
	if rs == nil {
		rs = buildRoutes(t.Services) // a Topology built by hand rather than by Parse
	}
	for _, r := range rs {
		if MatchPattern(r.pattern, path) {
			return &t.Services[r.service], true
		}
	}
	return nil, false
}

// MatchPattern reports whether path matches an ALB path pattern: case-sensitive, '*' matches
// any run of characters ('/' included, possibly empty), '?' matches exactly one character, and
// the pattern must match the whole path.
func MatchPattern(pattern, path string) bool {
	// Greedy matching with one backtrack point, linear in practice and never exponential:
	// on a mismatch, the last '*' absorbs one more character.
	p, s := 0, 0
	star, mark := -1, 0
	for s < len(path) {
		switch {
		// '*' first: a literal '*' in the path must not consume the pattern's wildcard.
		case p < len(pattern) && pattern[p] == '*':
			star, mark = p, s
			p++
		case p < len(pattern) && (pattern[p] == '?' || pattern[p] == path[s]):
			p++
			s++
		case star >= 0:
			mark++
			p, s = star+1, mark
		default:
			return false
		}
	}
	for p < len(pattern) && pattern[p] == '*' {
		p++
	}
	return p == len(pattern)
}
