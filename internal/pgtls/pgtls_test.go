package pgtls

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/piiguard/piiguard"
)

const secret = "S3cret-Pg-Walrus"

func TestCheck(t *testing.T) {
	t.Setenv("PGSSLMODE", "")
	ok := []string{
		"postgres://app:" + secret + "@db.example.com:5432/app?sslmode=verify-full",
		"host=db.example.com dbname=app password=" + secret + " sslmode=verify-full",
		"postgres://app:" + secret + "@127.0.0.1:5432/app?sslmode=disable",
		"postgres://app@localhost/app",
		"postgres://app@[::1]:5432/app?sslmode=prefer",
		"host=/var/run/postgresql dbname=app",
	}
	for _, dsn := range ok {
		assert.NoError(t, Check(dsn, ""), dsn)
	}
	bad := map[string]string{
		"postgres://app:" + secret + "@db.example.com/app":                   "could go unencrypted",
		"postgres://app:" + secret + "@db.example.com/app?sslmode=prefer":    "could go unencrypted",
		"postgres://app:" + secret + "@db.example.com/app?sslmode=disable":   "could go unencrypted",
		"postgres://app:" + secret + "@db.example.com/app?sslmode=allow":     "could go unencrypted",
		"postgres://app:" + secret + "@db.example.com/app?sslmode=require":   "not verified",
		"postgres://app:" + secret + "@db.example.com/app?sslmode=verify-ca": "not verified",
		"postgres://app:" + secret + "@127.0.0.1,db.example.com/app":         "could go unencrypted",
		"postgres://app:" + secret + "@db.example.com/app?sslmode=bogus":     "does not parse",
	}
	for dsn, want := range bad {
		err := Check(dsn, "")
		require.Error(t, err, dsn)
		assert.ErrorIs(t, err, piiguard.ErrInvalidArgument)
		assert.Contains(t, err.Error(), want, dsn)
		assert.NotContains(t, err.Error(), secret)
		assert.NotContains(t, err.Error(), "app:"+secret)
	}
	// require with a stated reason.
	assert.NoError(t, Check("postgres://app@db.example.com/app?sslmode=require", "managed service with a rotating CA we cannot pin"))
	assert.Error(t, Check("postgres://app@db.example.com/app?sslmode=prefer", "a reason does not excuse plain text"))
}

func TestCheckHonoursPGSSLMODE(t *testing.T) {
	t.Setenv("PGSSLMODE", "disable")
	assert.Error(t, Check("postgres://app@db.example.com/app", ""))
	t.Setenv("PGSSLMODE", "verify-full")
	assert.NoError(t, Check("postgres://app@db.example.com/app", ""))
}

func TestDescribe(t *testing.T) {
	t.Setenv("PGSSLMODE", "")
	assert.Equal(t, "loopback", Describe("postgres://app@127.0.0.1/app", ""))
	assert.Equal(t, "TLS, server verified", Describe("postgres://app@db.example.com/app?sslmode=verify-full", ""))
	assert.Contains(t, Describe("postgres://app@db.example.com/app?sslmode=require", "managed CA"), "not verified (reason: managed CA)")
}
