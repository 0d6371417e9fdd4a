// Package pgtls checks that a PostgreSQL connection string keeps its
// connections encrypted and the server authenticated, as piiguard requires
// of every connection it opens: sslmode=verify-full for a server that is
// not on this machine, or sslmode=require (or verify-ca) with a stated
// reason; anything goes over loopback or a Unix socket. The string is read
// by pgx's own parser (pgconn.ParseConfig), so what is checked is what pgx
// will do, PGSSLMODE and the other PG* variables included.
package pgtls

import (
	"crypto/tls"
	"fmt"

	"github.com/jackc/pgx/v5/pgconn"

	"github.com/piiguard/piiguard"
	"github.com/piiguard/piiguard/internal/errtext"
	"github.com/piiguard/piiguard/internal/loopback"
	"github.com/piiguard/piiguard/internal/sqlq"
)

// Check returns nil when every connection dsn can make (each host, and
// each fallback pgx would try) is to this machine or encrypted with the
// server's certificate and name verified. requireReason, when not empty,
// is the caller's stated reason to accept encryption without that
// verification (sslmode=require or verify-ca). The error names the
// database by host, port and name — never the user or the password — and
// wraps piiguard.ErrInvalidArgument.
func Check(dsn, requireReason string) error {
	label := sqlq.PostgresLabel(dsn)
	if label == "" {
		label = "(connection string)"
	}
	cfg, err := pgconn.ParseConfig(dsn)
	if err != nil {
		// pgx's message may quote the string: it is not passed on.
		return errtext.Tagged(piiguard.ErrInvalidArgument, "postgres %s: the connection string does not parse", label)
	}
	type attempt struct {
		host string
		tls  *tls.Config
	}
	attempts := []attempt{{cfg.Host, cfg.TLSConfig}}
	for _, f := range cfg.Fallbacks {
		attempts = append(attempts, attempt{f.Host, f.TLSConfig})
	}
	// The worse case first: a connection that could go in plain text.
	for _, a := range attempts {
		if a.tls == nil && !loopback.Host(a.host) {
			return errtext.Tagged(piiguard.ErrInvalidArgument,
				"postgres %s: a connection to a server on another machine could go unencrypted (sslmode is disable, allow or prefer, or unset): use sslmode=verify-full", label)
		}
	}
	for _, a := range attempts {
		if a.tls != nil && a.tls.InsecureSkipVerify && requireReason == "" && !loopback.Host(a.host) {
			return errtext.Tagged(piiguard.ErrInvalidArgument,
				"postgres %s: the connection is encrypted but the server's certificate or name is not verified (sslmode=require or verify-ca): use sslmode=verify-full, or state why not", label)
		}
	}
	return nil
}

// Describe says in a few words how dsn's first connection is protected,
// for a log line: "loopback", "TLS, server verified", "TLS, server not
// verified (reason: …)". It assumes Check passed.
func Describe(dsn, requireReason string) string {
	cfg, err := pgconn.ParseConfig(dsn)
	switch {
	case err != nil:
		return "unknown"
	case loopback.Host(cfg.Host):
		return "loopback"
	case cfg.TLSConfig != nil && !cfg.TLSConfig.InsecureSkipVerify:
		return "TLS, server verified"
	}
	return fmt.Sprintf("TLS, server not verified (reason: %.80s)", requireReason)
}
