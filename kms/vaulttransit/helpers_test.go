package vaulttransit_test

import (
	"net/http"
	"net/http/httptest"
	"testing"
)

// newTestServer serves h on 127.0.0.1 until the end of t and returns its URL.
func newTestServer(t testing.TB, h http.HandlerFunc) string {
	t.Helper()
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	return srv.URL
}
