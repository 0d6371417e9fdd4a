package vaulttransit

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"regexp"
	"strings"

	"github.com/piiguard/piiguard/internal/errtext"
	"github.com/piiguard/piiguard/internal/loopback"
	"github.com/piiguard/piiguard/kms"
)

// Options configures a Driver or an Admin.
type Options struct {
	// Token is the Vault token sent in X-Vault-Token. It is kept out of
	// errors, logs and every formatting of a Driver. Set Token or TokenEnv.
	Token string
	// TokenEnv names an environment variable holding the token, read once
	// when the Driver is made. It is used when Token is empty.
	TokenEnv string
	// Namespace is the Vault Enterprise namespace (X-Vault-Namespace), if
	// any.
	Namespace string
	// HTTPClient, when set, is used for requests: give it the TLS
	// configuration (a private CA, a client certificate) your Vault needs.
	// It is copied and its CheckRedirect replaced: redirects are never
	// followed, because Go resends custom headers such as X-Vault-Token
	// to the redirect's host. Default: a client of its own over a clone of
	// http.DefaultTransport (honouring HTTPS_PROXY and friends).
	HTTPClient *http.Client
	// InsecureAllowPlaintextHTTP lets an http:// address reach a Vault that
	// is not on this machine. The Vault token and every data key the root
	// key wraps or unwraps then cross the network in the clear: set it
	// only where something else encrypts the path (a service mesh's mTLS
	// sidecar, say). Without it, http:// is accepted for loopback hosts
	// only (localhost, 127.0.0.0/8, ::1), and https:// everywhere.
	InsecureAllowPlaintextHTTP bool
}

// client speaks Vault's HTTP API: JSON over HTTP with X-Vault-Token, errors
// as {"errors": [...]} with an HTTP status.
type client struct {
	base      *url.URL // the server, e.g. https://vault.example:8200
	namespace string
	token     string
	http      *http.Client
	ownHTTP   bool
}

// maxResponse bounds the body read from Vault.
const maxResponse = 1 << 20

var (
	nameRE      = regexp.MustCompile(`^\w(?:[\w\-.]*\w)?$`) // Vault's GenericNameRegex
	mountPartRE = regexp.MustCompile(`^[\w\-.]+$`)
)

func newClient(address string, opts Options) (*client, error) {
	bad := func(reason string) error {
		return errtext.Tagged(kms.ErrInvalidArgument, "vaulttransit: address %s", reason)
	}
	u, err := url.Parse(address)
	switch {
	case err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "":
		return nil, bad("must be an http or https URL, as https://vault.example:8200")
	case u.User != nil:
		return nil, bad("must not carry user information")
	case (u.Path != "" && u.Path != "/") || u.RawQuery != "" || u.Fragment != "":
		return nil, bad("must be the server only, without a path or query")
	case u.Scheme == "http" && !loopback.Host(u.Host) && !opts.InsecureAllowPlaintextHTTP:
		return nil, bad("uses plain http to a host that is not this machine: the Vault token and the data keys would cross the network unencrypted; use https (or, behind an encrypting proxy, Options.InsecureAllowPlaintextHTTP)")
	}
	token := opts.Token
	if token == "" && opts.TokenEnv != "" {
		v, ok := os.LookupEnv(opts.TokenEnv)
		if !ok || v == "" {
			return nil, errtext.Tagged(kms.ErrInvalidArgument, "vaulttransit: token environment variable %.64q is unset or empty", opts.TokenEnv)
		}
		token = v
	}
	if token == "" {
		return nil, errtext.Tagged(kms.ErrInvalidArgument, "vaulttransit: no Vault token: set Options.Token, Options.TokenEnv or the URI's token_env")
	}
	if strings.ContainsAny(token, "\r\n\x00") {
		return nil, errtext.Tagged(kms.ErrInvalidArgument, "vaulttransit: the Vault token has a line break or NUL")
	}
	c := &client{base: &url.URL{Scheme: u.Scheme, Host: u.Host}, namespace: opts.Namespace, token: token}
	if opts.HTTPClient != nil {
		hc := *opts.HTTPClient
		c.http = &hc
	} else {
		c.http = &http.Client{Transport: http.DefaultTransport.(*http.Transport).Clone()}
		c.ownHTTP = true
	}
	c.http.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	return c, nil
}

func (c *client) close() {
	if c.ownHTTP {
		c.http.CloseIdleConnections()
	}
}

// response is the envelope of Vault's answers.
type response struct {
	Data     json.RawMessage `json:"data"`
	Warnings []string        `json:"warnings"`
	Errors   []string        `json:"errors"`
}

// callError is a failed call: the class, and a description of it that
// holds no secret.
type callError struct {
	class  error
	detail string
}

func (e *callError) Error() string { return e.detail + ": " + e.class.Error() }
func (e *callError) Unwrap() error { return e.class }

// do sends method to path (below /v1/) with body (JSON, may be nil) and
// decodes the answer. On a non-2xx status it returns a *callError whose
// class comes from classify(op, status, errors).
func (c *client) do(ctx context.Context, op, method, path string, body []byte) (*response, error) {
	u := *c.base
	u.Path = "/v1/" + path
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	}
	req, err := http.NewRequestWithContext(ctx, method, u.String(), rd)
	if err != nil {
		return nil, &callError{kms.ErrInvalidArgument, "cannot build the request"}
	}
	req.Header.Set("X-Vault-Token", c.token)
	req.Header.Set("X-Vault-Request", "true")
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if c.namespace != "" {
		req.Header.Set("X-Vault-Namespace", c.namespace)
	}
	resp, err := c.http.Do(req)
	if err != nil {
		if cerr := ctx.Err(); cerr != nil {
			return nil, cerr
		}
		// The text of a transport error names the URL and the network
		// failure; the token is in a header and never in it.
		return nil, &callError{kms.ErrUnavailable, "cannot reach Vault: " + errtext.Safe(errtext.RootCause(err).Error())}
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(io.LimitReader(resp.Body, maxResponse+1))
	defer clear(raw)
	if err != nil {
		if cerr := ctx.Err(); cerr != nil {
			return nil, cerr
		}
		return nil, &callError{kms.ErrUnavailable, fmt.Sprintf("HTTP %d: reading the answer: %s", resp.StatusCode, errtext.Safe(errtext.RootCause(err).Error()))}
	}
	if len(raw) > maxResponse {
		return nil, &callError{kms.ErrBackend, fmt.Sprintf("HTTP %d: answer over %d bytes", resp.StatusCode, maxResponse)}
	}
	var out response
	jsonErr := error(nil)
	if len(bytes.TrimSpace(raw)) > 0 {
		jsonErr = json.Unmarshal(raw, &out)
	}
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		detail := fmt.Sprintf("HTTP %d", resp.StatusCode)
		switch {
		case jsonErr != nil:
			detail += " (not a Vault answer)"
		case len(out.Errors) > 0:
			detail += ": " + errtext.Safe(strings.Join(out.Errors, "; "))
		}
		if resp.StatusCode >= 300 && resp.StatusCode < 400 {
			detail += " (redirect to " + errtext.Safe(resp.Header.Get("Location")) + " not followed: point the address at the active node)"
		}
		return nil, &callError{classify(op, resp.StatusCode, out.Errors), detail}
	}
	if jsonErr != nil {
		return nil, &callError{kms.ErrBackend, fmt.Sprintf("HTTP %d: the answer is not JSON", resp.StatusCode)}
	}
	return &out, nil
}

// classify maps a Vault error answer to a kms sentinel. op is "wrap",
// "unwrap" or an Admin operation.
func classify(op string, status int, errs []string) error {
	msg := strings.ToLower(strings.Join(errs, "; "))
	switch {
	case status == http.StatusBadRequest:
		switch {
		case strings.Contains(msg, "too old"):
			// Below the key's min_decryption_version: reversible by
			// lowering it.
			return kms.ErrDisabled
		case strings.Contains(msg, "not found"):
			return kms.ErrNotFound
		case strings.Contains(msg, "derivation") || strings.Contains(msg, "not supported") || strings.Contains(msg, "associated data"):
			return kms.ErrInvalidArgument
		case op == "unwrap":
			return kms.ErrInvalidCiphertext
		}
		return kms.ErrInvalidArgument
	case status == http.StatusUnauthorized || status == http.StatusForbidden:
		return kms.ErrPermissionDenied
	case status == http.StatusNotFound:
		return kms.ErrNotFound
	case status == http.StatusMethodNotAllowed:
		return kms.ErrInvalidArgument
	case status >= 300 && status < 400, // a standby's redirect
		status == http.StatusPreconditionFailed, // eventual consistency
		status == http.StatusTooManyRequests,    // rate limit quota
		status == 472, status == 473,            // DR secondary, performance standby
		status >= 500:
		return kms.ErrUnavailable
	}
	return kms.ErrBackend
}

// checkMount checks a mount path ("transit", "secrets/transit").
func checkMount(mount string) error {
	if mount == "" {
		return errtext.Tagged(kms.ErrInvalidArgument, "vaulttransit: empty mount path")
	}
	for _, part := range strings.Split(mount, "/") {
		if !mountPartRE.MatchString(part) || part == "." || part == ".." {
			return errtext.Tagged(kms.ErrInvalidArgument, "vaulttransit: mount path %.100q is malformed", mount)
		}
	}
	return nil
}

// checkName checks a Transit key name.
func checkName(name string) error {
	if len(name) > 256 || !nameRE.MatchString(name) {
		return errtext.Tagged(kms.ErrInvalidArgument, "vaulttransit: key name %.100q is malformed (letters, digits, '_', '-', '.')", name)
	}
	return nil
}
