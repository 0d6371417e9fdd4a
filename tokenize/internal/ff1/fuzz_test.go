package ff1

import (
	"crypto/cipher"
	"encoding/binary"
	"slices"
	"testing"
)

// FuzzRoundTrip encrypts fuzzer-chosen numerals of a fuzzer-chosen radix
// (2 to 65536) and length (the cipher's whole range) under a fuzzer-chosen
// tweak and key size, and checks that the result stays in the domain, that
// Decrypt inverts it, and that it equals the reference implementation's.
func FuzzRoundTrip(f *testing.F) {
	f.Add(uint8(0), uint32(8), uint16(10), []byte{}, []byte("0123456789"))
	f.Add(uint8(1), uint32(34), uint16(19), []byte("7777pqrs777"), []byte("0123456789abcdefghi"))
	f.Add(uint8(2), uint32(0), uint16(200), []byte("tweak"), []byte{0xff, 0xfe, 0x00})
	f.Add(uint8(0), uint32(65534), uint16(12), make([]byte, 40), []byte{0xff, 0xff, 0xff, 0xff})
	f.Add(uint8(1), uint32(60), uint16(32), []byte("x"), []byte("base62 field value"))

	keys := [][]byte{
		[]byte("0123456789abcdef"),
		[]byte("0123456789abcdef01234567"),
		[]byte("0123456789abcdef0123456789abcdef"),
	}
	var blocks [3]cipher.Block
	for i, k := range keys {
		blocks[i] = mustBlock(f, k)
	}

	f.Fuzz(func(t *testing.T, keySel uint8, radixSel uint32, lenSel uint16, tweak []byte, data []byte) {
		radix := MinRadix + int(radixSel%(MaxRadix-MinRadix+1))
		k := int(keySel) % len(keys)
		c, err := New(blocks[k], radix, Options{})
		if err != nil {
			t.Fatal(err)
		}
		n := c.MinLen() + int(lenSel)%(c.MaxLen()-c.MinLen()+1)
		if len(tweak) > c.MaxTweakLen() {
			tweak = tweak[:c.MaxTweakLen()]
		}
		// Numerals from the fuzzer's bytes, two at a time, cycled.
		x := make([]uint16, n)
		for i := range x {
			var v uint16
			if len(data) > 0 {
				j := (2 * i) % len(data)
				v = uint16(data[j]) << 8
				if j+1 < len(data) {
					v |= uint16(data[j+1])
				}
				v ^= uint16(i / max(1, len(data)/2))
			}
			x[i] = uint16(uint32(v) % uint32(radix))
		}

		y, err := c.Encrypt(x, tweak)
		if err != nil {
			t.Fatalf("Encrypt(radix %d, len %d): %v", radix, n, err)
		}
		if len(y) != n {
			t.Fatalf("length %d, want %d", len(y), n)
		}
		for i, d := range y {
			if int(d) >= radix {
				t.Fatalf("numeral %d out of range", i)
			}
		}
		if want := refFF1(blocks[k], radix, x, tweak, false); !slices.Equal(y, want) {
			t.Fatalf("radix %d len %d tweak %d: differs from the reference", radix, n, len(tweak))
		}
		back, err := c.Decrypt(y, tweak)
		if err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(back, x) {
			t.Fatalf("radix %d len %d: round trip failed", radix, n)
		}
	})
}

// FuzzDecodeString feeds arbitrary strings to the string API: it must
// either fail with ErrInvalidInput/ErrDomainTooSmall or round-trip.
func FuzzDecodeString(f *testing.F) {
	f.Add("4111111111111111", false)
	f.Add("héllo wörld 123", true)
	f.Add("\xff\xfe0000000", false)
	c10 := mustCipher(f, mustHex(f, nistKey128), 10, Options{})
	c62 := mustCipher(f, mustHex(f, nistKey128), 62, Options{})
	f.Fuzz(func(t *testing.T, s string, base62 bool) {
		c, a := c10, Digits()
		if base62 {
			c, a = c62, Base62()
		}
		var tweak [4]byte
		binary.BigEndian.PutUint32(tweak[:], uint32(len(s)))
		ct, err := c.EncryptString(a, s, tweak[:])
		if err != nil {
			return
		}
		pt, err := c.DecryptString(a, ct, tweak[:])
		if err != nil || pt != s {
			t.Fatalf("round trip of a valid string failed: %v", err)
		}
	})
}
