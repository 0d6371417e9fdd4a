package access_test

import (
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/piiguard/piiguard/access"
)

func TestMiddlewarePutsPrincipalAndPurposeInTheContext(t *testing.T) {
	auth := func(r *http.Request) (access.Principal, access.Purpose, error) {
		return access.Principal{ID: r.Header.Get("X-User"), Roles: []string{"support"}}, access.Purpose(r.Header.Get("X-Purpose")), nil
	}
	var got access.Principal
	var purpose access.Purpose
	var hasPurpose bool
	h := access.Middleware(auth)(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got, _ = access.PrincipalFrom(r.Context())
		purpose, hasPurpose = access.PurposeFrom(r.Context())
		w.WriteHeader(http.StatusNoContent)
	}))

	req := httptest.NewRequest(http.MethodGet, "/customers/1", nil)
	req.Header.Set("X-User", "emp-7")
	req.Header.Set("X-Purpose", "support")
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	assert.Equal(t, http.StatusNoContent, rec.Code)
	assert.Equal(t, "emp-7", got.ID)
	assert.Equal(t, access.PurposeSupport, purpose)

	req.Header.Del("X-Purpose")
	rec = httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	assert.Equal(t, http.StatusNoContent, rec.Code)
	assert.False(t, hasPurpose)
}

func TestMiddlewareAnswers401WithoutDetails(t *testing.T) {
	secret := "token 8f3a expired for jane.roe@example.com"
	for name, auth := range map[string]access.Authenticator{
		"error": func(*http.Request) (access.Principal, access.Purpose, error) {
			return access.Principal{}, "", errors.New(secret)
		},
		"error with a principal": func(*http.Request) (access.Principal, access.Purpose, error) {
			return access.Principal{ID: "emp-1"}, "support", errors.New(secret)
		},
		"no principal": func(*http.Request) (access.Principal, access.Purpose, error) {
			return access.Principal{Roles: []string{"admin"}}, "support", nil
		},
	} {
		t.Run(name, func(t *testing.T) {
			called := false
			h := access.Middleware(auth)(http.HandlerFunc(func(http.ResponseWriter, *http.Request) { called = true }))
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/", nil))
			assert.False(t, called)
			assert.Equal(t, http.StatusUnauthorized, rec.Code)
			assert.Equal(t, "no-store", rec.Header().Get("Cache-Control"))
			body, err := io.ReadAll(rec.Body)
			require.NoError(t, err)
			assert.Equal(t, "Unauthorized\n", string(body))
			assert.NotContains(t, string(body), "jane")
		})
	}
}

func TestMiddlewarePanicsOnNilAuthenticator(t *testing.T) {
	assert.Panics(t, func() { access.Middleware(nil) })
}
