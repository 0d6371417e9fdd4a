package ff1

import (
	"testing"
)

// The benchmarks compare Cipher with refFF1, the straightforward math/big
// implementation, on the same AES block, so the ratio is the speed-up of the
// uint64 path and of the precomputed CBC-MAC prefix; and with one AES block
// operation, the primitive underneath (a 16-digit encryption with a short
// tweak costs eleven of them).

var benchSink []uint16

func benchInput(b *testing.B, n int) (*Cipher, []uint16, []byte) {
	b.Helper()
	c := mustCipher(b, mustHex(b, nistKey128), 10, Options{})
	x := make([]uint16, n)
	for i := range x {
		x[i] = uint16((i*7 + 3) % 10)
	}
	return c, x, []byte("card-number")
}

func BenchmarkEncrypt16Digits(b *testing.B) {
	c, x, tweak := benchInput(b, 16)
	b.ReportAllocs()
	for b.Loop() {
		y, err := c.Encrypt(x, tweak)
		if err != nil {
			b.Fatal(err)
		}
		benchSink = y
	}
}

func BenchmarkDecrypt16Digits(b *testing.B) {
	c, x, tweak := benchInput(b, 16)
	b.ReportAllocs()
	for b.Loop() {
		y, err := c.Decrypt(x, tweak)
		if err != nil {
			b.Fatal(err)
		}
		benchSink = y
	}
}

func BenchmarkReferenceEncrypt16Digits(b *testing.B) {
	c, x, tweak := benchInput(b, 16)
	b.ReportAllocs()
	for b.Loop() {
		benchSink = refFF1(c.block, 10, x, tweak, false)
	}
}

func BenchmarkEncryptString16Digits(b *testing.B) {
	c, _, tweak := benchInput(b, 16)
	b.ReportAllocs()
	for b.Loop() {
		s, err := c.EncryptString(Digits(), "4111111111111111", tweak)
		if err != nil {
			b.Fatal(err)
		}
		_ = s
	}
}

// 56 digits, the default maximum for radix 10, takes the math/big path.
func BenchmarkEncrypt56Digits(b *testing.B) {
	c, x, tweak := benchInput(b, 56)
	b.ReportAllocs()
	for b.Loop() {
		y, err := c.Encrypt(x, tweak)
		if err != nil {
			b.Fatal(err)
		}
		benchSink = y
	}
}

func BenchmarkReferenceEncrypt56Digits(b *testing.B) {
	c, x, tweak := benchInput(b, 56)
	b.ReportAllocs()
	for b.Loop() {
		benchSink = refFF1(c.block, 10, x, tweak, false)
	}
}

func BenchmarkAESBlock(b *testing.B) {
	c, _, _ := benchInput(b, 16)
	buf := make([]byte, blockSize)
	b.ReportAllocs()
	for b.Loop() {
		c.block.Encrypt(buf, buf)
	}
}
