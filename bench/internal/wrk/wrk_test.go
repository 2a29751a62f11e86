package wrk

import (
	"testing"
	"time"
)

const report = `Running 10s test @ http://127.0.0.1:40000
  1 threads and 16 connections
  Thread Stats   Avg      Stdev     Max   +/- Stdev
    Latency    12.01ms   20.12ms 201.00ms   90.00%
    Req/Sec     1.20k   100.00     1.40k    70.00%
  Latency Distribution
     50%   10.43ms
     75%   14.00ms
     90%   30.00ms
     99%   89.38ms
  11940 requests in 10.00s, 5.00MB read
  Non-2xx or 3xx responses: 3
Requests/sec:   1194.00
Transfer/sec:    512.00KB
`

func TestParse(t *testing.T) {
	r, err := Parse(report)
	if err != nil {
		t.Fatal(err)
	}
	want := Result{RPS: 1194, Requests: 11940, P50: 10430 * time.Microsecond, P99: 89380 * time.Microsecond, Non2xx: 3}
	if r != want {
		t.Errorf("Parse = %+v, want %+v", r, want)
	}
	if _, err := Parse("wrk: connection refused"); err == nil {
		t.Error("a report without Requests/sec parsed")
	}
}
