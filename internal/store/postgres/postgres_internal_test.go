package postgres

import (
	"testing"
	"time"
)

func TestOpenPoolConfig(t *testing.T) {
	for _, c := range []struct {
		url         string
		maxConns    int32
		connTimeout time.Duration
	}{
		{"postgres://u@h/db", maxConns, connectTimeout},
		{"postgresql://u@h/db?pool_max_conns=3&connect_timeout=2", 3, 2 * time.Second},
	} {
		db, err := Open(t.Context(), c.url)
		if err != nil {
			t.Fatalf("Open(%s): %v", c.url, err)
		}
		cfg := db.pool.Config()
		if cfg.MaxConns != c.maxConns || cfg.ConnConfig.ConnectTimeout != c.connTimeout {
			t.Errorf("Open(%s): MaxConns %d, ConnectTimeout %s; want %d, %s", c.url, cfg.MaxConns, cfg.ConnConfig.ConnectTimeout, c.maxConns, c.connTimeout)
		}
		db.Close()
	}
}
