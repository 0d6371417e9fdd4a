package localkey

// The root key file format, version 1, is documented in doc.go (the
// package documentation) and pinned by testdata/rootkey-v1.json.

import (
	"bytes"
	"crypto/aes"
	"crypto/cipher"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"slices"
	"strconv"

	"golang.org/x/crypto/argon2"

	"github.com/piiguard/piiguard/kms"
	"github.com/piiguard/piiguard/kms/internal/rootcipher"
)

const (
	keyFileFormat  = "piiguard.rootkey"
	keyFileVersion = 1

	// maxKeyFileSize bounds what is read from a key file.
	maxKeyFileSize = 64 << 10

	rootKeySize   = rootcipher.KeySize
	keyIDSize     = rootcipher.KeyIDSize
	kdfSaltSize   = 16 // written; 16 to 64 bytes are read
	minSaltSize   = 16
	maxSaltSize   = 64
	gcmNonceSize  = 12
	gcmTagSize    = 16
	sealedKeySize = rootKeySize + gcmTagSize

	// Bounds on KDF parameters, for every file read or written.
	maxKDFTime      = 10
	maxKDFThreads   = 64
	maxKDFMemoryKiB = 1 << 20 // 1 GiB
)

// KDFParams are the argon2id cost parameters of a root key file (RFC 9106).
type KDFParams struct {
	// Time is the number of passes over memory.
	Time uint32
	// MemoryKiB is the memory used, in KiB.
	MemoryKiB uint32
	// Threads is the degree of parallelism.
	Threads uint8
}

// DefaultKDFParams returns the cost Create uses by default:
// 3 passes over 64 MiB with 4 threads, the second recommended setting of
// RFC 9106 (section 4), for machines where 2 GiB is too much.
func DefaultKDFParams() KDFParams { return defaultKDFParams }

var defaultKDFParams = KDFParams{Time: 3, MemoryKiB: 64 << 10, Threads: 4}

// insecureFastKDFParams is the cost used with InsecureFastKDFForTests: the
// smallest valid setting, which protects nothing.
var insecureFastKDFParams = KDFParams{Time: 1, MemoryKiB: 64, Threads: 1}

// validForFile reports why p cannot appear in a key file, or "".
func (p KDFParams) validForFile() string {
	switch {
	case p.Time < 1 || p.Time > maxKDFTime:
		return fmt.Sprintf("kdf time out of bounds (1 to %d)", maxKDFTime)
	case p.Threads < 1 || p.Threads > maxKDFThreads:
		return fmt.Sprintf("kdf threads out of bounds (1 to %d)", maxKDFThreads)
	case p.MemoryKiB < 8*uint32(p.Threads) || p.MemoryKiB > maxKDFMemoryKiB:
		return fmt.Sprintf("kdf memory out of bounds (8 KiB per thread to %d KiB)", maxKDFMemoryKiB)
	}
	return ""
}

// keyFile is a parsed root key file.
type keyFile struct {
	keyID     [keyIDSize]byte
	kdf       KDFParams
	salt      []byte
	nonce     []byte
	sealedKey []byte
}

// keyFileJSON is the wire form of a version 1 key file. Member order here
// is the order written.
type keyFileJSON struct {
	Format    string  `json:"format"`
	Version   int     `json:"version"`
	KeyID     string  `json:"key_id"`
	KDF       kdfJSON `json:"kdf"`
	Nonce     string  `json:"nonce"`
	SealedKey string  `json:"sealed_key"`
}

type kdfJSON struct {
	Name      string `json:"name"`
	Time      uint32 `json:"time"`
	MemoryKiB uint32 `json:"memory_kib"`
	Threads   uint32 `json:"threads"`
	Salt      string `json:"salt"`
}

var b64 = base64.StdEncoding.Strict()

// errCorrupt returns a parse error wrapping kms.ErrCorrupt; the caller adds
// the file name.
func errCorrupt(reason string) error {
	return fmt.Errorf("%s: %w", reason, kms.ErrCorrupt)
}

// parseKeyFile parses and validates a root key file. Errors wrap
// kms.ErrCorrupt or kms.ErrUnsupportedVersion, and name neither the file nor any of its bytes.
func parseKeyFile(data []byte) (*keyFile, error) {
	if len(data) > maxKeyFileSize {
		return nil, errCorrupt("larger than 64 KiB")
	}
	if !json.Valid(data) {
		return nil, errCorrupt("not valid JSON")
	}
	if err := checkJSONMembers(data); err != nil {
		return nil, err
	}
	var top map[string]json.RawMessage
	if err := json.Unmarshal(data, &top); err != nil || top == nil {
		return nil, errCorrupt("not a JSON object")
	}

	// The format and version first, so that a newer file is reported as
	// such even if its other members are unknown to this reader.
	var format string
	if err := json.Unmarshal(top["format"], &format); err != nil || format != keyFileFormat {
		return nil, errCorrupt("not a piiguard root key file (format is not " + strconv.Quote(keyFileFormat) + ")")
	}
	switch v := string(top["version"]); {
	case v == "1":
	case isDecimal(v) && v != "0":
		// Any positive integer, even one too large for an int, is a
		// version from the future.
		return nil, fmt.Errorf("version %.20s: %w", v, kms.ErrUnsupportedVersion)
	default:
		return nil, errCorrupt("missing or malformed version")
	}
	if err := exactMembers(top, "", "format", "version", "key_id", "kdf", "nonce", "sealed_key"); err != nil {
		return nil, err
	}
	var kdf map[string]json.RawMessage
	if err := json.Unmarshal(top["kdf"], &kdf); err != nil || kdf == nil {
		return nil, errCorrupt("kdf is not a JSON object")
	}
	if err := exactMembers(kdf, "kdf.", "name", "time", "memory_kib", "threads", "salt"); err != nil {
		return nil, err
	}

	var (
		keyID, nonce, sealedKey, kdfName, salt string
		time, memoryKiB, threads               uint32
	)
	for _, m := range []struct {
		name string
		raw  json.RawMessage
		dst  any
	}{
		{"key_id", top["key_id"], &keyID},
		{"nonce", top["nonce"], &nonce},
		{"sealed_key", top["sealed_key"], &sealedKey},
		{"kdf.name", kdf["name"], &kdfName},
		{"kdf.salt", kdf["salt"], &salt},
		{"kdf.time", kdf["time"], &time},
		{"kdf.memory_kib", kdf["memory_kib"], &memoryKiB},
		{"kdf.threads", kdf["threads"], &threads},
	} {
		if string(m.raw) == "null" || json.Unmarshal(m.raw, m.dst) != nil {
			return nil, errCorrupt(m.name + " is null or of the wrong type")
		}
	}

	kf := &keyFile{}
	if len(keyID) != 2*keyIDSize || !isLowerHex(keyID) {
		return nil, errCorrupt(fmt.Sprintf("key_id is not %d lowercase hex digits", 2*keyIDSize))
	}
	_, _ = hex.Decode(kf.keyID[:], []byte(keyID))
	if kdfName != "argon2id" {
		return nil, errCorrupt(`kdf.name is not "argon2id"`)
	}
	if threads > maxKDFThreads {
		return nil, errCorrupt(fmt.Sprintf("kdf threads out of bounds (1 to %d)", maxKDFThreads))
	}
	kf.kdf = KDFParams{Time: time, MemoryKiB: memoryKiB, Threads: uint8(threads)}
	if reason := kf.kdf.validForFile(); reason != "" {
		return nil, errCorrupt(reason)
	}
	var err error
	if kf.salt, err = b64.DecodeString(salt); err != nil || len(kf.salt) < minSaltSize || len(kf.salt) > maxSaltSize {
		return nil, errCorrupt(fmt.Sprintf("kdf.salt is not base64 of %d to %d bytes", minSaltSize, maxSaltSize))
	}
	if kf.nonce, err = b64.DecodeString(nonce); err != nil || len(kf.nonce) != gcmNonceSize {
		return nil, errCorrupt(fmt.Sprintf("nonce is not base64 of %d bytes", gcmNonceSize))
	}
	if kf.sealedKey, err = b64.DecodeString(sealedKey); err != nil || len(kf.sealedKey) != sealedKeySize {
		return nil, errCorrupt(fmt.Sprintf("sealed_key is not base64 of %d bytes", sealedKeySize))
	}
	return kf, nil
}

// exactMembers checks that obj has exactly the named members (names are
// case-sensitive, unlike encoding/json's matching).
func exactMembers(obj map[string]json.RawMessage, prefix string, names ...string) error {
	for _, n := range names {
		if _, ok := obj[n]; !ok {
			return errCorrupt("missing " + prefix + n)
		}
	}
	if len(obj) != len(names) {
		for k := range obj {
			if !slices.Contains(names, k) {
				return errCorrupt(fmt.Sprintf("unknown member %.40q", prefix+k))
			}
		}
	}
	return nil
}

// marshal returns the file's bytes: indented JSON ending in a newline.
func (kf *keyFile) marshal() []byte {
	w := keyFileJSON{
		Format:  keyFileFormat,
		Version: keyFileVersion,
		KeyID:   hex.EncodeToString(kf.keyID[:]),
		KDF: kdfJSON{
			Name:      "argon2id",
			Time:      kf.kdf.Time,
			MemoryKiB: kf.kdf.MemoryKiB,
			Threads:   uint32(kf.kdf.Threads),
			Salt:      b64.EncodeToString(kf.salt),
		},
		Nonce:     b64.EncodeToString(kf.nonce),
		SealedKey: b64.EncodeToString(kf.sealedKey),
	}
	out, err := json.MarshalIndent(w, "", "  ")
	if err != nil {
		panic("localkey: encoding a root key file: " + err.Error()) // cannot happen: plain strings and numbers
	}
	return append(out, '\n')
}

// associatedData is the canonical encoding of the header, authenticated
// with the sealed key.
func (kf *keyFile) associatedData() []byte {
	var b bytes.Buffer
	b.WriteString(keyFileFormat + "\n")
	fmt.Fprintf(&b, "version=%d\n", keyFileVersion)
	fmt.Fprintf(&b, "key_id=%s\n", hex.EncodeToString(kf.keyID[:]))
	b.WriteString("kdf.name=argon2id\n")
	fmt.Fprintf(&b, "kdf.time=%d\n", kf.kdf.Time)
	fmt.Fprintf(&b, "kdf.memory_kib=%d\n", kf.kdf.MemoryKiB)
	fmt.Fprintf(&b, "kdf.threads=%d\n", kf.kdf.Threads)
	fmt.Fprintf(&b, "kdf.salt=%s\n", b64.EncodeToString(kf.salt))
	fmt.Fprintf(&b, "nonce=%s\n", b64.EncodeToString(kf.nonce))
	return b.Bytes()
}

// kekAEAD derives the key-encryption key from the passphrase and returns
// AES-256-GCM under it. The derived key is zeroed before returning.
func (kf *keyFile) kekAEAD(passphrase []byte) cipher.AEAD {
	kek := argon2.IDKey(passphrase, kf.salt, kf.kdf.Time, kf.kdf.MemoryKiB, kf.kdf.Threads, rootKeySize)
	defer clear(kek)
	block, err := aes.NewCipher(kek)
	if err != nil {
		panic("localkey: " + err.Error()) // cannot happen: 32-byte key
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		panic("localkey: " + err.Error()) // cannot happen: standard nonce and tag sizes
	}
	return aead
}

// seal fills kf.sealedKey with rootKey sealed under the passphrase. The
// other members must be set.
func (kf *keyFile) seal(passphrase, rootKey []byte) {
	kf.sealedKey = kf.kekAEAD(passphrase).Seal(nil, kf.nonce, rootKey, kf.associatedData())
}

// open returns the root key, or an error wrapping kms.ErrWrongPassphrase.
func (kf *keyFile) open(passphrase []byte) ([]byte, error) {
	key, err := kf.kekAEAD(passphrase).Open(nil, kf.nonce, kf.sealedKey, kf.associatedData())
	if err != nil {
		return nil, fmt.Errorf("the passphrase does not open it (or it was altered): %w", kms.ErrWrongPassphrase)
	}
	return key, nil
}

// checkJSONMembers walks a valid JSON text and refuses an object that names
// a member twice: encoding/json would silently keep the last one.
func checkJSONMembers(data []byte) error {
	dec := json.NewDecoder(bytes.NewReader(data))
	var walk func(depth int) error
	walk = func(depth int) error {
		if depth > 8 {
			return errCorrupt("JSON nested too deeply")
		}
		tok, err := dec.Token()
		if err != nil {
			return errCorrupt("not valid JSON")
		}
		switch tok {
		case json.Delim('{'):
			seen := map[string]bool{}
			for dec.More() {
				k, err := dec.Token()
				if err != nil {
					return errCorrupt("not valid JSON")
				}
				name, _ := k.(string)
				if seen[name] {
					return errCorrupt(fmt.Sprintf("member %.40q appears twice", name))
				}
				seen[name] = true
				if err := walk(depth + 1); err != nil {
					return err
				}
			}
			_, err = dec.Token() // '}'
		case json.Delim('['):
			for dec.More() {
				if err := walk(depth + 1); err != nil {
					return err
				}
			}
			_, err = dec.Token() // ']'
		}
		if err != nil {
			return errCorrupt("not valid JSON")
		}
		return nil
	}
	if err := walk(0); err != nil {
		return err
	}
	if _, err := dec.Token(); err != io.EOF {
		return errCorrupt("data after the JSON object")
	}
	return nil
}

func isDecimal(s string) bool {
	if s == "" || (len(s) > 1 && s[0] == '0') {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

func isLowerHex(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if (c < '0' || c > '9') && (c < 'a' || c > 'f') {
			return false
		}
	}
	return true
}

// errKeyFile names the file in an error from parseKeyFile or open.
func errKeyFile(path string, err error) error {
	return fmt.Errorf("localkey: root key file %q: %w", path, err)
}
