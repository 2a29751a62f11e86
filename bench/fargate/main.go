// Command fargate measures `decagon serve` as it runs in AWS: in a cgroup with the CPU and
// memory of its decagon.yaml entry (0.25 vCPU and 512 MiB for the seed's services), next to a
// minimal Go handler (bench/fargate/minimal) in an identical cgroup, on SQLite and on
// PostgreSQL. For each case — GET /test/{id}, GET /test (a page of 20), POST /test, POST /test
// with an Idempotency-Key, a 1 MiB direct upload — it runs the two one after the other, round
// after round (A B A B …), each from a fresh process, with wrk on loopback, and prints the median
// and spread of requests/s, p50, p99, CPU time per request (the cgroup's cpuacct) and peak RSS
// (VmHWM), with the ratio to the minimal handler.
//
//	go run ./bench/fargate -rounds 3 -duration 10s
//
// It needs root (cgroups; without them it says so and measures without limits), wrk (installed
// from Debian when missing) and, for -backend postgres, a server it may create a database on
// (dropped at the end). See bench/README.md.
package main

import (
	"context"
	"flag"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"sort"
	"strings"
	"syscall"
	"time"

	"github.com/decagon/decagon/bench/internal/wrk"
	"github.com/decagon/decagon/internal/topology"
)

type options struct {
	rounds           int
	duration, warmup time.Duration
	conns, threads   int
	cases            []benchCase
	backends         []string
	pgURL            string
	config           string
	seedN            int
	keep             bool
	profileDir       string
}

func main() {
	var o options
	flag.IntVar(&o.rounds, "rounds", 3, "interleaved rounds; the table shows the median and the spread")
	flag.DurationVar(&o.duration, "duration", 10*time.Second, "measured time per case, setup and round")
	flag.DurationVar(&o.warmup, "warmup", 2*time.Second, "unmeasured load on each fresh process first")
	flag.IntVar(&o.conns, "conns", 16, "wrk connections")
	flag.IntVar(&o.threads, "threads", 1, "wrk threads")
	caseList := flag.String("cases", "all", "comma-separated: get, list, post, post-idem, upload")
	backendList := flag.String("backend", "sqlite,postgres", "comma-separated: sqlite, postgres")
	flag.StringVar(&o.pgURL, "postgres", "postgres://postgres@127.0.0.1:5432/test?sslmode=disable",
		"PostgreSQL to create the run's own database on (dropped at the end)")
	flag.StringVar(&o.config, "config", "decagon.yaml", "topology file: the services' cpu and memory")
	flag.IntVar(&o.seedN, "seed", 500, "records seeded per backend before measuring")
	flag.BoolVar(&o.keep, "keep", false, "keep the run directory (logs, SQLite file)")
	flag.StringVar(&o.profileDir, "profile", "", "after the rounds, record a perf profile of decagon per case into this directory")
	flag.Parse()
	var err error
	if o.cases, err = selectCases(*caseList); err != nil {
		fmt.Fprintln(os.Stderr, "fargate:", err)
		os.Exit(2)
	}
	o.backends = strings.Split(*backendList, ",")
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, o); err != nil {
		fmt.Fprintln(os.Stderr, "fargate:", err)
		os.Exit(1)
	}
}

// setup is one of the two things measured.
type setup struct {
	name string // minimal | decagon
	bin  string
}

// sample is one measured run.
type sample struct {
	wrk.Result
	cpuPerReq time.Duration
	rss       int64 // VmHWM
	cgPeak    int64 // the cgroup's memory high-water mark (page cache included); 0 without cgroups
	throttled int64 // CFS periods the quota stopped the process in
}

type harness struct {
	o      options
	dir    string
	iss    *issuer
	limits map[string][2]int  // service → cpu units, memory MiB
	groups map[string]*cgroup // setup/service → cgroup; empty without cgroups
	failed []string
}

func run(ctx context.Context, o options) error {
	if err := ensureWrk(); err != nil {
		return err
	}
	topo, err := topology.Load(o.config)
	if err != nil {
		return err
	}
	dir, err := os.MkdirTemp("", "fargate-bench-")
	if err != nil {
		return err
	}
	if o.keep {
		fmt.Println("run directory:", dir)
	} else {
		defer os.RemoveAll(dir)
	}
	h := &harness{o: o, dir: dir, limits: map[string][2]int{}, groups: map[string]*cgroup{}}
	for _, s := range topo.Services {
		h.limits[s.Name] = [2]int{s.CPU, s.Memory}
	}
	setups, err := build(dir)
	if err != nil {
		return err
	}
	if err := h.makeCgroups(setups); err != nil {
		fmt.Printf("NOTE: cgroups not writable (%v): measuring WITHOUT the task's CPU and memory limits; "+
			"the figures are not those of a Fargate task (run as root on a cgroup v1 or v2 host)\n", err)
	}
	defer func() {
		for _, cg := range h.groups {
			cg.remove()
		}
	}()
	if h.iss, err = startIssuer(); err != nil {
		return err
	}
	defer h.iss.close()

	for _, backend := range o.backends {
		if err := ctx.Err(); err != nil {
			return err
		}
		if err := h.runBackend(ctx, strings.TrimSpace(backend), setups); err != nil {
			return fmt.Errorf("%s: %w", backend, err)
		}
	}
	if len(h.failed) > 0 {
		return fmt.Errorf("FAILED:\n  %s", strings.Join(h.failed, "\n  "))
	}
	return nil
}

// build compiles decagon (or takes DECAGON_BIN) and the minimal handler into dir.
func build(dir string) ([]setup, error) {
	decagon := os.Getenv("DECAGON_BIN")
	targets := [][2]string{{"minimal", "./bench/fargate/minimal"}}
	if decagon == "" {
		decagon = filepath.Join(dir, "decagon")
		targets = append(targets, [2]string{"decagon", "./cmd/decagon"})
	}
	for _, t := range targets {
		fmt.Printf("building %s ...\n", t[1])
		cmd := exec.Command("go", "build", "-trimpath", "-o", filepath.Join(dir, t[0]), t[1])
		cmd.Stdout, cmd.Stderr = os.Stdout, os.Stderr
		if err := cmd.Run(); err != nil {
			return nil, fmt.Errorf("build %s: %w", t[1], err)
		}
	}
	return []setup{{"minimal", filepath.Join(dir, "minimal")}, {"decagon", decagon}}, nil
}

// makeCgroups creates one cgroup per setup and service, each with the service's limits.
func (h *harness) makeCgroups(setups []setup) error {
	for _, c := range h.o.cases {
		lim, ok := h.limits[c.service]
		if !ok {
			return fmt.Errorf("service %q not in %s", c.service, h.o.config)
		}
		for _, s := range setups {
			key := s.name + "/" + c.service
			if h.groups[key] != nil {
				continue
			}
			cg, err := newCgroup(fmt.Sprintf("decagon-bench-%s-%s-%d", s.name, c.service, os.Getpid()), lim[0], lim[1])
			if err != nil {
				for _, g := range h.groups {
					g.remove()
				}
				h.groups = map[string]*cgroup{}
				return err
			}
			h.groups[key] = cg
		}
	}
	return nil
}

func (h *harness) runBackend(ctx context.Context, backend string, setups []setup) error {
	db, err := openDatabase(ctx, backend, h.dir, h.o.pgURL)
	if err != nil {
		return err
	}
	defer func() {
		if err := db.drop(); err != nil {
			fmt.Fprintln(os.Stderr, "drop database:", err)
		}
	}()
	decagon := setups[1].bin
	dataDir := filepath.Join(h.dir, "data-"+backend)
	if out, err := exec.Command(decagon, "migrate", "--database-url", db.url, "--data-dir", dataDir).CombinedOutput(); err != nil {
		return fmt.Errorf("decagon migrate: %w\n%s", err, out)
	}
	ids, err := h.seed(decagon, db, dataDir)
	if err != nil {
		return err
	}
	fmt.Printf("%s: %d records seeded\n", backend, len(ids))

	results := map[string]map[string][]sample{} // case → setup → rounds
	for round := 1; round <= max(1, h.o.rounds); round++ {
		for _, c := range h.o.cases {
			if results[c.name] == nil {
				results[c.name] = map[string][]sample{}
			}
			for _, s := range setups {
				if err := ctx.Err(); err != nil {
					return err
				}
				fmt.Printf("%s round %d: %s on %s ...\n", backend, round, c.title, s.name)
				smp, err := h.measure(s, c, db, dataDir, ids, round, "")
				if err != nil {
					return fmt.Errorf("%s, %s: %w", c.title, s.name, err)
				}
				results[c.name][s.name] = append(results[c.name][s.name], smp)
			}
		}
	}
	h.printTable(backend, results)
	if h.o.profileDir != "" {
		if err := os.MkdirAll(h.o.profileDir, 0o755); err != nil {
			return err
		}
		for _, c := range h.o.cases {
			out, _ := filepath.Abs(filepath.Join(h.o.profileDir, backend+"-"+c.name+".perf.data"))
			fmt.Printf("%s: profiling decagon on %s into %s ...\n", backend, c.title, out)
			if _, err := h.measure(setups[1], c, db, dataDir, ids, 0, out); err != nil {
				return fmt.Errorf("profile %s: %w", c.title, err)
			}
		}
	}
	return nil
}

// seed starts decagon serve tests without limits and creates the records GET reads.
func (h *harness) seed(decagon string, db *database, dataDir string) ([]string, error) {
	port, err := freePort()
	if err != nil {
		return nil, err
	}
	base := fmt.Sprintf("http://127.0.0.1:%d", port)
	p, err := startProcess(h.dir, "seed-"+db.backend, nil, decagon, h.decagonArgs("tests", port, db, dataDir)...)
	if err != nil {
		return nil, err
	}
	defer p.stop()
	if err := waitHealthy(base, filepath.Join(h.dir, "seed-"+db.backend+".log")); err != nil {
		return nil, err
	}
	return seed(base, h.iss.token, h.o.seedN)
}

func (h *harness) decagonArgs(service string, port int, db *database, dataDir string) []string {
	args := []string{"serve", "--addr", fmt.Sprintf("127.0.0.1:%d", port),
		"--auth-issuer", h.iss.url, "--auth-client-id", clientID,
		"--database-url", db.url, "--data-dir", dataDir,
		// A stop between runs needs no load-balancer drain.
		"--drain", "0s"}
	if service == "uploads" {
		args = append(args, "--public-url", fmt.Sprintf("http://127.0.0.1:%d", port))
	}
	return append(args, service) // the service name after the flags, as serve parses them
}

// measure starts a fresh process of setup s for case c, checks it answers, warms it up and
// measures one wrk run. With perfOut it records a perf profile of the measured run instead of
// keeping the sample.
func (h *harness) measure(s setup, c benchCase, db *database, dataDir string, ids []string, round int, perfOut string) (sample, error) {
	port, err := freePort()
	if err != nil {
		return sample{}, err
	}
	base := fmt.Sprintf("http://127.0.0.1:%d", port)
	var args []string
	if s.name == "decagon" {
		args = h.decagonArgs(c.service, port, db, dataDir)
	} else {
		args = []string{"-addr", fmt.Sprintf("127.0.0.1:%d", port), "-database-url", db.url,
			"-read-owner", subject, "-write-owner", "minimal", "-blob-dir", filepath.Join(dataDir, "minimal-blobs")}
	}
	cg := h.groups[s.name+"/"+c.service]
	name := fmt.Sprintf("%s-%s-%s-%d", db.backend, s.name, c.name, round)
	p, err := startProcess(h.dir, name, cg, s.bin, args...)
	if err != nil {
		return sample{}, err
	}
	defer p.stop()
	if err := waitHealthy(base, filepath.Join(h.dir, name+".log")); err != nil {
		return sample{}, err
	}
	if err := h.check(s, c, base, ids); err != nil {
		return sample{}, err
	}
	// A prefix of its own per wrk run: the measured run must not replay the warm-up's
	// Idempotency-Keys.
	script := func(stage string) string {
		return c.script(h.iss.token, fmt.Sprintf("%s-%s-%d-%s-%d", db.backend, s.name, round, stage, time.Now().UnixNano()), ids)
	}
	if _, err := runWrk(h.dir, base, script("warmup"), h.o.warmup, h.o.conns, h.o.threads); err != nil {
		return sample{}, err
	}
	var perf *exec.Cmd
	if perfOut != "" {
		secs := fmt.Sprint(max(1, int(h.o.duration.Seconds())))
		perf = exec.Command("perf", "record", "-F", "999", "-g", "-p", fmt.Sprint(p.pid), "-o", perfOut, "--", "sleep", secs)
		perf.Stdout, perf.Stderr = os.Stdout, os.Stderr
		if err := perf.Start(); err != nil {
			return sample{}, fmt.Errorf("perf (install linux-perf): %w", err)
		}
	}
	if cg != nil {
		cg.resetPeak()
	}
	cpu0, thr0 := h.cpu(cg, p.pid), throttled(cg)
	r, err := runWrk(h.dir, base, script("measure"), h.o.duration, h.o.conns, h.o.threads)
	cpu1, thr1 := h.cpu(cg, p.pid), throttled(cg)
	smp := sample{Result: r, rss: vmHWM(p.pid), throttled: thr1 - thr0}
	if cg != nil {
		smp.cgPeak = cg.memPeak()
	}
	if perf != nil {
		_ = perf.Wait()
	}
	if err != nil {
		return sample{}, err
	}
	if r.Requests > 0 {
		smp.cpuPerReq = (cpu1 - cpu0) / time.Duration(r.Requests)
	}
	if r.Non2xx > 0 || r.SocketErrors != "" {
		h.failed = append(h.failed, fmt.Sprintf("%s: %d non-2xx responses, %s (log: %s.log)", name, r.Non2xx, r.SocketErrors, name))
	}
	return smp, nil
}

func (h *harness) cpu(cg *cgroup, pid int) time.Duration {
	if cg != nil {
		return cg.cpuUsage()
	}
	return processCPU(pid)
}

func throttled(cg *cgroup) int64 {
	if cg == nil {
		return 0
	}
	return cg.throttled()
}

// check makes sure the setup really answers the case before it is measured: the record the
// GET case reads comes back, and decagon refuses a token with a forged signature.
func (h *harness) check(s setup, c benchCase, base string, ids []string) error {
	if c.name != "get" {
		return nil
	}
	code, b, err := do("GET", base+"/test/"+ids[0], h.iss.token, "", nil)
	if err != nil || code != http.StatusOK || !strings.Contains(string(b), ids[0]) {
		return fmt.Errorf("GET /test/%s: %d %s %v", ids[0], code, b, err)
	}
	if s.name == "decagon" {
		if code, _, _ := do("GET", base+"/test/"+ids[0], forge(h.iss.token), "", nil); code != http.StatusUnauthorized {
			return fmt.Errorf("a forged token got %d, want 401", code)
		}
	}
	return nil
}

// forge flips the token's signature.
func forge(token string) string {
	i := strings.LastIndexByte(token, '.')
	sig := []byte(token[i+1:])
	if sig[0] == 'A' {
		sig[0] = 'B'
	} else {
		sig[0] = 'A'
	}
	return token[:i+1] + string(sig)
}

func (h *harness) printTable(backend string, results map[string]map[string][]sample) {
	limits := "no cgroup limits"
	if len(h.groups) > 0 {
		lim := h.limits["tests"]
		limits = fmt.Sprintf("cgroup %.2f vCPU / %d MiB", float64(lim[0])/1024, lim[1])
	}
	fmt.Printf("\n%s, %s, wrk -t%d -c%d -d%v, %d round(s) interleaved, median (min–max); %d CPUs\n\n",
		backend, limits, h.o.threads, h.o.conns, h.o.duration, max(1, h.o.rounds), numCPU())
	fmt.Println("| case | setup | req/s | p50 | p99 | CPU/req | peak RSS | req/s vs minimal | p99 vs minimal |")
	fmt.Println("|---|---|---:|---:|---:|---:|---:|---:|---:|")
	for _, c := range h.o.cases {
		ref := summarize(results[c.name]["minimal"])
		for _, name := range []string{"minimal", "decagon"} {
			m := summarize(results[c.name][name])
			ratio, p99r := "1.00×", "1.00×"
			if name != "minimal" {
				ratio = fmt.Sprintf("%.2f×", m.rps/ref.rps)
				p99r = fmt.Sprintf("%.2f×", float64(m.p99)/float64(ref.p99))
			}
			fmt.Printf("| %s | %s | %.0f (%.0f–%.0f) | %s | %s | %.0f µs | %.0f MiB | %s | %s |\n",
				c.title, name, m.rps, m.rpsMin, m.rpsMax, ms(m.p50), ms(m.p99),
				float64(m.cpu.Nanoseconds())/1000, float64(m.rss)/(1<<20), ratio, p99r)
		}
	}
	fmt.Println()
}

type summary struct {
	rps, rpsMin, rpsMax float64
	p50, p99, cpu       time.Duration
	rss                 int64
}

// summarize takes the median of each figure over the rounds, the range of req/s and the
// highest peak RSS.
func summarize(ss []sample) summary {
	if len(ss) == 0 {
		return summary{}
	}
	med := func(get func(sample) float64) float64 {
		v := make([]float64, len(ss))
		for i, s := range ss {
			v[i] = get(s)
		}
		sort.Float64s(v)
		if len(v)%2 == 1 {
			return v[len(v)/2]
		}
		return (v[len(v)/2-1] + v[len(v)/2]) / 2
	}
	var out summary
	out.rps = med(func(s sample) float64 { return s.RPS })
	out.rpsMin, out.rpsMax = ss[0].RPS, ss[0].RPS
	for _, s := range ss {
		out.rpsMin, out.rpsMax = min(out.rpsMin, s.RPS), max(out.rpsMax, s.RPS)
		out.rss = max(out.rss, s.rss)
	}
	out.p50 = time.Duration(med(func(s sample) float64 { return float64(s.P50) }))
	out.p99 = time.Duration(med(func(s sample) float64 { return float64(s.P99) }))
	out.cpu = time.Duration(med(func(s sample) float64 { return float64(s.cpuPerReq) }))
	return out
}

func ms(d time.Duration) string { return fmt.Sprintf("%.2f ms", float64(d.Microseconds())/1000) }

func numCPU() int {
	out, err := exec.Command("nproc").Output()
	if err != nil {
		return 0
	}
	var n int
	fmt.Sscan(strings.TrimSpace(string(out)), &n)
	return n
}
