package pkcs11

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"path/filepath"
	"sync"
	"sync/atomic"

	p11 "github.com/miekg/pkcs11"

	"github.com/piiguard/piiguard/internal/errtext"
	"github.com/piiguard/piiguard/kms"
)

// Config opens a root key in a PKCS#11 token. ModulePath, TokenLabel,
// KeyLabel and PIN are required.
type Config struct {
	// ModulePath is the absolute path of the token's PKCS#11 library, for
	// example /usr/lib/softhsm/libsofthsm2.so.
	ModulePath string
	// TokenLabel selects the token by its label (at most 32 bytes).
	TokenLabel string
	// TokenSerial, if set, must also match the token's serial number: use
	// it when several tokens share a label.
	TokenSerial string
	// KeyLabel is the CKA_LABEL of the AES-256 secret key.
	KeyLabel string
	// PIN is the token's user PIN. It is kept in memory for as long as the
	// driver is open (to log in again after a token comes back) and never
	// shown.
	PIN PIN
	// CreateKey makes Open generate the key in the token when no key has
	// KeyLabel: AES-256, CKA_TOKEN, CKA_PRIVATE, CKA_SENSITIVE, not
	// CKA_EXTRACTABLE, usable for encryption and decryption only.
	CreateKey bool
	// MaxSessions bounds the sessions the driver keeps open with the token:
	// at most that many Wrap and Unwrap calls run at once; others wait.
	// Default 8, at most 1024.
	MaxSessions int
}

// DefaultMaxSessions is the size of a driver's session pool when
// Config.MaxSessions is zero.
const DefaultMaxSessions = 8

// Driver is a kms.Driver over an AES-256 key inside a PKCS#11 token. The
// key never leaves the token: Wrap and Unwrap send the data to the token,
// which encrypts or decrypts it with CKM_AES_GCM.
//
// A Driver keeps a pool of up to Config.MaxSessions sessions, logged in
// once, so that concurrent calls run in parallel on the token. When the
// token, its sessions or the library are lost (a device error, a removed
// token, an HSM restart), calls fail with kms.ErrUnavailable and the driver
// reconnects on the next call: it opens new sessions and logs in again,
// finds the token and the key again, and, if that fails, finalises and
// initialises the library (at most once a second per library).
//
// A Driver is safe for concurrent use. Its String, GoString, Format,
// LogValue and MarshalJSON name the token and the key, never the PIN.
type Driver struct {
	token  string
	serial string
	label  string
	pin    []byte
	mod    *module
	pool   *sessionPool

	mu     sync.RWMutex // calls hold it for reading, Close for writing
	closed bool

	resolveMu sync.Mutex            // one resolution at a time
	st        atomic.Pointer[state] // nil: resolve before the next call
}

// state is what a driver found in one generation of its module.
type state struct {
	gen         uint64
	slot        uint
	tokenSerial string
	key         p11.ObjectHandle
}

var _ kms.Driver = (*Driver)(nil)

// Open opens the key cfg names, creating it if cfg.CreateKey is set and no
// key has its label. It loads and initialises the library if no other
// driver in the process uses it, finds the token by label, logs in, and
// checks that the key is an AES-256 key that is sensitive and cannot be
// extracted.
//
// Errors: kms.ErrInvalidArgument for a bad Config, several tokens or keys
// matching, or a key that is extractable, not sensitive, not AES-256 or not
// usable for encryption; kms.ErrNotFound for a missing library, token or
// key; kms.ErrPermissionDenied for a wrong or locked PIN;
// kms.ErrUnavailable when the token cannot be reached. No error holds the
// PIN.
func Open(ctx context.Context, cfg Config) (*Driver, error) {
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("pkcs11: open: %w", err)
	}
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	max := cfg.MaxSessions
	if max == 0 {
		max = DefaultMaxSessions
	}
	mod, err := acquireModule(cfg.ModulePath)
	if err != nil {
		return nil, err
	}
	d := &Driver{
		token:  cfg.TokenLabel,
		serial: cfg.TokenSerial,
		label:  cfg.KeyLabel,
		pin:    []byte(cfg.PIN.Reveal()),
		mod:    mod,
		pool:   newSessionPool(max),
	}
	gen, ok := mod.generation()
	var st *state
	if !ok {
		err = fmt.Errorf("pkcs11: module %q is not initialised: %w", cfg.ModulePath, kms.ErrUnavailable)
	} else {
		st, err = d.resolve(gen, cfg.CreateKey, kms.ErrNotFound)
	}
	if err != nil {
		d.closeSessions(d.pool.drain())
		clear(d.pin)
		mod.release()
		return nil, d.err("open", err)
	}
	d.st.Store(st)
	return d, nil
}

func (c *Config) validate() error {
	bad := func(reason string) error {
		return errtext.Tagged(kms.ErrInvalidArgument, "pkcs11: config: %s", reason)
	}
	switch {
	case c.ModulePath == "":
		return bad("ModulePath is required")
	case !filepath.IsAbs(c.ModulePath):
		return bad("ModulePath must be an absolute path")
	case c.TokenLabel == "":
		return bad("TokenLabel is required")
	case len(c.TokenLabel) > 32:
		return bad("TokenLabel is longer than 32 bytes, the most a PKCS#11 token label holds")
	case len(c.TokenSerial) > 16:
		return bad("TokenSerial is longer than 16 bytes, the most a PKCS#11 serial number holds")
	case c.KeyLabel == "":
		return bad("KeyLabel is required")
	case c.PIN.IsZero():
		return bad("PIN is required")
	case c.MaxSessions < 0 || c.MaxSessions > maxSessionsLimit:
		return bad(fmt.Sprintf("MaxSessions must be from 0 (default) to %d", maxSessionsLimit))
	}
	return nil
}

// Token returns the label of the driver's token.
func (d *Driver) Token() string { return d.token }

// KeyLabel returns the label of the driver's key.
func (d *Driver) KeyLabel() string { return d.label }

// String names the token and the key; it never shows the PIN.
func (d *Driver) String() string {
	return fmt.Sprintf("pkcs11.Driver(token=%q, object=%q)", d.token, d.label)
}

// GoString is String.
func (d *Driver) GoString() string { return d.String() }

// Format writes String for every verb.
func (d *Driver) Format(f fmt.State, verb rune) { _, _ = io.WriteString(f, d.String()) }

// LogValue logs String.
func (d *Driver) LogValue() slog.Value { return slog.StringValue(d.String()) }

// MarshalJSON encodes String as a JSON string.
func (d *Driver) MarshalJSON() ([]byte, error) { return json.Marshal(d.String()) }

func (d *Driver) err(op string, err error) error {
	return fmt.Errorf("pkcs11: %s with key %q on token %q: %w", op, d.label, d.token, err)
}

// Wrap encrypts plaintext (at most 64 KiB) in the token with AES-256-GCM
// under a fresh random 96-bit IV, bound to associatedData, and returns it
// in the version 1 format of the package documentation.
func (d *Driver) Wrap(ctx context.Context, plaintext, associatedData []byte) ([]byte, error) {
	if len(plaintext) > maxPlaintext {
		return nil, d.err("wrap", fmt.Errorf("plaintext of %d bytes is larger than %d: %w", len(plaintext), maxPlaintext, kms.ErrInvalidArgument))
	}
	var out []byte
	err := d.do(ctx, "wrap", func(c *p11.Ctx, s p11.SessionHandle, key p11.ObjectHandle) error {
		iv := make([]byte, ivSize)
		if _, err := rand.Read(iv); err != nil {
			return fmt.Errorf("random IV: %w: %w", kms.ErrBackend, err)
		}
		gp := p11.NewGCMParams(iv, gcmAD(associatedData), tagBits)
		defer gp.Free()
		if err := c.EncryptInit(s, []*p11.Mechanism{p11.NewMechanism(p11.CKM_AES_GCM, gp)}, key); err != nil {
			return mapErr(stageOther, "C_EncryptInit", err)
		}
		sealed, err := c.Encrypt(s, plaintext)
		if err != nil {
			return mapErr(stageOther, "C_Encrypt", err)
		}
		if len(sealed) != len(plaintext)+tagSize {
			return fmt.Errorf("C_Encrypt returned %d bytes for %d: %w", len(sealed), len(plaintext), kms.ErrBackend)
		}
		// Some tokens write an IV of their own choosing into the
		// parameters: the ciphertext carries the one actually used.
		if used := gp.IV(); len(used) == ivSize {
			iv = used
		}
		out = sealedBlob{iv: iv, sealed: sealed}.marshal()
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// Unwrap decrypts a ciphertext made by Wrap with the same key and
// associated data. A ciphertext that is malformed, changed, bound to other
// associated data or made under another key fails with
// kms.ErrInvalidCiphertext.
func (d *Driver) Unwrap(ctx context.Context, ciphertext, associatedData []byte) ([]byte, error) {
	blob, err := parseBlob(ciphertext)
	if err != nil {
		// Still honour the contract on a closed driver and a done context.
		if cerr := d.precheck(ctx); cerr != nil {
			return nil, d.err("unwrap", cerr)
		}
		return nil, d.err("unwrap", err)
	}
	var out []byte
	err = d.do(ctx, "unwrap", func(c *p11.Ctx, s p11.SessionHandle, key p11.ObjectHandle) error {
		gp := p11.NewGCMParams(blob.iv, gcmAD(associatedData), tagBits)
		defer gp.Free()
		if err := c.DecryptInit(s, []*p11.Mechanism{p11.NewMechanism(p11.CKM_AES_GCM, gp)}, key); err != nil {
			return mapErr(stageOther, "C_DecryptInit", err)
		}
		pt, err := c.Decrypt(s, blob.sealed)
		if err != nil {
			return mapErr(stageDecrypt, "C_Decrypt", err)
		}
		if len(pt) != len(blob.sealed)-tagSize {
			clear(pt)
			return fmt.Errorf("C_Decrypt returned %d bytes for %d: %w", len(pt), len(blob.sealed)-tagSize, kms.ErrBackend)
		}
		if pt == nil {
			pt = []byte{}
		}
		out = pt
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

func (d *Driver) precheck(ctx context.Context) error {
	d.mu.RLock()
	defer d.mu.RUnlock()
	if d.closed {
		return kms.ErrClosed
	}
	return ctx.Err()
}

// Close closes the driver's sessions and, if it was the last driver using
// the library, finalises the library. It waits for calls in flight. It is
// idempotent; Wrap and Unwrap fail with kms.ErrClosed afterwards.
func (d *Driver) Close() error {
	d.mu.Lock()
	if d.closed {
		d.mu.Unlock()
		return nil
	}
	d.closed = true
	d.mu.Unlock()
	d.closeSessions(d.pool.drain())
	clear(d.pin)
	d.mod.release()
	return nil
}

// do runs f on a session of the pool with the key's handle.
func (d *Driver) do(ctx context.Context, op string, f func(*p11.Ctx, p11.SessionHandle, p11.ObjectHandle) error) error {
	d.mu.RLock()
	defer d.mu.RUnlock()
	if d.closed {
		return d.err(op, kms.ErrClosed)
	}
	if err := ctx.Err(); err != nil {
		return d.err(op, err)
	}
	st, err := d.ready()
	if err != nil {
		return d.err(op, err)
	}
	var s *session
	for {
		s, err = d.pool.get(ctx, func() (*session, error) { return d.openSession(st) })
		if err != nil {
			if errors.Is(err, kms.ErrUnavailable) {
				d.st.CompareAndSwap(st, nil)
			}
			return d.err(op, err)
		}
		if s.gen == st.gen {
			break
		}
		d.closeSessions([]*session{s}) // from before a reconnection
		d.pool.forget(s)
	}
	if err := ctx.Err(); err != nil {
		d.pool.put(s)
		return d.err(op, err)
	}

	d.mod.mu.RLock()
	if !d.mod.initialized || d.mod.gen != s.gen {
		d.mod.mu.RUnlock()
		d.pool.forget(s) // its handle died with its generation
		d.st.CompareAndSwap(st, nil)
		return d.err(op, fmt.Errorf("the library was re-initialised: %w", kms.ErrUnavailable))
	}
	err = f(d.mod.ctx, s.h, st.key)
	d.mod.mu.RUnlock()

	if sessionUnusable(err) {
		d.closeSessions([]*session{s})
		d.pool.forget(s)
	} else {
		d.pool.put(s)
	}
	if err != nil {
		if errors.Is(err, kms.ErrUnavailable) {
			d.st.CompareAndSwap(st, nil)
		}
		return d.err(op, err)
	}
	return nil
}

// ready returns the driver's state, reconnecting first if a call found the
// token, the session or the library gone, or if the library was reset.
func (d *Driver) ready() (*state, error) {
	current := func() *state {
		st := d.st.Load()
		if st == nil {
			return nil
		}
		if gen, ok := d.mod.generation(); !ok || gen != st.gen {
			return nil
		}
		return st
	}
	if st := current(); st != nil {
		return st, nil
	}
	d.resolveMu.Lock()
	defer d.resolveMu.Unlock()
	if st := current(); st != nil {
		return st, nil
	}
	d.st.Store(nil)
	d.closeSessions(d.pool.drain())

	// A token or key that was there when the driver opened and cannot be
	// found now is taken for an outage (a token whose storage is away
	// looks the same as one whose key was deleted): ErrUnavailable.
	gen, ok := d.mod.generation()
	var st *state
	err := fmt.Errorf("the library is not initialised: %w", kms.ErrUnavailable)
	if ok {
		st, err = d.resolve(gen, false, kms.ErrUnavailable)
	}
	if err != nil && errors.Is(err, kms.ErrUnavailable) {
		// Sessions and handles were not enough: start the library again.
		if rerr := d.mod.reset(gen); rerr != nil {
			return nil, fmt.Errorf("%w (reconnecting: %v)", err, rerr)
		}
		if gen, ok = d.mod.generation(); ok {
			st, err = d.resolve(gen, false, kms.ErrUnavailable)
		}
	}
	if err != nil {
		return nil, err
	}
	d.st.Store(st)
	return st, nil
}

// resolve finds the token and the key in generation gen of the module,
// logging in, and creating the key if create is set. A missing token or
// key is reported with the sentinel missing. The session it used is kept
// in the pool.
func (d *Driver) resolve(gen uint64, create bool, missing error) (*state, error) {
	d.mod.mu.RLock()
	defer d.mod.mu.RUnlock()
	if !d.mod.initialized || d.mod.gen != gen {
		return nil, fmt.Errorf("the library was re-initialised: %w", kms.ErrUnavailable)
	}
	c := d.mod.ctx
	st := &state{gen: gen}
	var err error
	if st.slot, st.tokenSerial, err = d.findToken(c, missing); err != nil {
		return nil, err
	}
	h, err := c.OpenSession(st.slot, p11.CKF_SERIAL_SESSION)
	if err != nil {
		return nil, mapErr(stageOther, "C_OpenSession", err)
	}
	keep := false
	defer func() {
		if !keep {
			_ = c.CloseSession(h)
		}
	}()
	if err := d.login(c, h, st.tokenSerial); err != nil {
		return nil, err
	}
	st.key, err = d.findKey(c, h, missing)
	if errors.Is(err, missing) && create {
		st.key, err = d.createKey(c, st.slot, missing)
	}
	if err != nil {
		return nil, err
	}
	if err := d.checkKey(c, h, st.key); err != nil {
		return nil, err
	}
	keep = d.pool.adopt(&session{h: h, gen: gen})
	return st, nil
}

// findToken returns the slot of the one token with the driver's label (and
// serial, if set).
func (d *Driver) findToken(c *p11.Ctx, missing error) (uint, string, error) {
	slots, err := c.GetSlotList(true)
	if err != nil {
		return 0, "", mapErr(stageOther, "C_GetSlotList", err)
	}
	var found []uint
	var serial string
	unreadable := 0
	for _, sl := range slots {
		ti, err := c.GetTokenInfo(sl)
		if err != nil {
			unreadable++
			continue
		}
		if ti.Label == d.token && (d.serial == "" || ti.SerialNumber == d.serial) {
			found = append(found, sl)
			serial = ti.SerialNumber
		}
	}
	switch {
	case len(found) == 1:
		return found[0], serial, nil
	case len(found) > 1:
		return 0, "", fmt.Errorf("%d tokens are labelled %q; set the serial to choose one: %w", len(found), d.token, kms.ErrInvalidArgument)
	case unreadable > 0:
		return 0, "", fmt.Errorf("no token labelled %q among the readable ones (%d slots could not be read): %w", d.token, unreadable, kms.ErrUnavailable)
	}
	return 0, "", fmt.Errorf("no token labelled %q: %w", d.token, missing)
}

// login logs the application in to the token through session h, unless it
// already is; then every session of the application with the token is
// logged in. If someone in this process logged in with another PIN, it
// fails with kms.ErrPermissionDenied: a wrong PIN never rides on another
// driver's login.
func (d *Driver) login(c *p11.Ctx, h p11.SessionHandle, tokenSerial string) error {
	d.mod.loginMu.Lock()
	defer d.mod.loginMu.Unlock()
	mac := d.mod.pinMAC(d.pin)
	check := func() error {
		if rec, ok := d.mod.logins[tokenSerial]; ok && !hmac.Equal(rec, mac) {
			return fmt.Errorf("the token is logged in with another PIN: %w", kms.ErrPermissionDenied)
		}
		return nil
	}
	info, err := c.GetSessionInfo(h)
	if err != nil {
		return mapErr(stageOther, "C_GetSessionInfo", err)
	}
	if info.State == p11.CKS_RO_USER_FUNCTIONS || info.State == p11.CKS_RW_USER_FUNCTIONS {
		return check()
	}
	err = c.Login(h, p11.CKU_USER, string(d.pin))
	if rv, ok := returnValue(err); ok && rv == p11.CKR_USER_ALREADY_LOGGED_IN {
		return check()
	}
	if err != nil {
		return mapErr(stageOther, "C_Login", err)
	}
	if d.mod.logins == nil {
		d.mod.logins = make(map[string][]byte)
	}
	d.mod.logins[tokenSerial] = mac
	return nil
}

func (d *Driver) keyTemplate() []*p11.Attribute {
	return []*p11.Attribute{
		p11.NewAttribute(p11.CKA_CLASS, p11.CKO_SECRET_KEY),
		p11.NewAttribute(p11.CKA_KEY_TYPE, p11.CKK_AES),
		p11.NewAttribute(p11.CKA_LABEL, d.label),
	}
}

// findKey returns the handle of the one AES key with the driver's label.
func (d *Driver) findKey(c *p11.Ctx, h p11.SessionHandle, missing error) (p11.ObjectHandle, error) {
	if err := c.FindObjectsInit(h, d.keyTemplate()); err != nil {
		return 0, mapErr(stageOther, "C_FindObjectsInit", err)
	}
	objs, _, err := c.FindObjects(h, 2)
	ferr := c.FindObjectsFinal(h)
	if err != nil {
		return 0, mapErr(stageOther, "C_FindObjects", err)
	}
	if ferr != nil {
		return 0, mapErr(stageOther, "C_FindObjectsFinal", ferr)
	}
	switch len(objs) {
	case 0:
		return 0, fmt.Errorf("no AES key labelled %q: %w", d.label, missing)
	case 1:
		return objs[0], nil
	}
	return 0, errtext.Tagged(kms.ErrInvalidArgument, "several AES keys are labelled %q", d.label)
}

// createKey generates the key in the token, unless it appeared meanwhile.
func (d *Driver) createKey(c *p11.Ctx, slot uint, missing error) (p11.ObjectHandle, error) {
	d.mod.createMu.Lock()
	defer d.mod.createMu.Unlock()
	h, err := c.OpenSession(slot, p11.CKF_SERIAL_SESSION|p11.CKF_RW_SESSION)
	if err != nil {
		return 0, mapErr(stageOther, "C_OpenSession (read-write)", err)
	}
	defer func() { _ = c.CloseSession(h) }()
	if key, err := d.findKey(c, h, missing); !errors.Is(err, missing) {
		return key, err
	}
	tmpl := append(d.keyTemplate(),
		p11.NewAttribute(p11.CKA_ID, []byte(d.label)),
		p11.NewAttribute(p11.CKA_VALUE_LEN, 32),
		p11.NewAttribute(p11.CKA_TOKEN, true),
		p11.NewAttribute(p11.CKA_PRIVATE, true),
		p11.NewAttribute(p11.CKA_SENSITIVE, true),
		p11.NewAttribute(p11.CKA_EXTRACTABLE, false),
		p11.NewAttribute(p11.CKA_ENCRYPT, true),
		p11.NewAttribute(p11.CKA_DECRYPT, true),
		p11.NewAttribute(p11.CKA_WRAP, false),
		p11.NewAttribute(p11.CKA_UNWRAP, false),
		p11.NewAttribute(p11.CKA_SIGN, false),
		p11.NewAttribute(p11.CKA_VERIFY, false),
		p11.NewAttribute(p11.CKA_DERIVE, false),
	)
	key, err := c.GenerateKey(h, []*p11.Mechanism{p11.NewMechanism(p11.CKM_AES_KEY_GEN, nil)}, tmpl)
	if err != nil {
		return 0, mapErr(stageOther, "C_GenerateKey", err)
	}
	return key, nil
}

// checkKey refuses a key that is not a sensitive, non-extractable AES-256
// key allowed to encrypt and decrypt.
func (d *Driver) checkKey(c *p11.Ctx, h p11.SessionHandle, key p11.ObjectHandle) error {
	attrs, err := c.GetAttributeValue(h, key, []*p11.Attribute{
		p11.NewAttribute(p11.CKA_VALUE_LEN, nil),
		p11.NewAttribute(p11.CKA_SENSITIVE, nil),
		p11.NewAttribute(p11.CKA_EXTRACTABLE, nil),
		p11.NewAttribute(p11.CKA_ENCRYPT, nil),
		p11.NewAttribute(p11.CKA_DECRYPT, nil),
	})
	if err != nil {
		return mapErr(stageOther, "C_GetAttributeValue", err)
	}
	bad := func(reason string) error {
		return errtext.Tagged(kms.ErrInvalidArgument, "key %q %s", d.label, reason)
	}
	for _, a := range attrs {
		switch a.Type {
		case p11.CKA_VALUE_LEN:
			if n, ok := ulong(a.Value); !ok || n != 32 {
				return bad("is not a 256-bit AES key")
			}
		case p11.CKA_SENSITIVE:
			if !boolAttr(a.Value) {
				return bad("is not sensitive (CKA_SENSITIVE false): piiguard uses only keys whose value the token never reveals")
			}
		case p11.CKA_EXTRACTABLE:
			if boolAttr(a.Value) {
				return bad("is extractable (CKA_EXTRACTABLE true): piiguard uses only keys that cannot leave the token")
			}
		case p11.CKA_ENCRYPT, p11.CKA_DECRYPT:
			if !boolAttr(a.Value) {
				return bad("may not encrypt and decrypt (CKA_ENCRYPT, CKA_DECRYPT)")
			}
		}
	}
	return nil
}

func boolAttr(v []byte) bool { return len(v) == 1 && v[0] != 0 }

func ulong(v []byte) (uint64, bool) {
	switch len(v) {
	case 8:
		return binary.NativeEndian.Uint64(v), true
	case 4:
		return uint64(binary.NativeEndian.Uint32(v)), true
	}
	return 0, false
}

// openSession opens and logs in a session for the pool.
func (d *Driver) openSession(st *state) (*session, error) {
	d.mod.mu.RLock()
	defer d.mod.mu.RUnlock()
	if !d.mod.initialized || d.mod.gen != st.gen {
		return nil, fmt.Errorf("the library was re-initialised: %w", kms.ErrUnavailable)
	}
	c := d.mod.ctx
	h, err := c.OpenSession(st.slot, p11.CKF_SERIAL_SESSION)
	if err != nil {
		return nil, mapErr(stageOther, "C_OpenSession", err)
	}
	if err := d.login(c, h, st.tokenSerial); err != nil {
		_ = c.CloseSession(h)
		return nil, err
	}
	return &session{h: h, gen: st.gen}, nil
}

// closeSessions closes sessions of the module's current generation; the
// handles of older ones are dead and are only dropped.
func (d *Driver) closeSessions(ss []*session) {
	if len(ss) == 0 {
		return
	}
	d.mod.mu.RLock()
	defer d.mod.mu.RUnlock()
	for _, s := range ss {
		if d.mod.initialized && s.gen == d.mod.gen {
			_ = d.mod.ctx.CloseSession(s.h)
		}
	}
}
