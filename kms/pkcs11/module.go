package pkcs11

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"time"

	p11 "github.com/miekg/pkcs11"

	"github.com/piiguard/piiguard/internal/errtext"
	"github.com/piiguard/piiguard/kms"
)

// A PKCS#11 library is process-wide state: C_Initialize may be called once
// per process, C_Finalize ends every session of every user of the library,
// and logging in to a token logs in all of the application's sessions with
// it. So drivers share one module per library file, reference-counted:
// the first driver loads and initialises it, the last one to close
// finalises it. This registry is the package's only mutable global state;
// it mirrors the library's own.
var registry struct {
	sync.Mutex
	modules map[string]*module
}

// module is one loaded PKCS#11 library.
//
// Every sequence of calls into the library holds mu for reading; reset and
// finalisation hold it for writing, so the library is never finalised under
// a call in flight. gen counts initialisations: session and object handles
// from an earlier generation are dead and must never be passed to the
// library again (a new session may have been given the same number).
type module struct {
	path string
	ctx  *p11.Ctx
	refs int // guarded by registry

	mu          sync.RWMutex
	initialized bool
	ownInit     bool // this package initialised the library (and may finalise it)
	gen         uint64
	lastReset   time.Time

	// loginMu serialises logins, so that the PIN fingerprint recorded for
	// a token is in place before anyone else is told "already logged in".
	loginMu sync.Mutex
	logins  map[string][]byte // token serial → HMAC of the PIN that logged in, this generation
	pinKey  []byte            // random key of those HMACs, per module

	createMu sync.Mutex // serialises key generation
}

// minResetInterval bounds how often a module is finalised and initialised
// again to recover from a lost token or device.
const minResetInterval = time.Second

// acquireModule returns the module of the library at path, loading and
// initialising it if no driver uses it.
func acquireModule(path string) (*module, error) {
	key := path
	if real, err := filepath.EvalSymlinks(path); err == nil {
		key = real
	}
	registry.Lock()
	defer registry.Unlock()
	if m := registry.modules[key]; m != nil {
		if err := m.ensureInitialized(); err != nil {
			return nil, err
		}
		m.refs++
		return m, nil
	}
	if fi, err := os.Stat(path); err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return nil, fmt.Errorf("pkcs11: module %q does not exist: %w", path, kms.ErrNotFound)
		}
		return nil, fmt.Errorf("pkcs11: module %q: %w", path, kms.ErrInvalidArgument)
	} else if !fi.Mode().IsRegular() {
		return nil, errtext.Tagged(kms.ErrInvalidArgument, "pkcs11: module %q is not a regular file", path)
	}
	ctx := p11.New(path)
	if ctx == nil {
		return nil, errtext.Tagged(kms.ErrInvalidArgument, "pkcs11: module %q cannot be loaded as a PKCS#11 library", path)
	}
	pinKey := make([]byte, 32)
	_, _ = rand.Read(pinKey)
	m := &module{path: path, ctx: ctx, pinKey: pinKey}
	if err := m.ensureInitialized(); err != nil {
		// The library stays loaded: unloading a library that may have
		// started threads is not worth the risk. It is reused next time.
		registry.modules = mapWith(registry.modules, key, m)
		return nil, err
	}
	m.refs = 1
	registry.modules = mapWith(registry.modules, key, m)
	return m, nil
}

func mapWith(mm map[string]*module, k string, m *module) map[string]*module {
	if mm == nil {
		mm = make(map[string]*module)
	}
	mm[k] = m
	return mm
}

// ensureInitialized initialises the library if it is not.
func (m *module) ensureInitialized() error {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.initLocked()
}

func (m *module) initLocked() error {
	if m.initialized {
		return nil
	}
	err := m.ctx.Initialize()
	if rv, ok := returnValue(err); ok && rv == p11.CKR_CRYPTOKI_ALREADY_INITIALIZED {
		// Someone else in the process initialised it: use it, never
		// finalise it.
		m.initialized, m.ownInit = true, false
		m.gen++
		return nil
	}
	if err != nil {
		return fmt.Errorf("pkcs11: initialize module %q: %w", m.path, mapErr(stageOther, "C_Initialize", err))
	}
	m.initialized, m.ownInit = true, true
	m.gen++
	m.logins = nil
	return nil
}

// release drops a reference; the last one finalises the library.
func (m *module) release() {
	registry.Lock()
	defer registry.Unlock()
	m.refs--
	if m.refs > 0 {
		return
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.initialized && m.ownInit {
		_ = m.ctx.Finalize()
	}
	m.initialized = false
	m.logins = nil
}

// generation returns the current generation and whether the library is
// initialised. The caller holds no lock.
func (m *module) generation() (uint64, bool) {
	m.mu.RLock()
	defer m.mu.RUnlock()
	return m.gen, m.initialized
}

// reset finalises and initialises the library again, to recover from a
// token or device that went away: every session of every driver on the
// module ends, and drivers resolve their token and key again. It does
// nothing if the module has moved past generation gen since the caller
// looked (someone else reset it), and refuses (kms.ErrUnavailable) if the
// last reset was less than minResetInterval ago.
func (m *module) reset(gen uint64) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.initialized && m.gen != gen {
		return nil
	}
	if !m.ownInit && m.initialized {
		return fmt.Errorf("pkcs11: module %q was initialised outside piiguard and cannot be reset: %w", m.path, kms.ErrUnavailable)
	}
	if since := time.Since(m.lastReset); since < minResetInterval {
		return fmt.Errorf("pkcs11: module %q was reset %v ago; waiting before the next attempt: %w", m.path, since.Round(time.Millisecond), kms.ErrUnavailable)
	}
	m.lastReset = time.Now()
	if m.initialized {
		_ = m.ctx.Finalize()
		m.initialized = false
	}
	m.logins = nil
	if err := m.initLocked(); err != nil {
		return err
	}
	return nil
}

// pinMAC returns the fingerprint of pin recorded for logins.
func (m *module) pinMAC(pin []byte) []byte {
	h := hmac.New(sha256.New, m.pinKey)
	h.Write(pin)
	return h.Sum(nil)
}
