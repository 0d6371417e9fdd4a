package keyedprf

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"strconv"
	"sync"
	"testing"
	"unsafe"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/tink-crypto/tink-go/v2/keyset"
	"github.com/tink-crypto/tink-go/v2/prf"
)

// versions returns a keyset manager holding n HMAC-SHA256 PRF versions,
// the last one primary, and their IDs in the order they were added.
func versions(t testing.TB, n int) (*keyset.Manager, []uint32) {
	t.Helper()
	m := keyset.NewManager()
	var ids []uint32
	for range n {
		id, err := m.Add(prf.HMACSHA256PRFKeyTemplate())
		require.NoError(t, err)
		ids = append(ids, id)
	}
	require.NoError(t, m.SetPrimary(ids[n-1]))
	return m, ids
}

func setOf(t testing.TB, m *keyset.Manager) *prf.Set {
	t.Helper()
	h, err := m.Handle()
	require.NoError(t, err)
	s, err := prf.NewPRFSet(h)
	require.NoError(t, err)
	return s
}

func testScheme(bits int) Scheme {
	return Scheme{
		Label:    "piiguard/test/v1\x00",
		Bits:     bits,
		Encoding: base64.RawURLEncoding,
		Head: func(id uint32, domain string) (string, error) {
			if domain == "" {
				return "", errors.New("test: empty domain")
			}
			return "t1." + strconv.FormatUint(uint64(id), 16) + ".", nil
		},
	}
}

// byHand computes what the package documentation says an output is.
func byHand(t testing.TB, set *prf.Set, id uint32, label, domain, msg string, bits int) string {
	t.Helper()
	key, err := set.PRFs[id].ComputePRF([]byte(label+domain), 32)
	require.NoError(t, err)
	m := hmac.New(sha256.New, key)
	m.Write([]byte(msg))
	sum := m.Sum(nil)[:(bits+7)/8]
	if r := bits % 8; r != 0 {
		sum[len(sum)-1] &= byte(0xff << (8 - r))
	}
	return "t1." + strconv.FormatUint(uint64(id), 16) + "." + base64.RawURLEncoding.EncodeToString(sum)
}

func TestOutputIsTheDocumentedConstruction(t *testing.T) {
	m, ids := versions(t, 2)
	set := setOf(t, m)
	for _, bits := range []int{1, 7, 8, 12, 16, 128, 255, 256} {
		d, err := New(testScheme(bits))
		require.NoError(t, err)
		keys, err := d.Keys(set)
		require.NoError(t, err)
		for _, id := range ids {
			k, err := keys.Key(id, "Customer\x00Email")
			require.NoError(t, err)
			want := byHand(t, set, id, "piiguard/test/v1\x00", "Customer\x00Email", "lucy@example.com", bits)
			assert.Equal(t, want, k.Text("lucy@example.com"), "bits %d, version %d", bits, id)
			assert.Equal(t, want, string(k.Append([]byte(nil), "lucy@example.com")))
			assert.Len(t, want, k.Len())
			raw := k.AppendMAC(nil, "lucy@example.com")
			assert.Len(t, raw, (bits+7)/8)
			assert.Equal(t, want, k.Head()+base64.RawURLEncoding.EncodeToString(raw))
		}
	}
}

func TestSchemeIsChecked(t *testing.T) {
	for _, bits := range []int{0, -1, 257} {
		_, err := New(testScheme(bits))
		assert.Error(t, err, "bits %d", bits)
	}
	s := testScheme(16)
	s.Head = nil
	_, err := New(s)
	assert.Error(t, err)
}

func TestKeysFollowTheSetPointer(t *testing.T) {
	m, ids := versions(t, 2)
	old, cur := ids[0], ids[1]
	set := setOf(t, m)
	d, err := New(testScheme(16))
	require.NoError(t, err)

	k1, err := d.Keys(set)
	require.NoError(t, err)
	k2, err := d.Keys(set)
	require.NoError(t, err)
	assert.Same(t, k1, k2, "the same set, the same keys")
	assert.Equal(t, cur, k1.PrimaryID())
	assert.Equal(t, []uint32{cur, old}, k1.Versions(), "the primary first")
	a, err := k1.Key(old, "d")
	require.NoError(t, err)
	b, err := k1.Key(old, "d")
	require.NoError(t, err)
	assert.Same(t, a, b, "a key is derived once")

	// The key source hands out a new set without the old version: it
	// stops at once.
	require.NoError(t, m.Disable(old))
	next := setOf(t, m)
	k3, err := d.Keys(next)
	require.NoError(t, err)
	assert.NotSame(t, k1, k3)
	assert.Equal(t, []uint32{cur}, k3.Versions())
	_, err = k3.Key(old, "d")
	assert.ErrorIs(t, err, ErrNotEnabled)
	assert.Equal(t, fmt.Sprintf("keyedprf: key version not enabled: version %d", old), err.Error(), "names the version only")

	// A caller still holding the earlier set gets that set's keys, not the
	// newer ones: each call is consistent with the set it was given.
	k4, err := d.Keys(set)
	require.NoError(t, err)
	_, err = k4.Key(old, "d")
	assert.NoError(t, err)

	_, err = d.Keys(nil)
	assert.ErrorIs(t, err, ErrNoSet)
}

func TestVersionsWithoutAnEnabledPrimary(t *testing.T) {
	m, ids := versions(t, 3)
	set := setOf(t, m)
	// Tink refuses to make such a set; a key source could still hand one
	// out, so the package does not assume the primary is enabled.
	delete(set.PRFs, set.PrimaryID)
	d, err := New(testScheme(16))
	require.NoError(t, err)
	k, err := d.Keys(set)
	require.NoError(t, err)
	assert.Equal(t, []uint32{min(ids[0], ids[1]), max(ids[0], ids[1])}, k.Versions())
	_, err = k.Key(set.PrimaryID, "d")
	assert.ErrorIs(t, err, ErrNotEnabled)
}

func TestHeadErrorDerivesNothing(t *testing.T) {
	m, ids := versions(t, 1)
	d, err := New(testScheme(16))
	require.NoError(t, err)
	k, err := d.Keys(setOf(t, m))
	require.NoError(t, err)
	_, err = k.Key(ids[0], "")
	assert.EqualError(t, err, "test: empty domain")
	assert.Empty(t, *k.primary.Load(), "nothing cached")
}

func TestDomainIsNotKept(t *testing.T) {
	m, ids := versions(t, 1)
	set := setOf(t, m)
	d, err := New(testScheme(16))
	require.NoError(t, err)
	k, err := d.Keys(set)
	require.NoError(t, err)
	buf := []byte("Customer\x00Email")
	view := unsafeString(buf)
	key, err := k.Key(ids[0], view)
	require.NoError(t, err)
	copy(buf, "Supplier\x00Phone")
	other, err := k.Key(ids[0], view)
	require.NoError(t, err)
	assert.NotSame(t, key, other, "the first key was cached under a copy of its domain")
	again, err := k.Key(ids[0], "Customer\x00Email")
	require.NoError(t, err)
	assert.Same(t, key, again)
	assert.Equal(t, byHand(t, set, ids[0], "piiguard/test/v1\x00", "Customer\x00Email", "x", 16), key.Text("x"))
}

func TestCacheStartsOverPastItsBound(t *testing.T) {
	m, ids := versions(t, 2)
	d, err := New(testScheme(16))
	require.NoError(t, err)
	k, err := d.Keys(setOf(t, m))
	require.NoError(t, err)
	for i := range maxDomains + 10 {
		_, err := k.Key(ids[1], strconv.Itoa(i))
		require.NoError(t, err)
		_, err = k.Key(ids[0], strconv.Itoa(i))
		require.NoError(t, err)
	}
	assert.LessOrEqual(t, len(*k.primary.Load()), maxDomains)
	assert.LessOrEqual(t, len(*k.others.Load()), maxDomains)
}

func TestConcurrentUse(t *testing.T) {
	m, ids := versions(t, 2)
	sets := []*prf.Set{setOf(t, m), setOf(t, m)}
	d, err := New(testScheme(16))
	require.NoError(t, err)
	want := map[uint32]string{}
	for _, id := range ids {
		want[id] = byHand(t, sets[0], id, "piiguard/test/v1\x00", "d7", "v", 16)
	}
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range 500 {
				k, err := d.Keys(sets[(g+i)%2])
				if !assert.NoError(t, err) {
					return
				}
				id := ids[i%2]
				key, err := k.Key(id, "d"+strconv.Itoa(i%10))
				if !assert.NoError(t, err) {
					return
				}
				out := key.Text("v")
				if i%10 == 7 {
					assert.Equal(t, want[id], out)
				}
			}
		}()
	}
	wg.Wait()
}

func TestEachMACIsOfItsMessageAlone(t *testing.T) {
	m, ids := versions(t, 1)
	d, err := New(testScheme(256))
	require.NoError(t, err)
	k, err := d.Keys(setOf(t, m))
	require.NoError(t, err)
	key, err := k.Key(ids[0], "d")
	require.NoError(t, err)
	first := key.Text("lucy@example.com")
	// A reset HMAC gives the MAC of the next message alone, whatever the
	// last one was.
	assert.Equal(t, first, key.Text("lucy@example.com"))
	assert.NotEqual(t, first, key.Text("lucy@example.co"))
	assert.Equal(t, first, key.Text("lucy@example.com"))
}

func unsafeString(b []byte) string { return unsafe.String(unsafe.SliceData(b), len(b)) }
