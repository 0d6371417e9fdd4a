package ff1

import (
	"crypto/cipher"
	"encoding/binary"
	"math"
	"math/big"
	"slices"
)

// refFF1 is a straightforward FF1 written line by line from NIST SP 800-38G
// (Algorithms 7 and 8) with math/big, the way most FF1 libraries are written:
// numeral strings are converted with NUM and STR in every round, P || Q is
// rebuilt and CBC-MACed from scratch, b comes from floating-point log2. It
// shares no code with the package and serves both as a cross-check and as
// the baseline of the benchmarks.
func refFF1(block cipher.Block, radix int, x []uint16, tweak []byte, decrypt bool) []uint16 {
	n, t := len(x), len(tweak)
	u := n / 2
	v := n - u
	a, b := slices.Clone(x[:u]), slices.Clone(x[u:])
	bLen := int(math.Ceil(math.Ceil(float64(v)*math.Log2(float64(radix))) / 8))
	d := 4*int(math.Ceil(float64(bLen)/4)) + 4

	p := []byte{1, 2, 1, byte(radix >> 16), byte(radix >> 8), byte(radix), 10, byte(u % 256), 0, 0, 0, 0, 0, 0, 0, 0}
	binary.BigEndian.PutUint32(p[8:], uint32(n))
	binary.BigEndian.PutUint32(p[12:], uint32(t))
	pad := ((-t-bLen-1)%16 + 16) % 16

	for k := range 10 {
		i := k
		if decrypt {
			i = 9 - k
		}
		in := b
		if decrypt {
			in = a
		}
		q := slices.Concat(tweak, make([]byte, pad), []byte{byte(i)}, refNum(in, radix).FillBytes(make([]byte, bLen)))
		// PRF: the last block of CBC-MAC(P || Q) with a zero IV.
		pq := slices.Concat(p, q)
		cbc := cipher.NewCBCEncrypter(block, make([]byte, 16))
		cbc.CryptBlocks(pq, pq)
		r := pq[len(pq)-16:]
		s := slices.Clone(r)
		for j := 1; len(s) < d; j++ {
			blk := slices.Clone(r)
			jb := new(big.Int).SetInt64(int64(j)).FillBytes(make([]byte, 16))
			for z := range blk {
				blk[z] ^= jb[z]
			}
			block.Encrypt(blk, blk)
			s = append(s, blk...)
		}
		y := new(big.Int).SetBytes(s[:d])
		m := u
		if i%2 == 1 {
			m = v
		}
		mod := new(big.Int).Exp(big.NewInt(int64(radix)), big.NewInt(int64(m)), nil)
		c := new(big.Int)
		if !decrypt {
			c.Add(refNum(a, radix), y)
		} else {
			c.Sub(refNum(b, radix), y)
		}
		c.Mod(c, mod) // Euclidean: never negative
		cs := refStr(c, radix, m)
		if !decrypt {
			a, b = b, cs
		} else {
			b, a = a, cs
		}
	}
	return slices.Concat(a, b)
}

func refNum(x []uint16, radix int) *big.Int {
	z, r := new(big.Int), big.NewInt(int64(radix))
	for _, d := range x {
		z.Mul(z, r)
		z.Add(z, big.NewInt(int64(d)))
	}
	return z
}

func refStr(z *big.Int, radix, m int) []uint16 {
	out := make([]uint16, m)
	z = new(big.Int).Set(z)
	r, rem := big.NewInt(int64(radix)), new(big.Int)
	for i := m - 1; i >= 0; i-- {
		z.QuoRem(z, r, rem)
		out[i] = uint16(rem.Int64())
	}
	return out
}
