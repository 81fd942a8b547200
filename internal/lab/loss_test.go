package lab

import (
	"net"
	"testing"
	"time"
)

// TestWaitQuiet checks blockSockets on a block of its own: a connection's
// two sockets count while it is open, and waitQuiet returns once it is
// closed (TIME_WAIT does not count).
func TestWaitQuiet(t *testing.T) {
	n := Net{b: 254, s: 254}
	ln, err := net.Listen("tcp", n.IP(1)+":0")
	if err != nil {
		t.Skipf("no listener on %s: %v", n.IP(1), err)
	}
	defer ln.Close()
	accepted := make(chan net.Conn, 1)
	go func() {
		c, _ := ln.Accept()
		accepted <- c
	}()
	c, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	s := <-accepted
	if busy, err := blockSockets(n); err != nil || busy < 2 {
		t.Fatalf("an open connection: %d busy sockets (%v), want 2", busy, err)
	}
	if err := waitQuiet(n, 50*time.Millisecond); err == nil {
		t.Error("waitQuiet returned while the connection was open")
	}
	c.Close()
	s.Close()
	if err := waitQuiet(n, 5*time.Second); err != nil {
		t.Error(err)
	}
}
