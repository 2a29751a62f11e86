package faulttest

import (
	"io"
	"net"
	"sync"
	"testing"
)

// proxy forwards TCP connections on a local address to target. Cut closes the listener and
// every connection, as a database going down does (clients see resets, then connection
// refused); Restore listens on the same address again, as the restarted database does.
type proxy struct {
	t      testing.TB
	addr   string
	target string

	mu    sync.Mutex
	ln    net.Listener
	conns map[net.Conn]struct{}
}

func newProxy(t testing.TB, target string) *proxy {
	t.Helper()
	p := &proxy{t: t, addr: "127.0.0.1:0", target: target, conns: map[net.Conn]struct{}{}}
	p.Restore()
	t.Cleanup(p.Cut)
	return p
}

// Addr is where clients connect.
func (p *proxy) Addr() string { p.mu.Lock(); defer p.mu.Unlock(); return p.addr }

// Restore starts listening (again) on the proxy's address.
func (p *proxy) Restore() {
	p.mu.Lock()
	defer p.mu.Unlock()
	ln, err := net.Listen("tcp", p.addr)
	if err != nil {
		p.t.Fatalf("proxy: listen on %s: %v", p.addr, err)
	}
	p.ln, p.addr = ln, ln.Addr().String()
	go p.accept(ln)
}

// Cut stops listening and closes every connection.
func (p *proxy) Cut() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.ln != nil {
		p.ln.Close()
		p.ln = nil
	}
	for c := range p.conns {
		c.Close()
	}
	clear(p.conns)
}

func (p *proxy) accept(ln net.Listener) {
	for {
		c, err := ln.Accept()
		if err != nil {
			return
		}
		s, err := net.Dial("tcp", p.target)
		if err != nil {
			c.Close()
			continue
		}
		p.mu.Lock()
		if p.ln != ln { // cut while dialing
			p.mu.Unlock()
			c.Close()
			s.Close()
			return
		}
		p.conns[c], p.conns[s] = struct{}{}, struct{}{}
		p.mu.Unlock()
		go p.pipe(c, s)
		go p.pipe(s, c)
	}
}

func (p *proxy) pipe(dst, src net.Conn) {
	_, _ = io.Copy(dst, src)
	dst.Close()
	src.Close()
	p.mu.Lock()
	delete(p.conns, dst)
	delete(p.conns, src)
	p.mu.Unlock()
}
