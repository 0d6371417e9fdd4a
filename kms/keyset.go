package kms

import (
	"bytes"
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"time"

	"github.com/tink-crypto/tink-go/v2/aead"
	aeadsubtle "github.com/tink-crypto/tink-go/v2/aead/subtle"
	"github.com/tink-crypto/tink-go/v2/daead"
	"github.com/tink-crypto/tink-go/v2/keyset"
	"github.com/tink-crypto/tink-go/v2/mac"
	"github.com/tink-crypto/tink-go/v2/prf"
	tinkpb "github.com/tink-crypto/tink-go/v2/proto/tink_go_proto"
	"github.com/tink-crypto/tink-go/v2/signature"
)

// dataKeySize is the size of the data key that encrypts a keyset; the root
// key only ever wraps data keys of this size.
const dataKeySize = 32

// canaryInput is the fixed, public input on which every version's canary is
// computed. It is not secret: a canary only proves that a version still works.
var canaryInput = []byte("piiguard kms canary v1")

// template returns the Tink key template of a purpose.
func (p Purpose) template() (*tinkpb.KeyTemplate, error) {
	switch p {
	case PurposeAEAD:
		return aead.AES256GCMKeyTemplate(), nil
	case PurposePRF:
		return prf.HMACSHA256PRFKeyTemplate(), nil
	case PurposeDeterministicAEAD:
		return daead.AESSIVKeyTemplate(), nil
	case PurposeMAC:
		return mac.HMACSHA256Tag256KeyTemplate(), nil
	case PurposeSignature:
		return signature.ED25519KeyTemplate(), nil
	}
	return nil, fmt.Errorf("%w: unknown purpose %q", ErrInvalidArgument, string(p))
}

// keysetAD is the associated data that binds a keyset's data key and
// ciphertext to its name and purpose: a record renamed or copied under
// another name does not open.
func keysetAD(name string, p Purpose) []byte {
	return []byte("piiguard.keyset.v1\x00" + name + "\x00" + string(p))
}

// sealKeyset encrypts h into rec under a fresh data key wrapped by root.
func sealKeyset(ctx context.Context, root *RootKey, rec *KeysetRecord, h *keyset.Handle) error {
	dk := make([]byte, dataKeySize)
	if _, err := rand.Read(dk); err != nil {
		return fmt.Errorf("%w: random data key: %w", ErrBackend, err)
	}
	defer clear(dk)
	ad := keysetAD(rec.Name, rec.Purpose)
	wrapped, err := root.Wrap(ctx, dk, ad)
	if err != nil {
		return err
	}
	ct, err := encryptKeyset(dk, h, ad)
	if err != nil {
		return err
	}
	rec.RootKey = root.Name()
	rec.WrappedDataKey = wrapped
	rec.EncryptedKeyset = ct
	return nil
}

// encryptKeyset writes h encrypted under the data key dk.
func encryptKeyset(dk []byte, h *keyset.Handle, ad []byte) ([]byte, error) {
	a, err := aeadsubtle.NewAESGCM(dk)
	if err != nil {
		return nil, fmt.Errorf("%w: data key: %w", ErrBackend, err)
	}
	var buf bytes.Buffer
	if err := h.WriteWithAssociatedData(keyset.NewBinaryWriter(&buf), a, ad); err != nil {
		return nil, fmt.Errorf("%w: encrypt keyset: %w", ErrBackend, err)
	}
	return buf.Bytes(), nil
}

// unwrapDataKey asks root for rec's data key.
func unwrapDataKey(ctx context.Context, root *RootKey, rec *KeysetRecord) ([]byte, error) {
	return root.Unwrap(ctx, rec.WrappedDataKey, keysetAD(rec.Name, rec.Purpose))
}

// openKeyset decrypts rec with root and checks it against its metadata.
func openKeyset(ctx context.Context, root *RootKey, rec *KeysetRecord) (*keyset.Handle, error) {
	dk, err := unwrapDataKey(ctx, root, rec)
	if err != nil {
		return nil, err
	}
	defer clear(dk)
	return decryptKeyset(dk, rec)
}

func decryptKeyset(dk []byte, rec *KeysetRecord) (*keyset.Handle, error) {
	a, err := aeadsubtle.NewAESGCM(dk)
	if err != nil {
		return nil, fmt.Errorf("%w: data key of keyset %q has the wrong size", ErrInvalidCiphertext, rec.Name)
	}
	h, err := keyset.ReadWithAssociatedData(keyset.NewBinaryReader(bytes.NewReader(rec.EncryptedKeyset)), a, keysetAD(rec.Name, rec.Purpose))
	if err != nil {
		return nil, fmt.Errorf("%w: encrypted keyset %q does not open", ErrInvalidCiphertext, rec.Name)
	}
	if err := checkMetadata(h, rec); err != nil {
		return nil, err
	}
	return h, nil
}

// checkMetadata makes sure the clear metadata agrees with the keyset: every
// key in the keyset is a known, non-destroyed version with the same status
// and primary flag. A mismatch means the record was tampered with or
// corrupted.
func checkMetadata(h *keyset.Handle, rec *KeysetRecord) error {
	info := h.KeysetInfo()
	byID := make(map[uint32]*VersionRecord, len(rec.Versions))
	for i := range rec.Versions {
		byID[rec.Versions[i].ID] = &rec.Versions[i]
	}
	for _, ki := range info.GetKeyInfo() {
		v, ok := byID[ki.GetKeyId()]
		if !ok {
			return fmt.Errorf("%w: keyset %q holds key %d that its metadata does not list", ErrCorrupt, rec.Name, ki.GetKeyId())
		}
		want := StatusEnabled
		if ki.GetStatus() == tinkpb.KeyStatusType_DISABLED {
			want = StatusDisabled
		}
		if v.Status != want || v.Primary != (ki.GetKeyId() == info.GetPrimaryKeyId()) {
			return fmt.Errorf("%w: metadata of keyset %q disagrees with the keyset about version %d", ErrCorrupt, rec.Name, v.ID)
		}
	}
	return nil
}

// newVersion adds a fresh key to m (enabled, not primary), avoiding the IDs
// of destroyed versions so that an ID never means two keys.
func newVersion(m *keyset.Manager, p Purpose, taken map[uint32]bool) (uint32, error) {
	tmpl, err := p.template()
	if err != nil {
		return 0, err
	}
	for {
		id, err := m.Add(tmpl)
		if err != nil {
			return 0, fmt.Errorf("%w: new key: %w", ErrBackend, err)
		}
		if !taken[id] {
			return id, nil
		}
		if err := m.Delete(id); err != nil {
			return 0, fmt.Errorf("%w: new key: %w", ErrBackend, err)
		}
	}
}

// singleVersion returns a handle holding only version id of h, enabled and
// primary, so that the version can be exercised on its own (canaries,
// verification) whatever its status in the keyset.
func singleVersion(h *keyset.Handle, id uint32) (*keyset.Handle, error) {
	m := keyset.NewManagerFromHandle(h)
	info := h.KeysetInfo()
	found := false
	for _, ki := range info.GetKeyInfo() {
		if ki.GetKeyId() == id {
			found = true
		}
	}
	if !found {
		return nil, fmt.Errorf("%w: version %d", ErrNotFound, id)
	}
	if err := m.Enable(id); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrBackend, err)
	}
	if err := m.SetPrimary(id); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrBackend, err)
	}
	for _, ki := range info.GetKeyInfo() {
		if ki.GetKeyId() != id {
			if err := m.Delete(ki.GetKeyId()); err != nil {
				return nil, fmt.Errorf("%w: %w", ErrBackend, err)
			}
		}
	}
	return m.Handle()
}

// makeCanary computes the canary of version id of h.
func makeCanary(h *keyset.Handle, p Purpose, id uint32) ([]byte, error) {
	one, err := singleVersion(h, id)
	if err != nil {
		return nil, err
	}
	switch p {
	case PurposeAEAD:
		a, err := aead.New(one)
		if err != nil {
			return nil, err
		}
		return a.Encrypt(canaryInput, canaryInput)
	case PurposeDeterministicAEAD:
		d, err := daead.New(one)
		if err != nil {
			return nil, err
		}
		return d.EncryptDeterministically(canaryInput, canaryInput)
	case PurposePRF:
		s, err := prf.NewPRFSet(one)
		if err != nil {
			return nil, err
		}
		return s.ComputePrimaryPRF(canaryInput, 32)
	case PurposeMAC:
		m, err := mac.New(one)
		if err != nil {
			return nil, err
		}
		return m.ComputeMAC(canaryInput)
	case PurposeSignature:
		s, err := signature.NewSigner(one)
		if err != nil {
			return nil, err
		}
		return s.Sign(canaryInput)
	}
	return nil, fmt.Errorf("%w: unknown purpose %q", ErrInvalidArgument, string(p))
}

// checkCanary exercises version id of h on its canary.
func checkCanary(h *keyset.Handle, p Purpose, id uint32, canary []byte) error {
	one, err := singleVersion(h, id)
	if err != nil {
		return err
	}
	var ok bool
	switch p {
	case PurposeAEAD:
		a, err := aead.New(one)
		if err != nil {
			return err
		}
		pt, err := a.Decrypt(canary, canaryInput)
		ok = err == nil && bytes.Equal(pt, canaryInput)
	case PurposeDeterministicAEAD:
		d, err := daead.New(one)
		if err != nil {
			return err
		}
		pt, err := d.DecryptDeterministically(canary, canaryInput)
		ok = err == nil && bytes.Equal(pt, canaryInput)
	case PurposePRF:
		s, err := prf.NewPRFSet(one)
		if err != nil {
			return err
		}
		out, err := s.ComputePrimaryPRF(canaryInput, 32)
		ok = err == nil && bytes.Equal(out, canary)
	case PurposeMAC:
		m, err := mac.New(one)
		if err != nil {
			return err
		}
		ok = m.VerifyMAC(canary, canaryInput) == nil
	case PurposeSignature:
		pub, err := one.Public()
		if err != nil {
			return err
		}
		v, err := signature.NewVerifier(pub)
		if err != nil {
			return err
		}
		ok = v.Verify(canary, canaryInput) == nil
	default:
		return fmt.Errorf("%w: unknown purpose %q", ErrInvalidArgument, string(p))
	}
	if !ok {
		return errors.New("canary does not verify")
	}
	return nil
}

// cloneRecord returns a deep copy of rec, so that a cached or stored record
// is never changed in place.
func cloneRecord(rec *KeysetRecord) *KeysetRecord {
	c := *rec
	c.WrappedDataKey = bytes.Clone(rec.WrappedDataKey)
	c.EncryptedKeyset = bytes.Clone(rec.EncryptedKeyset)
	c.Versions = make([]VersionRecord, len(rec.Versions))
	for i, v := range rec.Versions {
		v.Canary = bytes.Clone(v.Canary)
		c.Versions[i] = v
	}
	return &c
}

// now returns the current time in UTC, truncated to microseconds (the
// precision every store keeps).
func nowUTC(clock func() time.Time) time.Time {
	return clock().UTC().Truncate(time.Microsecond)
}
