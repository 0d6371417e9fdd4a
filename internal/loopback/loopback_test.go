package loopback

import (
	"testing"

	"github.com/stretchr/testify/assert"
)

func TestHost(t *testing.T) {
	for _, h := range []string{"localhost", "localhost:8200", "LOCALHOST.", "vault.localhost", "127.0.0.1", "127.1.2.3:5432", "[::1]:8200", "::1", "::ffff:127.0.0.1", "/var/run/postgresql", "/tmp/piiguard-pg.x/run"} {
		assert.True(t, Host(h), h)
	}
	for _, h := range []string{"", "vault.example.com", "10.0.0.1:8200", "[2001:db8::1]:443", "localhost.example.com", "127.0.0.1.nip.io", "0.0.0.0", "169.254.1.1"} {
		assert.False(t, Host(h), h)
	}
}
