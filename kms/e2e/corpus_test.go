package e2e_test

import (
	"bytes"
	"context"
	"fmt"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/piiguard/piiguard/kms"
)

// corpus is data protected by every kind of keyset of a keyring, made
// before a migration or an outage, and checked after it.
type corpus struct {
	ciphertexts map[string][]byte // AEAD ciphertexts by plaintext, over several versions
	det         []byte            // deterministic AEAD ciphertext of detInput
	prfOut      []byte            // PRF output on prfInput
	tag         []byte            // MAC tag on macInput
	sig         []byte            // signature on sigInput
	subjectCT   []byte            // encrypted with subject "customer-42"'s key
	keysets     int               // keysets in the store
	destroyedID uint32            // a version of "fields" that was destroyed
}

const (
	detInput = "4111-1111-1111-1111"
	prfInput = "alice@example.com"
	macInput = "audit record 1"
	sigInput = "audit checkpoint 1"
	aeadAD   = "customers/42/email"
)

// makeCorpus creates keysets of every purpose, with several versions
// (one rotated, one disabled, one destroyed), and protects data with them.
func makeCorpus(t *testing.T, ctx context.Context, kr *kms.Keyring) *corpus {
	t.Helper()
	c := &corpus{ciphertexts: map[string][]byte{}}
	for name, p := range map[string]kms.Purpose{
		"fields": kms.PurposeAEAD, "search": kms.PurposePRF, "tokens": kms.PurposeDeterministicAEAD,
		"audit-chain": kms.PurposeMAC, "audit-sign": kms.PurposeSignature,
	} {
		_, err := kms.NewAdmin(kr).Create(ctx, name, p)
		require.NoError(t, err, "create %s", name)
	}
	encrypt := func(pt string) {
		a, err := kr.AEAD(ctx, "fields")
		require.NoError(t, err)
		ct, err := a.Encrypt([]byte(pt), []byte(aeadAD))
		require.NoError(t, err)
		c.ciphertexts[pt] = ct
	}
	encrypt("under version 1")
	v2, err := kms.NewAdmin(kr).Rotate(ctx, "fields")
	require.NoError(t, err)
	encrypt("under version 2")
	v3, err := kms.NewAdmin(kr).Rotate(ctx, "fields")
	require.NoError(t, err)
	encrypt("under version 3")
	v4, err := kms.NewAdmin(kr).Rotate(ctx, "fields")
	require.NoError(t, err)
	encrypt("under version 4")
	// Version 2 is retired for good, version 3 disabled (reversibly).
	require.NoError(t, kms.NewAdmin(kr).Destroy(ctx, "fields", v2.ID))
	delete(c.ciphertexts, "under version 2")
	c.destroyedID = v2.ID
	require.NoError(t, kms.NewAdmin(kr).Disable(ctx, "fields", v3.ID))
	delete(c.ciphertexts, "under version 3")
	_ = v4
	_, err = kms.NewAdmin(kr).Rotate(ctx, "search")
	require.NoError(t, err)

	d, err := kr.DeterministicAEAD(ctx, "tokens")
	require.NoError(t, err)
	c.det, err = d.EncryptDeterministically([]byte(detInput), nil)
	require.NoError(t, err)
	ps, err := kr.PRF(ctx, "search")
	require.NoError(t, err)
	c.prfOut, err = ps.ComputePrimaryPRF([]byte(prfInput), 32)
	require.NoError(t, err)
	m, err := kr.MAC(ctx, "audit-chain")
	require.NoError(t, err)
	c.tag, err = m.ComputeMAC([]byte(macInput))
	require.NoError(t, err)
	s, err := kr.Signer(ctx, "audit-sign")
	require.NoError(t, err)
	c.sig, err = s.Sign([]byte(sigInput))
	require.NoError(t, err)
	sk, err := kr.SubjectKey(ctx, "customer-42")
	require.NoError(t, err)
	c.subjectCT, err = sk.Encrypt([]byte("customer 42's address"), []byte("customer-42"))
	require.NoError(t, err)

	ks, err := kms.NewAdmin(kr).Keysets(ctx)
	require.NoError(t, err)
	c.keysets = len(ks) // the five above and "subjects"
	require.Equal(t, 6, c.keysets)
	return c
}

// check proves everything in the corpus still opens with kr, and that new
// data can be protected.
func (c *corpus) check(t *testing.T, ctx context.Context, kr *kms.Keyring) {
	t.Helper()
	a, err := kr.AEAD(ctx, "fields")
	require.NoError(t, err)
	for pt, ct := range c.ciphertexts {
		got, err := a.Decrypt(ct, []byte(aeadAD))
		if assert.NoError(t, err, "decrypt %q", pt) {
			assert.Equal(t, pt, string(got))
		}
	}
	fresh, err := a.Encrypt([]byte("after"), []byte(aeadAD))
	require.NoError(t, err)
	got, err := a.Decrypt(fresh, []byte(aeadAD))
	require.NoError(t, err)
	assert.Equal(t, "after", string(got))

	d, err := kr.DeterministicAEAD(ctx, "tokens")
	require.NoError(t, err)
	det, err := d.EncryptDeterministically([]byte(detInput), nil)
	require.NoError(t, err)
	assert.True(t, bytes.Equal(c.det, det), "deterministic tokens are stable")
	ps, err := kr.PRF(ctx, "search")
	require.NoError(t, err)
	out, err := ps.ComputePrimaryPRF([]byte(prfInput), 32)
	require.NoError(t, err)
	assert.True(t, bytes.Equal(c.prfOut, out), "blind indexes are stable")
	m, err := kr.MAC(ctx, "audit-chain")
	require.NoError(t, err)
	assert.NoError(t, m.VerifyMAC(c.tag, []byte(macInput)))
	v, err := kr.Verifier(ctx, "audit-sign")
	require.NoError(t, err)
	assert.NoError(t, v.Verify(c.sig, []byte(sigInput)))
	sk, err := kr.SubjectKey(ctx, "customer-42")
	require.NoError(t, err)
	pt, err := sk.Decrypt(c.subjectCT, []byte("customer-42"))
	require.NoError(t, err)
	assert.Equal(t, "customer 42's address", string(pt))
}

// checkVerify runs the recovery drill and checks it covered everything.
func (c *corpus) checkVerify(t *testing.T, ctx context.Context, kr *kms.Keyring) {
	t.Helper()
	rep, err := kms.NewAdmin(kr).Verify(ctx)
	require.NoError(t, err)
	require.True(t, rep.OK(), "%v", rep.Failures)
	assert.Equal(t, c.keysets, rep.Keysets)
	assert.Equal(t, 1, rep.Skipped, "the destroyed version cannot be checked")
	// fields: 4 versions, one destroyed; search: 2; others and subjects: 1.
	assert.Equal(t, 3+2+1+1+1+1, rep.Checked)
}

// rootNames returns the root key named in each keyset record.
func rootNames(t *testing.T, ctx context.Context, s kms.Store) map[string]string {
	t.Helper()
	recs, err := s.ListKeysets(ctx)
	require.NoError(t, err)
	out := map[string]string{}
	for _, r := range recs {
		out[r.Name] = r.RootKey
	}
	return out
}

// allNamed checks that every keyset record names root.
func allNamed(t *testing.T, ctx context.Context, s kms.Store, root string) {
	t.Helper()
	for name, r := range rootNames(t, ctx, s) {
		assert.Equal(t, root, r, fmt.Sprintf("keyset %q", name))
	}
}
