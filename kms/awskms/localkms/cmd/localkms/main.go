// Command localkms serves an AWS-KMS-compatible API (github.com/nsmithuk/local-kms,
// with the fixes of package localkms) on a loopback address, for piiguard's
// end-to-end tests: scripts/integration.sh builds and starts it.
//
//	localkms -addr 127.0.0.1:PORT -dir DATA
//
// It answers for region eu-west-2 and account 111122223333, accepts any
// credentials, and refuses to listen on anything but a loopback address.
package main

import (
	"flag"
	"fmt"
	"net"
	"net/http"
	"os"

	"github.com/piiguard/piiguard/kms/awskms/localkms"
)

func main() {
	addr := flag.String("addr", "127.0.0.1:4599", "loopback `address` to listen on")
	dir := flag.String("dir", "", "`folder` for the keys (required)")
	flag.Parse()
	if err := serve(*addr, *dir); err != nil {
		fmt.Fprintln(os.Stderr, "localkms:", err)
		os.Exit(1)
	}
}

func serve(addr, dir string) error {
	if dir == "" {
		return fmt.Errorf("-dir is required")
	}
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return err
	}
	if ip := net.ParseIP(host); ip == nil || !ip.IsLoopback() {
		return fmt.Errorf("-addr must be a loopback address, as 127.0.0.1:4599")
	}
	s := localkms.New(dir)
	defer s.Close()
	l, err := net.Listen("tcp", addr)
	if err != nil {
		return err
	}
	fmt.Fprintf(os.Stderr, "localkms: serving http://%s\n", l.Addr())
	return http.Serve(l, s)
}
