package blobtest

import (
	"crypto/sha256"
	"errors"
	"hash"
	"io"
	"math/rand/v2"
)

// Stream is a deterministic pseudo-random source of n bytes that never holds more than the
// caller's buffer: tests write multi-MiB objects without the test holding them, and compare
// SHA-256 digests instead of bytes.
type Stream struct {
	rng  *rand.ChaCha8
	left int64
	sum  hash.Hash
	// after, when set, is called once when Read has produced atLeast bytes.
	after   func()
	atLeast int64
	done    int64
}

// NewStream returns a source of n bytes determined by seed.
func NewStream(seed byte, n int64) *Stream {
	var s [32]byte
	s[0] = seed
	return &Stream{rng: rand.NewChaCha8(s), left: n, sum: sha256.New()}
}

// Read implements io.Reader.
func (s *Stream) Read(p []byte) (int, error) {
	if s.left == 0 {
		return 0, io.EOF
	}
	if int64(len(p)) > s.left {
		p = p[:s.left]
	}
	n, _ := s.rng.Read(p)
	s.left -= int64(n)
	s.done += int64(n)
	s.sum.Write(p[:n])
	if s.after != nil && s.done >= s.atLeast {
		f := s.after
		s.after = nil
		f()
	}
	return n, nil
}

// Sum returns the SHA-256 of what Read has produced so far.
func (s *Stream) Sum() [32]byte { return [32]byte(s.sum.Sum(nil)) }

// Drain reads the rest of the stream and returns the SHA-256 of all of it: what an object
// written from the same seed and size must hash to.
func (s *Stream) Drain() [32]byte {
	_, _ = io.Copy(io.Discard, s)
	return s.Sum()
}

// Digest returns the SHA-256 of the n bytes seed produces.
func Digest(seed byte, n int64) [32]byte {
	s := NewStream(seed, n)
	if _, err := io.Copy(io.Discard, s); err != nil {
		panic(err)
	}
	return s.Sum()
}

// errSourceBroken stands for a client that went away mid-body.
var errSourceBroken = errors.New("source broken: client went away")

// failingReader yields n bytes of r, then fails.
type failingReader struct {
	r io.Reader
	n int64
}

func (f *failingReader) Read(p []byte) (int, error) {
	if f.n <= 0 {
		return 0, errSourceBroken
	}
	if int64(len(p)) > f.n {
		p = p[:f.n]
	}
	n, err := f.r.Read(p)
	f.n -= int64(n)
	return n, err
}

// hashReader consumes r and returns its size and SHA-256.
func hashReader(r io.Reader) (int64, [32]byte, error) {
	h := sha256.New()
	n, err := io.Copy(h, r)
	return n, [32]byte(h.Sum(nil)), err
}
