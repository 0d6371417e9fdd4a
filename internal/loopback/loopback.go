// Package loopback tells whether a connection stays on this machine: the
// one case where piiguard lets a plain-text transport (http://, a
// PostgreSQL connection without TLS) through without a loud option.
package loopback

import (
	"net"
	"net/netip"
	"strings"
)

// Host reports whether host — a URL host with or without a port, a bare
// host name or IP address, or a Unix socket path — names this machine:
// "localhost" (and names under ".localhost"), an IPv4 address in
// 127.0.0.0/8, ::1, or a socket path (it starts with '/'). Anything else,
// names that merely resolve to a loopback address included, is not.
func Host(host string) bool {
	if strings.HasPrefix(host, "/") {
		return true
	}
	if h, _, err := net.SplitHostPort(host); err == nil {
		host = h
	}
	host = strings.TrimSuffix(strings.TrimPrefix(host, "["), "]")
	if h := strings.ToLower(strings.TrimSuffix(host, ".")); h == "localhost" || strings.HasSuffix(h, ".localhost") {
		return true
	}
	if a, err := netip.ParseAddr(host); err == nil {
		return a.Unmap().IsLoopback()
	}
	return false
}
