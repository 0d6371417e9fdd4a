package access

import "net/http"

// Authenticator is the host application's own authentication of an HTTP
// request: it returns who is calling and for what purpose, or an error if
// the request is not authenticated. piiguard never checks credentials
// itself. Its error is never shown to the client.
type Authenticator func(r *http.Request) (Principal, Purpose, error)

// Middleware returns net/http middleware that calls auth for each request
// and passes the request on with the principal and purpose in its context
// (see PrincipalFrom and PurposeFrom).
//
// When auth returns an error, or a principal without an ID, the middleware
// answers 401 Unauthorized with a fixed body and does not call the next
// handler: the client learns nothing of why. Middleware panics if auth is
// nil.
func Middleware(auth Authenticator) func(http.Handler) http.Handler {
	if auth == nil {
		panic("access: Middleware called with a nil Authenticator")
	}
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			p, purpose, err := auth(r)
			if err != nil || p.IsZero() {
				w.Header().Set("Cache-Control", "no-store")
				http.Error(w, http.StatusText(http.StatusUnauthorized), http.StatusUnauthorized)
				return
			}
			ctx := WithPrincipal(r.Context(), p)
			if purpose != "" {
				ctx = WithPurpose(ctx, purpose)
			}
			next.ServeHTTP(w, r.WithContext(ctx))
		})
	}
}
