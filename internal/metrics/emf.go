package metrics

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"sync"
	"time"
)

// EMFNamespace is the CloudWatch namespace of the EMF metrics.
const EMFNamespace = "Decagon"

// EMF metric names: the counts the alarms read, per service, that neither the ALB nor API
// Gateway measures by kind.
const (
	EMFRequests       = "Requests"
	EMFServerErrors   = "ServerErrors"   // 5xx answered by the service
	EMFClientErrors   = "ClientErrors"   // 4xx other than the three below
	EMFAuthFailures   = "AuthFailures"   // 401 and 403
	EMFThrottled      = "Throttled"      // 429
	EMFDatabaseErrors = "DatabaseErrors" // failed database calls (not not-found or conflict)
	EMFBlobErrors     = "BlobErrors"     // failed object store calls
)

// emfMetrics are written in this order, every one on every line (zeros included), so that an
// alarm never lacks data while the service runs.
var emfMetrics = []string{EMFRequests, EMFServerErrors, EMFClientErrors, EMFAuthFailures, EMFThrottled,
	EMFDatabaseErrors, EMFBlobErrors}

// EMF counts requests and errors by kind and writes them every interval as one CloudWatch
// Embedded Metric Format line: CloudWatch Logs turns the line into metrics in EMFNamespace with
// the dimension Service, no agent or API call needed. Its methods are safe for concurrent use.
type EMF struct {
	w       io.Writer
	service string
	now     func() time.Time

	mu     sync.Mutex
	counts map[string]int64
}

// NewEMF returns an EMF writing to w (the task's stdout, which the awslogs driver ships) for
// service.
func NewEMF(w io.Writer, service string) *EMF {
	return &EMF{w: w, service: service, now: time.Now, counts: map[string]int64{}}
}

// Add counts n occurrences of one of the EMF metric names; other names are ignored.
func (e *EMF) Add(metric string, n int64) {
	for _, m := range emfMetrics {
		if m == metric {
			e.mu.Lock()
			e.counts[metric] += n
			e.mu.Unlock()
			return
		}
	}
}

// ObserveDB counts a failed database call; its signature is Storage.ObserveDB's.
func (e *EMF) ObserveDB(_ string, _ time.Duration, err error) {
	if Outcome(err) == OutcomeError {
		e.Add(EMFDatabaseErrors, 1)
	}
}

// ObserveBlob counts a failed object store call.
func (e *EMF) ObserveBlob(_ string, _ time.Duration, err error) {
	if Outcome(err) == OutcomeError {
		e.Add(EMFBlobErrors, 1)
	}
}

// Middleware counts every request next serves, and its error kind.
func (e *EMF) Middleware(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		rec := &recorder{ResponseWriter: w}
		defer func() {
			status := rec.status
			if v := recover(); v != nil {
				defer panic(v)
				status = http.StatusInternalServerError
			}
			e.Add(EMFRequests, 1)
			switch {
			case status >= 500:
				e.Add(EMFServerErrors, 1)
			case status == http.StatusUnauthorized || status == http.StatusForbidden:
				e.Add(EMFAuthFailures, 1)
			case status == http.StatusTooManyRequests:
				e.Add(EMFThrottled, 1)
			case status >= 400:
				e.Add(EMFClientErrors, 1)
			}
		}()
		next.ServeHTTP(rec, r)
	})
}

// Flush writes one line with the counts since the last flush and resets them.
func (e *EMF) Flush() error {
	e.mu.Lock()
	counts := e.counts
	e.counts = map[string]int64{}
	e.mu.Unlock()
	type metric struct {
		Name string `json:"Name"`
		Unit string `json:"Unit"`
	}
	defs := make([]metric, len(emfMetrics))
	line := map[string]any{"Service": e.service}
	for i, m := range emfMetrics {
		defs[i] = metric{Name: m, Unit: "Count"}
		line[m] = counts[m]
	}
	line["_aws"] = map[string]any{
		"Timestamp": e.now().UnixMilli(),
		"CloudWatchMetrics": []any{map[string]any{
			"Namespace":  EMFNamespace,
			"Dimensions": [][]string{{"Service"}},
			"Metrics":    defs,
		}},
	}
	b, err := json.Marshal(line)
	if err != nil {
		return fmt.Errorf("emf: %w", err)
	}
	if _, err := e.w.Write(append(b, '\n')); err != nil {
		return fmt.Errorf("emf: write: %w", err)
	}
	return nil
}

// Run flushes every interval (one minute, CloudWatch's standard resolution, when zero) until
// ctx is done, then once more.
func (e *EMF) Run(ctx context.Context, interval time.Duration) {
	if interval <= 0 {
		interval = time.Minute
	}
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			_ = e.Flush()
			return
		case <-t.C:
			_ = e.Flush()
		}
	}
}
