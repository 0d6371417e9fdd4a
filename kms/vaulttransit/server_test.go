package vaulttransit_test

// Vault cannot be built here. The tests run against fakeVault, an HTTP
// server started in the test process (httptest, 127.0.0.1) that follows the
// documented Transit HTTP API of Vault 1.13+: create, read, rotate and
// configure keys (/v1/<mount>/keys/:name[/rotate|/config]), encrypt and
// decrypt (/v1/<mount>/encrypt/:name, /v1/<mount>/decrypt/:name) with
// base64 plaintext and associated_data, ciphertexts "vault:v<N>:<base64 of
// nonce||ciphertext||tag>", real AES-256-GCM, AES-128-GCM and
// ChaCha20-Poly1305 per key version, min_decryption_version, derived keys
// that need a context, upsert only for tokens that may create, and errors
// as {"errors": [...]} with Vault's status codes and messages (400, 403,
// 404, 429, 500, 503). It parses ciphertexts as leniently as Vault does
// (v0 is read as v1; base64 is decoded without the strict check).

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"golang.org/x/crypto/chacha20poly1305"
)

const (
	// rootToken may do anything; appToken may only encrypt and decrypt
	// with existing keys (update, not create), as a least-privilege
	// application policy grants.
	rootToken = "hvs.piiguard-test-ROOT-token-0123456789abcdef"
	appToken  = "hvs.piiguard-test-APP-token-0123456789abcdef"
	errTooOld = "ciphertext or signature version is disallowed by policy (too old)"
)

type fakeVault struct {
	srv   *httptest.Server
	mount string

	mu   sync.Mutex
	keys map[string]*vaultKey

	// Behaviour switches.
	ignoreAD   atomic.Bool  // behave as Vault before 1.13: ignore associated_data, with a warning
	sealed     atomic.Bool  // answer 503 "Vault is sealed"
	failCount  atomic.Int32 // the next failCount requests fail with failStatus
	failStatus atomic.Int32
	requests   atomic.Int64
	namespace  atomic.Pointer[string] // the X-Vault-Namespace of the last request
}

type vaultKey struct {
	typ        string
	derived    bool
	versions   map[int]vaultVersion
	latest     int
	minDecrypt int
	minEncrypt int
}

type vaultVersion struct {
	aead    cipher.AEAD
	created time.Time
}

// startFakeVault starts a fakeVault with Transit mounted at mount, stopped
// at the end of t.
func startFakeVault(t testing.TB, mount string) *fakeVault {
	f := newFakeVault(mount)
	t.Cleanup(f.srv.Close)
	return f
}

func newFakeVault(mount string) *fakeVault {
	f := &fakeVault{mount: mount, keys: map[string]*vaultKey{}}
	f.srv = httptest.NewServer(http.HandlerFunc(f.serve))
	return f
}

func (f *fakeVault) failNext(n int, status int) {
	f.failStatus.Store(int32(status))
	f.failCount.Store(int32(n))
}

func reply(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

func replyErr(w http.ResponseWriter, status int, msgs ...string) {
	if msgs == nil {
		msgs = []string{}
	}
	reply(w, status, map[string]any{"errors": msgs})
}

func (f *fakeVault) serve(w http.ResponseWriter, r *http.Request) {
	f.requests.Add(1)
	ns := r.Header.Get("X-Vault-Namespace")
	f.namespace.Store(&ns)
	if f.sealed.Load() {
		replyErr(w, 503, "Vault is sealed")
		return
	}
	if f.failCount.Load() > 0 && f.failCount.Add(-1) >= 0 {
		replyErr(w, int(f.failStatus.Load()), "injected failure")
		return
	}
	token := r.Header.Get("X-Vault-Token")
	if token != rootToken && token != appToken {
		replyErr(w, 403, "permission denied")
		return
	}
	rest, ok := strings.CutPrefix(r.URL.Path, "/v1/"+f.mount+"/")
	if !ok {
		replyErr(w, 404, "no handler for route \""+strings.TrimPrefix(r.URL.Path, "/v1/")+"\". route entry not found.")
		return
	}
	write := r.Method == http.MethodPost || r.Method == http.MethodPut
	var body map[string]any
	if write && r.ContentLength != 0 {
		if err := json.NewDecoder(r.Body).Decode(&body); err != nil {
			replyErr(w, 400, "failed to parse JSON input: "+err.Error())
			return
		}
	}
	parts := strings.Split(rest, "/")
	switch {
	case len(parts) == 2 && parts[0] == "encrypt" && write:
		f.encrypt(w, token, parts[1], body)
	case len(parts) == 2 && parts[0] == "decrypt" && write:
		f.decrypt(w, parts[1], body)
	case len(parts) == 2 && parts[0] == "keys" && write && token == rootToken:
		f.createKey(w, parts[1], body)
	case len(parts) == 2 && parts[0] == "keys" && r.Method == http.MethodGet && token == rootToken:
		f.readKey(w, parts[1])
	case len(parts) == 3 && parts[0] == "keys" && parts[2] == "rotate" && write && token == rootToken:
		f.rotate(w, parts[1])
	case len(parts) == 3 && parts[0] == "keys" && parts[2] == "config" && write && token == rootToken:
		f.configure(w, parts[1], body)
	case token != rootToken:
		replyErr(w, 403, "1 error occurred:\n\t* permission denied\n\n")
	default:
		replyErr(w, 405, "unsupported operation")
	}
}

func str(body map[string]any, k string) (string, bool) {
	v, ok := body[k].(string)
	return v, ok && v != ""
}

func num(body map[string]any, k string) int {
	switch v := body[k].(type) {
	case float64:
		return int(v)
	case string:
		n, _ := strconv.Atoi(v)
		return n
	}
	return 0
}

func newAEAD(typ string) (cipher.AEAD, error) {
	size := map[string]int{"aes256-gcm96": 32, "aes128-gcm96": 16, "chacha20-poly1305": 32}[typ]
	key := make([]byte, size)
	_, _ = rand.Read(key)
	if typ == "chacha20-poly1305" {
		return chacha20poly1305.New(key)
	}
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, err
	}
	return cipher.NewGCM(block)
}

func (k *vaultKey) addVersion() error {
	a, err := newAEAD(k.typ)
	if err != nil {
		return err
	}
	k.latest++
	k.versions[k.latest] = vaultVersion{aead: a, created: time.Now()}
	if k.minDecrypt == 0 {
		k.minDecrypt = 1
	}
	return nil
}

// newKey makes a key; the caller holds f.mu.
func (f *fakeVault) newKey(name, typ string, derived bool) (*vaultKey, string) {
	if typ == "" {
		typ = "aes256-gcm96"
	}
	switch typ {
	case "aes256-gcm96", "aes128-gcm96", "chacha20-poly1305":
	case "ed25519", "ecdsa-p256", "rsa-2048":
		// Accepted by Vault, but not for encryption; not modelled here.
		return nil, fmt.Sprintf("key type %s not supported by this test server", typ)
	default:
		return nil, fmt.Sprintf("unknown key type %q", typ)
	}
	k := &vaultKey{typ: typ, derived: derived, versions: map[int]vaultVersion{}}
	if err := k.addVersion(); err != nil {
		return nil, err.Error()
	}
	f.keys[name] = k
	return k, ""
}

func (f *fakeVault) createKey(w http.ResponseWriter, name string, body map[string]any) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if _, ok := f.keys[name]; !ok {
		typ, _ := str(body, "type")
		derived, _ := body["derived"].(bool)
		if _, msg := f.newKey(name, typ, derived); msg != "" {
			replyErr(w, 400, msg)
			return
		}
	}
	w.WriteHeader(204)
}

func (f *fakeVault) keyInfo(name string, k *vaultKey) map[string]any {
	versions := map[string]int64{}
	for v, kv := range k.versions {
		if v >= k.minDecrypt {
			versions[strconv.Itoa(v)] = kv.created.Unix()
		}
	}
	return map[string]any{
		"name": name, "type": k.typ, "derived": k.derived,
		"keys": versions, "latest_version": k.latest,
		"min_decryption_version": k.minDecrypt, "min_encryption_version": k.minEncrypt,
		"deletion_allowed": false, "exportable": false,
		"supports_encryption": true, "supports_decryption": true, "supports_derivation": true, "supports_signing": false,
	}
}

func (f *fakeVault) readKey(w http.ResponseWriter, name string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	k, ok := f.keys[name]
	if !ok {
		replyErr(w, 404)
		return
	}
	reply(w, 200, map[string]any{"data": f.keyInfo(name, k)})
}

func (f *fakeVault) rotate(w http.ResponseWriter, name string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	k, ok := f.keys[name]
	if !ok {
		replyErr(w, 400, "key not found")
		return
	}
	if err := k.addVersion(); err != nil {
		replyErr(w, 500, err.Error())
		return
	}
	reply(w, 200, map[string]any{"data": f.keyInfo(name, k)})
}

func (f *fakeVault) configure(w http.ResponseWriter, name string, body map[string]any) {
	f.mu.Lock()
	defer f.mu.Unlock()
	k, ok := f.keys[name]
	if !ok {
		replyErr(w, 400, "no existing key named "+name+" could be found")
		return
	}
	if _, set := body["min_decryption_version"]; set {
		v := num(body, "min_decryption_version")
		if v > k.latest {
			replyErr(w, 400, "cannot set min decryption version of "+strconv.Itoa(v)+", latest key version is "+strconv.Itoa(k.latest))
			return
		}
		k.minDecrypt = max(v, 1)
	}
	if _, set := body["min_encryption_version"]; set {
		k.minEncrypt = num(body, "min_encryption_version")
	}
	reply(w, 200, map[string]any{"data": f.keyInfo(name, k)})
}

// additional returns the associated data of a request, and the warnings to
// answer with.
func (f *fakeVault) additional(body map[string]any) ([]byte, []string, string) {
	b64, ok := str(body, "associated_data")
	if !ok {
		return nil, nil, ""
	}
	if f.ignoreAD.Load() {
		return nil, []string{"Endpoint ignored these unrecognized parameters: [associated_data]"}, ""
	}
	ad, err := base64.StdEncoding.DecodeString(b64)
	if err != nil {
		return nil, nil, "failed to base64-decode associated data"
	}
	return ad, nil, ""
}

func (f *fakeVault) encrypt(w http.ResponseWriter, token, name string, body map[string]any) {
	f.mu.Lock()
	k, ok := f.keys[name]
	if !ok {
		// Upsert needs the create capability.
		if token != rootToken {
			f.mu.Unlock()
			replyErr(w, 403, "1 error occurred:\n\t* permission denied\n\n")
			return
		}
		var msg string
		if k, msg = f.newKey(name, "", false); msg != "" {
			f.mu.Unlock()
			replyErr(w, 400, msg)
			return
		}
	}
	version := num(body, "key_version")
	if version == 0 {
		version = k.latest
	}
	v, known := k.versions[version]
	derived, minEncrypt := k.derived, k.minEncrypt
	f.mu.Unlock()

	if derived {
		if _, ok := str(body, "context"); !ok {
			replyErr(w, 400, "missing 'context' for key derivation; the key was created using a derived key, which means additional, per-request information must be included in order to perform operations with the key")
			return
		}
	}
	if !known || (minEncrypt > 0 && version < minEncrypt) {
		replyErr(w, 400, "requested version for encryption is less than the minimum encryption key version")
		return
	}
	b64, ok := str(body, "plaintext")
	if !ok {
		replyErr(w, 400, "missing plaintext to encrypt")
		return
	}
	pt, err := base64.StdEncoding.DecodeString(b64)
	if err != nil {
		replyErr(w, 400, "failed to base64-decode plaintext")
		return
	}
	ad, warnings, msg := f.additional(body)
	if msg != "" {
		replyErr(w, 400, msg)
		return
	}
	nonce := make([]byte, v.aead.NonceSize())
	_, _ = rand.Read(nonce)
	sealed := v.aead.Seal(nonce, nonce, pt, ad)
	reply(w, 200, map[string]any{
		"data":     map[string]any{"ciphertext": "vault:v" + strconv.Itoa(version) + ":" + base64.StdEncoding.EncodeToString(sealed), "key_version": version},
		"warnings": warnings,
	})
}

func (f *fakeVault) decrypt(w http.ResponseWriter, name string, body map[string]any) {
	f.mu.Lock()
	k, ok := f.keys[name]
	if !ok {
		f.mu.Unlock()
		replyErr(w, 400, "encryption key not found")
		return
	}
	latest, minDecrypt, derived := k.latest, k.minDecrypt, k.derived
	versions := k.versions
	f.mu.Unlock()

	if derived {
		if _, ok := str(body, "context"); !ok {
			replyErr(w, 400, "missing 'context' for key derivation; the key was created using a derived key, which means additional, per-request information must be included in order to perform operations with the key")
			return
		}
	}
	ct, ok := str(body, "ciphertext")
	if !ok {
		replyErr(w, 400, "missing ciphertext to decrypt")
		return
	}
	// As Vault's keysutil.Policy.Decrypt parses it.
	rest, ok := strings.CutPrefix(ct, "vault:v")
	if !ok {
		replyErr(w, 400, "invalid ciphertext: no prefix")
		return
	}
	fields := strings.SplitN(rest, ":", 2)
	if len(fields) != 2 {
		replyErr(w, 400, "invalid ciphertext: wrong number of fields")
		return
	}
	version, err := strconv.Atoi(fields[0])
	if err != nil {
		replyErr(w, 400, "invalid ciphertext: version number could not be decoded")
		return
	}
	if version == 0 {
		version = 1 // compatibility with Vault's first ciphertexts
	}
	if version > latest {
		replyErr(w, 400, "invalid ciphertext: version is too new")
		return
	}
	if minDecrypt > 0 && version < minDecrypt {
		replyErr(w, 400, errTooOld)
		return
	}
	raw, err := base64.StdEncoding.DecodeString(fields[1])
	if err != nil {
		replyErr(w, 400, "invalid ciphertext: could not decode base64")
		return
	}
	ad, warnings, msg := f.additional(body)
	if msg != "" {
		replyErr(w, 400, msg)
		return
	}
	f.mu.Lock()
	v := versions[version]
	f.mu.Unlock()
	n := v.aead.NonceSize()
	if len(raw) < n+v.aead.Overhead() {
		replyErr(w, 400, "invalid ciphertext: unable to decrypt")
		return
	}
	pt, err := v.aead.Open(nil, raw[:n], raw[n:], ad)
	if err != nil {
		replyErr(w, 400, "cipher: message authentication failed")
		return
	}
	reply(w, 200, map[string]any{
		"data":     map[string]any{"plaintext": base64.StdEncoding.EncodeToString(pt)},
		"warnings": warnings,
	})
}
