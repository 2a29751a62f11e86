package storetest

import (
	"context"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/decagon/decagon/internal/records"
)

// BenchCreate measures Create on s: without an idempotency key, with a new key each time, and
// from parallel goroutines (GOMAXPROCS of them, see -cpu).
func BenchCreate(b *testing.B, s records.Store) {
	ctx := context.Background()
	b.Run("plain", func(b *testing.B) {
		for b.Loop() {
			if _, _, err := s.Create(ctx, newRecord("bench", time.Now()), nil); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("idempotent", func(b *testing.B) {
		for b.Loop() {
			r := newRecord("bench", time.Now())
			if _, _, err := s.Create(ctx, r, key(r.ID, "h")); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("parallel", func(b *testing.B) {
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				if _, _, err := s.Create(ctx, newRecord("bench", time.Now()), nil); err != nil {
					b.Error(err)
					return
				}
			}
		})
	})
}

// BenchGet measures Get on s over a thousand records, sequentially and in parallel.
func BenchGet(b *testing.B, s records.Store) {
	ctx := context.Background()
	ids := make([]string, 1000)
	for i := range ids {
		r := newRecord("bench", time.Now())
		r.Data = []byte(`{"k":"a moderately sized value","n":[1,2,3],"nested":{"ok":true}}`)
		if _, _, err := s.Create(ctx, r, nil); err != nil {
			b.Fatal(err)
		}
		ids[i] = r.ID
	}
	b.Run("sequential", func(b *testing.B) {
		for b.Loop() {
			if _, err := s.Get(ctx, ids[rand.IntN(len(ids))], "bench"); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("parallel", func(b *testing.B) {
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				if _, err := s.Get(ctx, ids[rand.IntN(len(ids))], "bench"); err != nil {
					b.Error(err)
					return
				}
			}
		})
	})
}
