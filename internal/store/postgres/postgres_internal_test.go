package postgres

import (
	"runtime"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

func TestOpenPoolConfig(t *testing.T) {
	for _, c := range []struct {
		url         string
		maxConns    int32
		connTimeout time.Duration
		mode        pgx.QueryExecMode
	}{
		{"postgres://u@h/db", maxConns(), connectTimeout, pgx.QueryExecModeCacheStatement},
		{"postgresql://u@h/db?pool_max_conns=3&connect_timeout=2", 3, 2 * time.Second, pgx.QueryExecModeCacheStatement},
		{"postgresql://u@h/db?default_query_exec_mode=exec", maxConns(), connectTimeout, pgx.QueryExecModeExec},
	} {
		db, err := Open(t.Context(), c.url)
		if err != nil {
			t.Fatalf("Open(%s): %v", c.url, err)
		}
		cfg := db.pool.Config()
		if cfg.MaxConns != c.maxConns || cfg.ConnConfig.ConnectTimeout != c.connTimeout {
			t.Errorf("Open(%s): MaxConns %d, ConnectTimeout %s; want %d, %s", c.url, cfg.MaxConns, cfg.ConnConfig.ConnectTimeout, c.maxConns, c.connTimeout)
		}
		if got := cfg.ConnConfig.DefaultQueryExecMode; got != c.mode {
			t.Errorf("Open(%s): query exec mode %v, want %v (statements cached unless the URL says otherwise)", c.url, got, c.mode)
		}
		db.Close()
	}
}

// The pool is sized from the CPUs the process may use: 4 for a 0.25 vCPU task (GOMAXPROCS 2),
// more on a bigger one.
func TestMaxConnsFollowsCPU(t *testing.T) {
	for procs, want := range map[int]int32{1: 4, 2: 4, 4: 8} {
		old := runtime.GOMAXPROCS(procs)
		got := maxConns()
		runtime.GOMAXPROCS(old)
		if got != want {
			t.Errorf("GOMAXPROCS %d: %d connections, want %d", procs, got, want)
		}
	}
}
