// Command edge is the edge's load harness: on loopback, one fixed small-JSON backend (nginx,
// one worker) and, one after another with the same request and concurrency, wrk against the
// backend directly, nginx and HAProxy as plain reverse proxies, HAProxy verifying the token
// with jwt_verify, and the decagon edge (routing, validation, authorizer, throttling, load
// balancing; WAF off), with and without its access log. It prints requests/s, p50 and p99 per
// setup and the ratios, and fails loudly on any non-2xx response or socket error.
//
// Run it with bench/edge/run.sh, which installs nginx, haproxy and wrk from Debian first.
package main

import (
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"flag"
	"fmt"
	"io"
	"math/big"
	"net/http"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/decagon/decagon/bench/internal/wrk"
)

const (
	clientID = "benchclient0123456789abcd"
	itemPath = "/test/0b5f5d2e-7c1a-4b1e-9d3a-2f4e6a8b0c1d"
	body     = `{"test_id":"0b5f5d2e-7c1a-4b1e-9d3a-2f4e6a8b0c1d","name":"bench","data":{"k":1},"owner":"u","created_at":"2026-01-01T00:00:00Z","updated_at":"2026-01-01T00:00:00Z"}`
)

type result struct {
	name string
	wrk.Result
	cpuPerReq time.Duration // CPU time of the proxy's processes per request
}

func main() {
	duration := flag.Duration("duration", 10*time.Second, "measured time per setup")
	warmup := flag.Duration("warmup", 3*time.Second, "unmeasured time per setup first")
	conns := flag.Int("connections", 64, "concurrent connections")
	threads := flag.Int("threads", 2, "wrk threads")
	only := flag.String("only", "", "comma-separated setups to run (default all)")
	keep := flag.Bool("keep", false, "keep the run directory")
	rounds := flag.Int("rounds", 1, "measure every setup this many times, interleaved, and report the median")
	hello := flag.String("serve-hello", "", "internal: serve the backend's body with net/http on this address")
	hold := flag.Bool("hold", false, "start the backend only, print how to reach it, and wait (for profiling by hand)")
	flag.Parse()
	if *hello != "" {
		serveHello(*hello)
		return
	}
	if err := run(*duration, *warmup, *conns, *threads, *rounds, *only, *keep, *hold); err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		os.Exit(1)
	}
}

func run(duration, warmup time.Duration, conns, threads, rounds int, only string, keep, hold bool) error {
	for _, tool := range []string{"nginx", "haproxy", "wrk"} {
		if _, err := exec.LookPath(tool); err != nil {
			if _, err2 := os.Stat("/usr/sbin/" + tool); err2 != nil {
				return fmt.Errorf("%s not found: run bench/edge/run.sh, which installs it", tool)
			}
		}
	}
	dir, err := os.MkdirTemp("", "edge-bench-")
	if err != nil {
		return err
	}
	if err := os.Chmod(dir, 0o755); err != nil { // nginx workers run as another user
		return err
	}
	if !keep {
		defer os.RemoveAll(dir)
	} else {
		fmt.Println("run directory:", dir)
	}
	ports, err := freePorts(4)
	if err != nil {
		return err
	}
	backendAddr := fmt.Sprintf("127.0.0.1:%d", ports[0])
	issuer := "http://" + backendAddr + "/pool"
	token, err := writeKeys(dir, issuer)
	if err != nil {
		return err
	}
	stopBackend, err := startNginx(dir, "backend", backendConf(dir, ports[0]))
	if err != nil {
		return err
	}
	defer stopBackend()
	lastPID = 0 // the backend's CPU is not a proxy's
	if err := waitOK("http://"+backendAddr+itemPath, token); err != nil {
		return fmt.Errorf("backend: %w", err)
	}
	if err := os.WriteFile(filepath.Join(dir, "token"), []byte(token), 0o644); err != nil {
		return err
	}
	if hold {
		if err := os.WriteFile(filepath.Join(dir, "decagon.yaml"), []byte(benchTopology), 0o644); err != nil {
			return err
		}
		fmt.Printf("backend %s, issuer %s, client %s\ntoken in %s, topology in %s\nCtrl-C to stop\n",
			backendAddr, issuer, clientID, filepath.Join(dir, "token"), filepath.Join(dir, "decagon.yaml"))
		ch := make(chan os.Signal, 1)
		signal.Notify(ch, os.Interrupt, syscall.SIGTERM)
		<-ch
		return nil
	}

	decagon := os.Getenv("DECAGON_BIN") // a prebuilt binary, else ./cmd/decagon is built
	if decagon == "" {
		decagon = filepath.Join(dir, "decagon")
		fmt.Println("building ./cmd/decagon ...")
		build := exec.Command("go", "build", "-trimpath", "-o", decagon, "./cmd/decagon")
		build.Stdout, build.Stderr = os.Stdout, os.Stderr
		if err := build.Run(); err != nil {
			return fmt.Errorf("build decagon: %w", err)
		}
	}
	if err := os.WriteFile(filepath.Join(dir, "decagon.yaml"), []byte(benchTopology), 0o644); err != nil {
		return err
	}
	proxyAddr := fmt.Sprintf("127.0.0.1:%d", ports[1])

	type setup struct {
		name  string
		start func() (func(), error)
		url   string
	}
	edgeArgs := func(accessLog string) []string {
		return []string{"edge", "--addr", proxyAddr, "--config", filepath.Join(dir, "decagon.yaml"),
			"--target", "tests=" + backendAddr, "--auth-issuer", issuer, "--auth-client-id", clientID,
			"--waf=false", "--access-log", accessLog, "--log-level", "warn",
			// Throttling runs on every request; the bucket is sized past what loopback reaches.
			"--stage-rate-limit", "1000000", "--stage-burst-limit", "100000"}
	}
	self, err := os.Executable()
	if err != nil {
		return err
	}
	setups := []setup{
		{"backend direct", func() (func(), error) { return func() {}, nil }, "http://" + backendAddr + itemPath},
		{"go net/http server alone", func() (func(), error) {
			return startProcess(dir, "hello", self, "-serve-hello", proxyAddr)
		}, "http://" + proxyAddr + itemPath},
		{"nginx proxy", func() (func(), error) {
			return startNginx(dir, "proxy", proxyNginxConf(dir, ports[1], backendAddr))
		}, "http://" + proxyAddr + itemPath},
		{"haproxy proxy", func() (func(), error) {
			return startHAProxy(dir, haproxyConf(ports[1], backendAddr, ""))
		}, "http://" + proxyAddr + itemPath},
		{"haproxy jwt_verify", func() (func(), error) {
			return startHAProxy(dir, haproxyConf(ports[1], backendAddr, jwtRules(filepath.Join(dir, "pub.pem"), issuer)))
		}, "http://" + proxyAddr + itemPath},
		{"decagon edge", func() (func(), error) {
			return startProcess(dir, "edge", decagon, edgeArgs("")...)
		}, "http://" + proxyAddr + "/Test" + itemPath},
		{"decagon edge + access log", func() (func(), error) {
			return startProcess(dir, "edge-log", decagon, edgeArgs(filepath.Join(dir, "access.log"))...)
		}, "http://" + proxyAddr + "/Test" + itemPath},
	}
	var results []result
	var failed []string
	for round := 1; round <= max(1, rounds); round++ {
		for _, s := range setups {
			if only != "" && !containsFold(strings.Split(only, ","), s.name) {
				continue
			}
			stop, err := s.start()
			if err != nil {
				return fmt.Errorf("%s: %w", s.name, err)
			}
			if err := waitOK(s.url, token); err != nil {
				stop()
				return fmt.Errorf("%s: %w", s.name, err)
			}
			// The forged token must be refused where tokens are checked: the setup really verifies.
			if strings.Contains(s.name, "jwt") || strings.Contains(s.name, "decagon") {
				if code := status(s.url, forge(token)); code != 401 && code != 403 {
					stop()
					return fmt.Errorf("%s: a forged token got %d", s.name, code)
				}
			}
			fmt.Printf("round %d: measuring %s (%v warm-up, %v, %d connections) ...\n", round, s.name, warmup, duration, conns)
			if _, err := runWrk(s.url, token, warmup, conns, threads); err != nil {
				stop()
				return err
			}
			cpu0 := processCPU(lastPID)
			wr, err := runWrk(s.url, token, duration, conns, threads)
			cpu1 := processCPU(lastPID)
			stop()
			if err != nil {
				return fmt.Errorf("%s: %w", s.name, err)
			}
			r := result{name: s.name, Result: wr}
			if lastPID != 0 && r.RPS > 0 {
				r.cpuPerReq = time.Duration(float64(cpu1-cpu0) / (r.RPS * duration.Seconds()))
			}
			lastPID = 0
			results = append(results, r)
			if r.Non2xx > 0 || r.SocketErrors != "" {
				failed = append(failed, fmt.Sprintf("%s: %d non-2xx responses, socket errors %q", s.name, r.Non2xx, r.SocketErrors))
			}
		}
	}
	printTable(medians(results), duration, conns, threads, rounds)
	if len(failed) > 0 {
		return fmt.Errorf("FAILED:\n  %s", strings.Join(failed, "\n  "))
	}
	return nil
}

func containsFold(list []string, s string) bool {
	for _, x := range list {
		if strings.EqualFold(strings.TrimSpace(x), s) {
			return true
		}
	}
	return false
}

// medians reduces several rounds per setup to the round with the median throughput, in the
// order the setups first appear.
func medians(results []result) []result {
	var order []string
	by := map[string][]result{}
	for _, r := range results {
		if _, ok := by[r.name]; !ok {
			order = append(order, r.name)
		}
		by[r.name] = append(by[r.name], r)
	}
	var out []result
	for _, name := range order {
		rs := by[name]
		sort.Slice(rs, func(i, j int) bool { return rs[i].RPS < rs[j].RPS })
		out = append(out, rs[len(rs)/2])
	}
	return out
}

func printTable(results []result, duration time.Duration, conns, threads, rounds int) {
	base, jwt := 0.0, result{}
	for _, r := range results {
		if r.name == "backend direct" {
			base = r.RPS
		}
		if r.name == "haproxy jwt_verify" {
			jwt = r
		}
	}
	fmt.Printf("\nGET %s with a Bearer token, wrk -t%d -c%d -d%v, loopback, %d CPUs, median of %d round(s)\n\n",
		itemPath, threads, conns, duration, numCPU(), max(1, rounds))
	fmt.Println("| setup | req/s | p50 | p99 | proxy CPU/req | vs direct | vs haproxy jwt_verify |")
	fmt.Println("|---|---:|---:|---:|---:|---:|---:|")
	for _, r := range results {
		vsBase, vsJWT := "", ""
		if base > 0 {
			vsBase = fmt.Sprintf("%.2f×", r.RPS/base)
		}
		if jwt.RPS > 0 {
			vsJWT = fmt.Sprintf("%.2f×", r.RPS/jwt.RPS)
		}
		cpu := "—"
		if r.cpuPerReq > 0 {
			cpu = fmt.Sprintf("%.1f µs", float64(r.cpuPerReq.Nanoseconds())/1000)
		}
		fmt.Printf("| %s | %.0f | %s | %s | %s | %s | %s |\n", r.name, r.RPS, ms(r.P50), ms(r.P99), cpu, vsBase, vsJWT)
	}
}

func ms(d time.Duration) string { return fmt.Sprintf("%.2f ms", float64(d.Microseconds())/1000) }

func numCPU() int {
	out, err := exec.Command("nproc").Output()
	if err != nil {
		return 0
	}
	n, _ := strconv.Atoi(strings.TrimSpace(string(out)))
	return n
}

// waitOK polls url until it answers 200 with the backend's body, for 15 s.
func waitOK(url, token string) error {
	deadline := time.Now().Add(15 * time.Second)
	var last string
	for time.Now().Before(deadline) {
		req, _ := http.NewRequest("GET", url, nil)
		req.Header.Set("Authorization", "Bearer "+token)
		resp, err := http.DefaultClient.Do(req)
		if err == nil {
			b, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode == 200 && string(b) == body {
				return nil
			}
			last = fmt.Sprintf("%d %s", resp.StatusCode, b)
		} else {
			last = err.Error()
		}
		time.Sleep(100 * time.Millisecond)
	}
	return fmt.Errorf("%s not ready: %s", url, last)
}

func status(url, token string) int {
	req, _ := http.NewRequest("GET", url, nil)
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0
	}
	resp.Body.Close()
	return resp.StatusCode
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

// writeKeys makes an RSA key, writes pub.pem (for HAProxy) and pool/.well-known/jwks.json
// (served by the backend at the issuer's URL, for the edge), and returns a Cognito-shaped ID
// token valid for two hours.
func writeKeys(dir, issuer string) (string, error) {
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		return "", err
	}
	der, err := x509.MarshalPKIXPublicKey(&key.PublicKey)
	if err != nil {
		return "", err
	}
	if err := os.WriteFile(filepath.Join(dir, "pub.pem"), pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der}), 0o644); err != nil {
		return "", err
	}
	b64 := base64.RawURLEncoding.EncodeToString
	jwks, _ := json.Marshal(map[string]any{"keys": []any{map[string]any{
		"kty": "RSA", "kid": "bench", "alg": "RS256", "use": "sig",
		"n": b64(key.N.Bytes()), "e": b64(big.NewInt(int64(key.E)).Bytes()),
	}}})
	if err := os.MkdirAll(filepath.Join(dir, "www", "pool", ".well-known"), 0o755); err != nil {
		return "", err
	}
	if err := os.WriteFile(filepath.Join(dir, "www", "pool", ".well-known", "jwks.json"), jwks, 0o644); err != nil {
		return "", err
	}
	now := time.Now()
	header, _ := json.Marshal(map[string]any{"alg": "RS256", "kid": "bench", "typ": "JWT"})
	claims, _ := json.Marshal(map[string]any{
		"sub": "5b0c7a8e-6f2d-4f3a-9d1e-000000000001", "aud": clientID, "token_use": "id",
		"cognito:username": "bench", "cognito:groups": []string{"dev"}, "email": "bench@example.com",
		"iss": issuer, "auth_time": now.Unix(), "iat": now.Unix(), "exp": now.Add(2 * time.Hour).Unix(),
		"jti": "bench-1", "origin_jti": "bench-1", "event_id": "bench",
	})
	input := b64(header) + "." + b64(claims)
	sum := sha256.Sum256([]byte(input))
	sig, err := rsa.SignPKCS1v15(rand.Reader, key, crypto.SHA256, sum[:])
	if err != nil {
		return "", err
	}
	return input + "." + b64(sig), nil
}

// serveHello answers every request with the backend's body from a plain net/http server: the
// ceiling of Go's HTTP/1.1 server on this machine, with no proxying at all.
func serveHello(addr string) {
	b := []byte(body)
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write(b)
	})
	srv := &http.Server{Addr: addr, Handler: h, ReadHeaderTimeout: 5 * time.Second}
	go func() {
		ch := make(chan os.Signal, 1)
		signal.Notify(ch, os.Interrupt, syscall.SIGTERM)
		<-ch
		_ = srv.Close()
	}()
	_ = srv.ListenAndServe()
}
