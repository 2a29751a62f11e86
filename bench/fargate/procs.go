package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"time"
)

// proc is a started service.
type proc struct {
	pid  int
	stop func()
}

// startProcess starts bin with its output in the run directory, inside cg when there is one: a
// shell writes its own PID into the cgroup and execs bin, so the limit holds from the start.
func startProcess(dir, name string, cg *cgroup, bin string, args ...string) (*proc, error) {
	logf, err := os.Create(filepath.Join(dir, name+".log"))
	if err != nil {
		return nil, err
	}
	var cmd *exec.Cmd
	if cg != nil {
		var script strings.Builder
		for _, f := range cg.procsFiles() {
			fmt.Fprintf(&script, "echo $$ > '%s' || exit 97; ", f)
		}
		script.WriteString(`exec "$0" "$@"`)
		cmd = exec.Command("sh", append([]string{"-c", script.String(), bin}, args...)...)
	} else {
		cmd = exec.Command(bin, args...)
	}
	cmd.Stdout, cmd.Stderr = logf, logf
	if err := cmd.Start(); err != nil {
		logf.Close()
		return nil, fmt.Errorf("start %s: %w", name, err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	var once sync.Once
	stop := func() {
		once.Do(func() {
			_ = cmd.Process.Signal(os.Interrupt)
			select {
			case <-done:
			case <-time.After(15 * time.Second):
				_ = cmd.Process.Kill()
				<-done
			}
			logf.Close()
		})
	}
	return &proc{pid: cmd.Process.Pid, stop: stop}, nil
}

func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// waitHealthy polls base/health-check until it answers 200, for 20 s.
func waitHealthy(base, logPath string) error {
	deadline := time.Now().Add(20 * time.Second)
	var last string
	for time.Now().Before(deadline) {
		resp, err := http.Get(base + "/health-check")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
			last = resp.Status
		} else {
			last = err.Error()
		}
		time.Sleep(50 * time.Millisecond)
	}
	tail, _ := os.ReadFile(logPath)
	if len(tail) > 2000 {
		tail = tail[len(tail)-2000:]
	}
	return fmt.Errorf("%s not healthy in 20 s: %s\n%s", base, last, tail)
}

// do sends one request with the token and returns the status and body.
func do(method, url, token, contentType string, body []byte) (int, []byte, error) {
	req, err := http.NewRequest(method, url, bytes.NewReader(body))
	if err != nil {
		return 0, nil, err
	}
	req.Header.Set("Authorization", "Bearer "+token)
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, nil, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return resp.StatusCode, b, err
}

// seed creates n records through decagon's own POST /test (so that the rows are exactly what
// the service writes) and returns their IDs.
func seed(base, token string, n int) ([]string, error) {
	ids := make([]string, n)
	errs := make(chan error, n)
	var wg sync.WaitGroup
	sem := make(chan struct{}, 8)
	for i := range n {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			body := fmt.Sprintf(`{"name":"seed %d","data":{"i":%d,"s":"fargate"}}`, i, i)
			code, b, err := do("POST", base+"/test", token, "application/json", []byte(body))
			if err != nil || code != http.StatusCreated {
				errs <- fmt.Errorf("seed POST /test: %d %s %v", code, b, err)
				return
			}
			var rec struct {
				ID string `json:"test_id"`
			}
			if err := json.Unmarshal(b, &rec); err != nil || rec.ID == "" {
				errs <- fmt.Errorf("seed POST /test answered %s", b)
				return
			}
			ids[i] = rec.ID
		}()
	}
	wg.Wait()
	close(errs)
	if err := <-errs; err != nil {
		return nil, err
	}
	return ids, nil
}
