package kms

import (
	"context"
	"encoding/binary"
	"fmt"

	"github.com/tink-crypto/tink-go/v2/aead"
	"github.com/tink-crypto/tink-go/v2/daead"
	"github.com/tink-crypto/tink-go/v2/mac"
	"github.com/tink-crypto/tink-go/v2/prf"
	"github.com/tink-crypto/tink-go/v2/signature"
	"github.com/tink-crypto/tink-go/v2/tink"
)

// loadedKeyset is a keyset as the cache holds it: the primitive of its
// purpose, ready to use, and the status of every version it ever had.
type loadedKeyset struct {
	name      string
	purpose   Purpose
	primaryID uint32
	status    map[uint32]Status

	aead     tink.AEAD
	daead    tink.DeterministicAEAD
	prf      *prf.Set
	mac      tink.MAC
	signer   tink.Signer
	verifier tink.Verifier
}

// load returns the keyset from the cache, reading and unwrapping it on a miss.
func (k *Keyring) load(ctx context.Context, op, name string) (*loadedKeyset, error) {
	if err := k.check(op, name); err != nil {
		return nil, err
	}
	if ks, ok := k.keysets.fresh(name); ok {
		return ks, nil
	}
	ks, err := k.keysets.get(ctx, name, func(ctx context.Context) (*loadedKeyset, error) {
		rec, err := k.store.GetKeyset(ctx, name)
		if err != nil {
			return nil, err
		}
		h, err := openKeyset(ctx, k.rootFor(rec), rec)
		if err != nil {
			return nil, k.explainUnwrapFailure(ctx, err)
		}
		ks := &loadedKeyset{name: name, purpose: rec.Purpose, status: make(map[uint32]Status, len(rec.Versions))}
		for _, v := range rec.Versions {
			ks.status[v.ID] = v.Status
			if v.Primary {
				ks.primaryID = v.ID
			}
		}
		switch rec.Purpose {
		case PurposeAEAD:
			ks.aead, err = aead.New(h)
		case PurposeDeterministicAEAD:
			ks.daead, err = daead.New(h)
		case PurposePRF:
			ks.prf, err = prf.NewPRFSet(h)
		case PurposeMAC:
			ks.mac, err = mac.New(h)
		case PurposeSignature:
			ks.signer, err = signature.NewSigner(h)
			if err == nil {
				pub, perr := h.Public()
				if perr != nil {
					return nil, fmt.Errorf("%w: %w", ErrBackend, perr)
				}
				ks.verifier, err = signature.NewVerifier(pub)
			}
		default:
			return nil, fmt.Errorf("%w: stored keyset has unknown purpose %q", ErrCorrupt, string(rec.Purpose))
		}
		if err != nil {
			return nil, fmt.Errorf("%w: primitive: %w", ErrBackend, err)
		}
		return ks, nil
	})
	if err != nil {
		return nil, keyErr(op, name, 0, err)
	}
	return ks, nil
}

func (k *Keyring) loadPurpose(ctx context.Context, name string, p Purpose) (*loadedKeyset, error) {
	ks, err := k.load(ctx, string(p), name)
	if err != nil {
		return nil, err
	}
	if ks.purpose != p {
		return nil, keyErr(string(p), name, 0, fmt.Errorf("%w: keyset is for %s, not %s", ErrInvalidArgument, ks.purpose, p))
	}
	return ks, nil
}

// AEAD returns the keyset's authenticated encryption (AES-256-GCM). Encrypt
// uses the primary version and writes its key ID into the ciphertext;
// Decrypt uses the version named there. A Decrypt error is a *KeyError
// wrapping ErrDisabled or ErrDestroyed when that version was disabled or
// destroyed, ErrNotFound when the keyset never had it (or this process has
// not seen it yet: see Refresh), and ErrInvalidCiphertext otherwise.
//
// The primitive is a snapshot of the keyset; getting it is cheap (a cache
// lookup), so get it per operation rather than keeping it.
func (k *Keyring) AEAD(ctx context.Context, name string) (tink.AEAD, error) {
	ks, err := k.loadPurpose(ctx, name, PurposeAEAD)
	if err != nil {
		return nil, err
	}
	return keyringAEAD{ks}, nil
}

// DeterministicAEAD returns the keyset's deterministic authenticated
// encryption (AES-SIV). Equal plaintexts with equal associated data give
// equal ciphertexts, which is what makes it searchable — and what leaks
// equality. Errors are classified as for AEAD.
func (k *Keyring) DeterministicAEAD(ctx context.Context, name string) (tink.DeterministicAEAD, error) {
	ks, err := k.loadPurpose(ctx, name, PurposeDeterministicAEAD)
	if err != nil {
		return nil, err
	}
	return keyringDAEAD{ks}, nil
}

// PRF returns the keyset's PRFs (HMAC-SHA256): the primary's ID and one PRF
// per enabled version, so that a blind index or token can be computed under
// every version a stored value may have been made with.
//
// The set is made when the keyset is loaded into the cache, and the keyring
// hands out that same *prf.Set until the keyset changes: a change made
// through this keyring or its Admin (Rotate, Promote, AddVersion, Disable,
// Enable, Destroy, Refresh, Restore, Rewrap) drops the cache entry at once,
// and a change made by another process is read when the entry expires
// (KeyringOptions.CacheMaxAge). Every load makes a new *prf.Set, and a set
// handed out is never modified. Callers (package pii's blind indexes and
// package tokenize's HMAC tokens, through internal/keyedprf) key what they
// derive from a set by its pointer, and derive afresh when they are handed
// another: that is the keyring's whole rotation contract for PRFs, and it
// is why PRF is asked per operation rather than kept.
func (k *Keyring) PRF(ctx context.Context, name string) (*prf.Set, error) {
	ks, err := k.loadPurpose(ctx, name, PurposePRF)
	if err != nil {
		return nil, err
	}
	return ks.prf, nil
}

// MAC returns the keyset's message authentication code (HMAC-SHA256, 256-bit
// tags, prefixed with the key ID).
func (k *Keyring) MAC(ctx context.Context, name string) (tink.MAC, error) {
	ks, err := k.loadPurpose(ctx, name, PurposeMAC)
	if err != nil {
		return nil, err
	}
	return ks.mac, nil
}

// Signer returns the keyset's signer (Ed25519, with the primary version).
func (k *Keyring) Signer(ctx context.Context, name string) (tink.Signer, error) {
	ks, err := k.loadPurpose(ctx, name, PurposeSignature)
	if err != nil {
		return nil, err
	}
	return ks.signer, nil
}

// Verifier returns the verifier of the keyset's signatures, for every
// enabled version.
func (k *Keyring) Verifier(ctx context.Context, name string) (tink.Verifier, error) {
	ks, err := k.loadPurpose(ctx, name, PurposeSignature)
	if err != nil {
		return nil, err
	}
	return ks.verifier, nil
}

// tinkPrefixLen is the length of the prefix Tink writes before every
// ciphertext of a key with the TINK output prefix: 0x01 and the key ID.
const tinkPrefixLen = 5

// versionError tells why ciphertext cannot be decrypted by ks, judging by
// the key ID in its prefix, or returns 0, nil if the version is usable.
func (ks *loadedKeyset) versionError(ciphertext []byte) (uint32, error) {
	if len(ciphertext) < tinkPrefixLen || ciphertext[0] != 1 {
		return 0, ErrInvalidCiphertext
	}
	id := binary.BigEndian.Uint32(ciphertext[1:tinkPrefixLen])
	switch st, ok := ks.status[id]; {
	case !ok:
		return id, fmt.Errorf("%w: no such version (if another process rotated the keyset, Refresh)", ErrNotFound)
	case st == StatusDisabled:
		return id, ErrDisabled
	case st == StatusDestroyed:
		return id, ErrDestroyed
	}
	return id, nil
}

type keyringAEAD struct{ ks *loadedKeyset }

func (a keyringAEAD) Encrypt(plaintext, associatedData []byte) ([]byte, error) {
	ct, err := a.ks.aead.Encrypt(plaintext, associatedData)
	if err != nil {
		return nil, keyErr("encrypt", a.ks.name, a.ks.primaryID, fmt.Errorf("%w: %w", ErrBackend, err))
	}
	return ct, nil
}

func (a keyringAEAD) Decrypt(ciphertext, associatedData []byte) ([]byte, error) {
	id, err := a.ks.versionError(ciphertext)
	if err != nil {
		return nil, keyErr("decrypt", a.ks.name, id, err)
	}
	pt, err := a.ks.aead.Decrypt(ciphertext, associatedData)
	if err != nil {
		return nil, keyErr("decrypt", a.ks.name, id, ErrInvalidCiphertext)
	}
	return pt, nil
}

type keyringDAEAD struct{ ks *loadedKeyset }

func (d keyringDAEAD) EncryptDeterministically(plaintext, associatedData []byte) ([]byte, error) {
	ct, err := d.ks.daead.EncryptDeterministically(plaintext, associatedData)
	if err != nil {
		return nil, keyErr("encrypt", d.ks.name, d.ks.primaryID, fmt.Errorf("%w: %w", ErrBackend, err))
	}
	return ct, nil
}

func (d keyringDAEAD) DecryptDeterministically(ciphertext, associatedData []byte) ([]byte, error) {
	id, err := d.ks.versionError(ciphertext)
	if err != nil {
		return nil, keyErr("decrypt", d.ks.name, id, err)
	}
	pt, err := d.ks.daead.DecryptDeterministically(ciphertext, associatedData)
	if err != nil {
		return nil, keyErr("decrypt", d.ks.name, id, ErrInvalidCiphertext)
	}
	return pt, nil
}
