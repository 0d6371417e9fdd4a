package localkey

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/piiguard/piiguard/kms"
	"github.com/piiguard/piiguard/kms/internal/rootcipher"
)

// Golden root key file, version 1. Regenerate (only when the format
// changes on purpose, with a new version) with
//
//	PIIGUARD_UPDATE_GOLDEN=1 go test -run TestKeyFileGoldenV1 ./kms/localkey/
const (
	goldenKeyFile = "testdata/rootkey-v1.json"
	goldenVectors = "testdata/rootkey-v1-vectors.json"
)

// goldenVectorsJSON is the sibling file of the golden key file: the test
// passphrase, the root key it seals (published: it protects nothing) and
// values wrapped under it.
type goldenVectorsJSON struct {
	Comment    string `json:"comment"`
	KeyFile    string `json:"key_file"`
	Passphrase string `json:"passphrase"`
	KeyID      string `json:"key_id"`
	RootKeyHex string `json:"root_key_hex"`
	Wraps      []struct {
		PlaintextHex      string `json:"plaintext_hex"`
		AssociatedDataHex string `json:"associated_data_hex"`
		CiphertextHex     string `json:"ciphertext_hex"`
	} `json:"wraps"`
}

func fixedBytes(label string, n int) []byte {
	sum := sha256.Sum256([]byte("piiguard golden " + label))
	return sum[:n]
}

// goldenKeyFileV1 rebuilds the golden key file from its fixed inputs.
func goldenKeyFileV1(passphrase []byte) (*keyFile, []byte) {
	kf := &keyFile{
		kdf:   insecureFastKDFParams,
		salt:  fixedBytes("salt", kdfSaltSize),
		nonce: fixedBytes("nonce", gcmNonceSize),
	}
	copy(kf.keyID[:], fixedBytes("key id", keyIDSize))
	rootKey := fixedBytes("root key", rootKeySize)
	kf.seal(passphrase, rootKey)
	return kf, rootKey
}

const goldenPassphrase = "golden-test-passphrase-v1"

func TestKeyFileGoldenV1(t *testing.T) {
	if os.Getenv("PIIGUARD_UPDATE_GOLDEN") == "1" {
		writeGoldenV1(t)
	}
	data, err := os.ReadFile(goldenKeyFile)
	require.NoError(t, err)
	vdata, err := os.ReadFile(goldenVectors)
	require.NoError(t, err)
	var v goldenVectorsJSON
	require.NoError(t, json.Unmarshal(vdata, &v))
	require.NotEmpty(t, v.Wraps)

	t.Run("WriterIsStable", func(t *testing.T) {
		kf, _ := goldenKeyFileV1([]byte(v.Passphrase))
		assert.Equal(t, string(data), string(kf.marshal()),
			"the writer no longer produces the golden file from the same inputs")
	})

	t.Run("OpensAndUnwraps", func(t *testing.T) {
		d, err := Open(goldenKeyFile, []byte(v.Passphrase), Options{})
		require.NoError(t, err)
		defer d.Close()
		assert.Equal(t, v.KeyID, d.KeyID())
		for i, w := range v.Wraps {
			pt, _ := hex.DecodeString(w.PlaintextHex)
			ad, _ := hex.DecodeString(w.AssociatedDataHex)
			ct, _ := hex.DecodeString(w.CiphertextHex)
			got, err := d.Unwrap(context.Background(), ct, ad)
			if assert.NoError(t, err, "vector %d", i) {
				assert.Equal(t, hex.EncodeToString(pt), hex.EncodeToString(got), "vector %d", i)
			}
		}
	})

	t.Run("RootKeyMatchesVectors", func(t *testing.T) {
		kf, err := parseKeyFile(data)
		require.NoError(t, err)
		key, err := kf.open([]byte(v.Passphrase))
		require.NoError(t, err)
		assert.Equal(t, v.RootKeyHex, hex.EncodeToString(key))
	})
}

func writeGoldenV1(t *testing.T) {
	kf, rootKey := goldenKeyFileV1([]byte(goldenPassphrase))
	require.NoError(t, os.WriteFile(goldenKeyFile, kf.marshal(), 0o644))
	c := rootcipher.New(kf.keyID, bytes.Clone(rootKey), "golden")
	v := goldenVectorsJSON{
		Comment: "Test vectors for " + filepath.Base(goldenKeyFile) + ", a version 1 root key file made " +
			"with the insecure fast KDF setting. The passphrase and root key are public: they protect nothing. " +
			"Each wrap is LocalDriver.Wrap output; later releases must keep unwrapping it.",
		KeyFile:    filepath.Base(goldenKeyFile),
		Passphrase: goldenPassphrase,
		KeyID:      hex.EncodeToString(kf.keyID[:]),
		RootKeyHex: hex.EncodeToString(rootKey),
	}
	for _, in := range []struct{ pt, ad string }{
		{"", ""},
		{"a", ""},
		{"data key: 0123456789abcdef0123456789abcdef", "piiguard:keyset=customers"},
		{strings.Repeat("golden plaintext ", 20), "piiguard:keyset=tokens:version=2"},
	} {
		ct, err := c.Wrap(context.Background(), []byte(in.pt), []byte(in.ad))
		require.NoError(t, err)
		v.Wraps = append(v.Wraps, struct {
			PlaintextHex      string `json:"plaintext_hex"`
			AssociatedDataHex string `json:"associated_data_hex"`
			CiphertextHex     string `json:"ciphertext_hex"`
		}{hex.EncodeToString([]byte(in.pt)), hex.EncodeToString([]byte(in.ad)), hex.EncodeToString(ct)})
	}
	out, err := json.MarshalIndent(v, "", "  ")
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(goldenVectors, append(out, '\n'), 0o644))
}

// validKeyFileJSON returns the golden file as a generic JSON object, to be
// mutated by tests.
func validKeyFileJSON(t testing.TB) map[string]any {
	t.Helper()
	data, err := os.ReadFile(goldenKeyFile)
	require.NoError(t, err)
	var m map[string]any
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	require.NoError(t, dec.Decode(&m))
	return m
}

func encodeJSON(t testing.TB, v any) []byte {
	t.Helper()
	b, err := json.Marshal(v)
	require.NoError(t, err)
	return b
}

func TestKeyFileParseRejectsMalformed(t *testing.T) {
	kdf := func(m map[string]any) map[string]any { return m["kdf"].(map[string]any) }
	b64of := func(n int) string { return base64.StdEncoding.EncodeToString(make([]byte, n)) }
	cases := []struct {
		name   string
		mutate func(m map[string]any)
		want   error
	}{
		{"unknown format", func(m map[string]any) { m["format"] = "age" }, kms.ErrCorrupt},
		{"format missing", func(m map[string]any) { delete(m, "format") }, kms.ErrCorrupt},
		{"format not a string", func(m map[string]any) { m["format"] = 1 }, kms.ErrCorrupt},
		{"version 2", func(m map[string]any) { m["version"] = 2 }, kms.ErrUnsupportedVersion},
		{"version 2 with new members", func(m map[string]any) { m["version"] = 2; m["new"] = true }, kms.ErrUnsupportedVersion},
		{"huge version", func(m map[string]any) { m["version"] = json.Number("123456789012345678901234567890") }, kms.ErrUnsupportedVersion},
		{"version 0", func(m map[string]any) { m["version"] = 0 }, kms.ErrCorrupt},
		{"version -1", func(m map[string]any) { m["version"] = -1 }, kms.ErrCorrupt},
		{"version 1.0", func(m map[string]any) { m["version"] = json.Number("1.0") }, kms.ErrCorrupt},
		{"version string", func(m map[string]any) { m["version"] = "1" }, kms.ErrCorrupt},
		{"version missing", func(m map[string]any) { delete(m, "version") }, kms.ErrCorrupt},
		{"unknown member", func(m map[string]any) { m["comment"] = "hi" }, kms.ErrCorrupt},
		{"member in other case", func(m map[string]any) { m["Nonce"] = m["nonce"]; delete(m, "nonce") }, kms.ErrCorrupt},
		{"key_id missing", func(m map[string]any) { delete(m, "key_id") }, kms.ErrCorrupt},
		{"key_id short", func(m map[string]any) { m["key_id"] = "abcd" }, kms.ErrCorrupt},
		{"key_id upper case", func(m map[string]any) { m["key_id"] = strings.ToUpper(m["key_id"].(string)) }, kms.ErrCorrupt},
		{"key_id null", func(m map[string]any) { m["key_id"] = nil }, kms.ErrCorrupt},
		{"kdf missing", func(m map[string]any) { delete(m, "kdf") }, kms.ErrCorrupt},
		{"kdf null", func(m map[string]any) { m["kdf"] = nil }, kms.ErrCorrupt},
		{"kdf not argon2id", func(m map[string]any) { kdf(m)["name"] = "scrypt" }, kms.ErrCorrupt},
		{"kdf unknown member", func(m map[string]any) { kdf(m)["pepper"] = 1 }, kms.ErrCorrupt},
		{"kdf time 0", func(m map[string]any) { kdf(m)["time"] = 0 }, kms.ErrCorrupt},
		{"kdf time absurd", func(m map[string]any) { kdf(m)["time"] = 1 << 31 }, kms.ErrCorrupt},
		{"kdf time negative", func(m map[string]any) { kdf(m)["time"] = -3 }, kms.ErrCorrupt},
		{"kdf time fractional", func(m map[string]any) { kdf(m)["time"] = 1.5 }, kms.ErrCorrupt},
		{"kdf memory 100 GiB", func(m map[string]any) { kdf(m)["memory_kib"] = 100 << 20 }, kms.ErrCorrupt},
		{"kdf memory overflows uint32", func(m map[string]any) { kdf(m)["memory_kib"] = int64(1) << 40 }, kms.ErrCorrupt},
		{"kdf memory below 8 KiB per thread", func(m map[string]any) { kdf(m)["memory_kib"] = 7 }, kms.ErrCorrupt},
		{"kdf threads 0", func(m map[string]any) { kdf(m)["threads"] = 0 }, kms.ErrCorrupt},
		{"kdf threads 256", func(m map[string]any) { kdf(m)["threads"] = 256 }, kms.ErrCorrupt},
		{"kdf threads 65", func(m map[string]any) { kdf(m)["threads"] = 65; kdf(m)["memory_kib"] = 1024 }, kms.ErrCorrupt},
		{"salt short", func(m map[string]any) { kdf(m)["salt"] = b64of(15) }, kms.ErrCorrupt},
		{"salt long", func(m map[string]any) { kdf(m)["salt"] = b64of(65) }, kms.ErrCorrupt},
		{"salt bad base64", func(m map[string]any) { kdf(m)["salt"] = "!!!!" + b64of(16) }, kms.ErrCorrupt},
		{"salt unpadded", func(m map[string]any) { kdf(m)["salt"] = strings.TrimRight(b64of(16), "=") }, kms.ErrCorrupt},
		{"nonce short", func(m map[string]any) { m["nonce"] = b64of(11) }, kms.ErrCorrupt},
		{"nonce missing", func(m map[string]any) { delete(m, "nonce") }, kms.ErrCorrupt},
		{"sealed_key short", func(m map[string]any) { m["sealed_key"] = b64of(47) }, kms.ErrCorrupt},
		{"sealed_key long", func(m map[string]any) { m["sealed_key"] = b64of(49) }, kms.ErrCorrupt},
		{"sealed_key url base64", func(m map[string]any) {
			m["sealed_key"] = base64.URLEncoding.EncodeToString(bytes.Repeat([]byte{0xfb}, 48))
		}, kms.ErrCorrupt},
		{"sealed_key number", func(m map[string]any) { m["sealed_key"] = 5 }, kms.ErrCorrupt},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			m := validKeyFileJSON(t)
			tc.mutate(m)
			_, err := parseKeyFile(encodeJSON(t, m))
			require.ErrorIs(t, err, tc.want)
		})
	}

	raw := map[string]struct {
		data string
		want error
	}{
		"empty":          {"", kms.ErrCorrupt},
		"null":           {"null", kms.ErrCorrupt},
		"array":          {"[]", kms.ErrCorrupt},
		"string":         {`"piiguard.rootkey"`, kms.ErrCorrupt},
		"empty object":   {"{}", kms.ErrCorrupt},
		"truncated":      {"", kms.ErrCorrupt}, // filled below
		"trailing data":  {"", kms.ErrCorrupt}, // filled below
		"duplicate":      {"", kms.ErrCorrupt}, // filled below
		"too large":      {`{"format":"piiguard.rootkey","version":1,"pad":"` + strings.Repeat("x", maxKeyFileSize) + `"}`, kms.ErrCorrupt},
		"not JSON":       {"format=piiguard.rootkey", kms.ErrCorrupt},
		"nested deeply":  {`{"format":"piiguard.rootkey","version":1,"x":` + strings.Repeat("[", 100) + strings.Repeat("]", 100) + "}", kms.ErrCorrupt},
		"future version": {`{"format":"piiguard.rootkey","version":7,"whatever":{}}`, kms.ErrUnsupportedVersion},
	}
	golden, err := os.ReadFile(goldenKeyFile)
	require.NoError(t, err)
	raw["truncated"] = struct {
		data string
		want error
	}{string(golden[:len(golden)/2]), kms.ErrCorrupt}
	raw["trailing data"] = struct {
		data string
		want error
	}{string(golden) + "{}", kms.ErrCorrupt}
	raw["duplicate"] = struct {
		data string
		want error
	}{strings.Replace(string(golden), `"version": 1,`, `"version": 1, "version": 1,`, 1), kms.ErrCorrupt}
	for name, tc := range raw {
		t.Run(name, func(t *testing.T) {
			_, err := parseKeyFile([]byte(tc.data))
			require.ErrorIs(t, err, tc.want)
		})
	}
}

// TestKeyFileHeaderIsAuthenticated changes one header member at a time,
// keeping the file well formed: the right passphrase must then fail, since
// the header is the associated data of sealed_key.
func TestKeyFileHeaderIsAuthenticated(t *testing.T) {
	kf0, _ := goldenKeyFileV1([]byte(goldenPassphrase))
	_, err := kf0.open([]byte(goldenPassphrase))
	require.NoError(t, err)
	cases := map[string]func(kf *keyFile){
		"key_id":  func(kf *keyFile) { kf.keyID[0] ^= 1 },
		"time":    func(kf *keyFile) { kf.kdf.Time++ },
		"memory":  func(kf *keyFile) { kf.kdf.MemoryKiB += 8 },
		"threads": func(kf *keyFile) { kf.kdf.Threads++; kf.kdf.MemoryKiB = 64 },
		"salt":    func(kf *keyFile) { kf.salt = append(bytes.Clone(kf.salt), 0) },
		"nonce":   func(kf *keyFile) { kf.nonce = bytes.Clone(kf.nonce); kf.nonce[11] ^= 0x80 },
		"sealed":  func(kf *keyFile) { kf.sealedKey = bytes.Clone(kf.sealedKey); kf.sealedKey[0] ^= 1 },
	}
	for name, mutate := range cases {
		t.Run(name, func(t *testing.T) {
			kf, _ := goldenKeyFileV1([]byte(goldenPassphrase))
			mutate(kf)
			parsed, err := parseKeyFile(kf.marshal())
			require.NoError(t, err, "the mutated file must stay well formed")
			_, err = parsed.open([]byte(goldenPassphrase))
			require.ErrorIs(t, err, kms.ErrWrongPassphrase)
		})
	}

	// The key_id alone changes no KDF input: only the associated data
	// catches it.
	kf, _ := goldenKeyFileV1([]byte(goldenPassphrase))
	kf.keyID[15] ^= 0x40
	_, err = kf.open([]byte(goldenPassphrase))
	require.ErrorIs(t, err, kms.ErrWrongPassphrase)
}

func TestKeyFileMarshalParseRoundTrip(t *testing.T) {
	kf, _ := goldenKeyFileV1([]byte(goldenPassphrase))
	parsed, err := parseKeyFile(kf.marshal())
	require.NoError(t, err)
	assert.Equal(t, kf, parsed)
}

// TestLocalDriverCloseZeroesKey: Close closes the driver's cipher, which
// zeroes the root key (kms/internal/rootcipher's TestCloseZeroesKey).
func TestLocalDriverCloseZeroesKey(t *testing.T) {
	d, err := Open(goldenKeyFile, []byte(goldenPassphrase), Options{})
	require.NoError(t, err)
	require.NoError(t, d.Close())
	_, err = d.c.Wrap(context.Background(), []byte("x"), nil)
	require.ErrorIs(t, err, kms.ErrClosed, "the cipher is closed, and its key zeroed")
	require.NoError(t, d.Close())
}

// TestLocalWrapFormat pins the wrap format: version byte, key check,
// nonce, tag, and the header in the associated data.
func TestLocalWrapFormat(t *testing.T) {
	d, err := Open(goldenKeyFile, []byte(goldenPassphrase), Options{})
	require.NoError(t, err)
	defer d.Close()
	ctx := context.Background()
	ct, err := d.Wrap(ctx, []byte("abc"), []byte("ad"))
	require.NoError(t, err)
	const wrapOverhead = 1 + 4 + 12 + 16 // format byte, key check, nonce, tag
	require.Len(t, ct, wrapOverhead+3)
	assert.Equal(t, byte(0x01), ct[0])
	keyID, err := hex.DecodeString(d.KeyID())
	require.NoError(t, err)
	assert.Equal(t, keyID[:4], ct[1:5])

	// A version byte other than 1 is refused before decryption.
	bad := bytes.Clone(ct)
	bad[0] = 2
	_, err = d.Unwrap(ctx, bad, []byte("ad"))
	require.ErrorIs(t, err, kms.ErrInvalidCiphertext)
	assert.Contains(t, err.Error(), "unknown format byte")

	// A ciphertext of another key is named as such.
	bad = bytes.Clone(ct)
	bad[1] ^= 1
	_, err = d.Unwrap(ctx, bad, []byte("ad"))
	require.ErrorIs(t, err, kms.ErrInvalidCiphertext)
	assert.Contains(t, err.Error(), "another root key")
	assert.True(t, errors.Is(err, kms.ErrInvalidCiphertext))
}
