// Package testnet gives tests loopback addresses to listen on. Tests
// only: non-test code must not import it (internal/archtest).
package testnet

import (
	"math/rand/v2"
	"net"
	"strconv"
	"testing"
)

// Ports are picked below Linux's ephemeral range (32768-60999 by
// default). A port from 127.0.0.1:0 comes from that range, so between
// the check here and the caller's own listen, any outgoing connection of
// a test running in parallel could take it.
const lowPort, highPort = 10000, 32767

// FreeAddr returns a 127.0.0.1 address nothing listened on a moment ago.
func FreeAddr(t testing.TB) string {
	t.Helper()
	for range 100 {
		addr := net.JoinHostPort("127.0.0.1", strconv.Itoa(lowPort+rand.IntN(highPort-lowPort+1)))
		l, err := net.Listen("tcp", addr)
		if err != nil {
			continue
		}
		l.Close()
		return addr
	}
	t.Fatal("testnet: no free loopback port below the ephemeral range")
	return ""
}
