package ff1

// The FF1 rounds (NIST SP 800-38G, Algorithms 7 and 8).
//
// Two observations shape the code:
//
//   - A round only ever uses NUM_radix(A), NUM_radix(B) and STR^m_radix(c),
//     and STR and NUM are inverse at a fixed length. So the halves are kept
//     as integers across all ten rounds and converted to numerals once, at
//     the end.
//   - The PRF input P || Q is the same in every round except for the round
//     number and NUM(B), which sit in the last one or two blocks of Q. The
//     CBC-MAC state after P and after the blocks of Q that hold only the
//     tweak and padding is computed once per call.
//
// When radix^v (v = ⌈n/2⌉) fits in a uint64, the halves, the PRF output y
// (d ≤ 12 bytes) and the modular arithmetic all fit in one or two machine
// words and no allocation happens in the rounds (cryptFast). Otherwise the
// arithmetic is done with math/big (cryptBig).

import (
	"encoding/binary"
	"math"
	"math/big"
	"math/bits"
	"sync"
)

// state is the per-call working memory of the fast path. The slices handed
// to cipher.Block.Encrypt escape to the heap, as every argument of an
// interface method call does, so states are recycled through a pool rather
// than allocated per call. A state is wiped before it goes back to the pool:
// it holds intermediate values of the Feistel network.
type state struct {
	h    [blockSize]byte     // CBC-MAC state after P and the constant blocks of Q
	r    [blockSize]byte     // R = PRF(P || Q) of the current round
	tail [2 * blockSize]byte // the blocks of Q that change from round to round
}

var statePool = sync.Pool{New: func() any { return new(state) }}

// layout is the shape of P || Q for one input length and tweak length.
type layout struct {
	n, u, v int // length and halves
	b       int // bytes of NUM(B) in Q: ⌈⌈v·log2(radix)⌉/8⌉
	d       int // bytes of y taken from S: 4⌈b/4⌉+4
	full    int // blocks of Q before the one holding the round number
	pos     int // offset of the round number in the tail
	tailLen int // bytes of Q from the block holding the round number on
}

// newLayout computes the layout of P || Q. bitsV is ⌈log2(radix^v)⌉, the bit
// length of radix^v − 1, computed exactly by the caller.
func newLayout(n, t, bitsV int) layout {
	l := layout{n: n, u: n / 2, v: n - n/2}
	l.b = (bitsV + 7) / 8
	l.d = 4*((l.b+3)/4) + 4
	pad := (-t - l.b - 1) & (blockSize - 1) // (−t−b−1) mod 16
	l.full = (t + pad) / blockSize
	l.pos = (t + pad) % blockSize
	l.tailLen = l.pos + 1 + l.b // a multiple of 16: |Q| is
	return l
}

// prefix sets h to the CBC-MAC of P and of the first l.full blocks of Q
// (the tweak and its zero padding), and copies the rest of the tweak to the
// start of tail, whose other bytes must be zero.
func (c *Cipher) prefix(h *[blockSize]byte, tail []byte, l layout, tweak []byte) {
	h[0], h[1], h[2] = 1, 2, 1
	h[3], h[4], h[5] = byte(c.radix>>16), byte(c.radix>>8), byte(c.radix)
	h[6], h[7] = rounds, byte(l.u)
	binary.BigEndian.PutUint32(h[8:], uint32(l.n))
	binary.BigEndian.PutUint32(h[12:], uint32(len(tweak)))
	c.block.Encrypt(h[:], h[:])

	t := tweak
	for range l.full {
		k := min(len(t), blockSize)
		xorInto(h[:k], t[:k]) // the padding bytes after the tweak are zero
		t = t[k:]
		c.block.Encrypt(h[:], h[:])
	}
	copy(tail, t)
}

// mac sets r to the CBC-MAC of blocks starting from the state h.
func (c *Cipher) mac(r, h *[blockSize]byte, blocks []byte) {
	*r = *h
	for len(blocks) > 0 {
		xorInto(r[:], blocks[:blockSize])
		c.block.Encrypt(r[:], r[:])
		blocks = blocks[blockSize:]
	}
}

func xorInto(dst, src []byte) {
	if len(dst) == blockSize && len(src) == blockSize {
		binary.LittleEndian.PutUint64(dst, binary.LittleEndian.Uint64(dst)^binary.LittleEndian.Uint64(src))
		binary.LittleEndian.PutUint64(dst[8:], binary.LittleEndian.Uint64(dst[8:])^binary.LittleEndian.Uint64(src[8:]))
		return
	}
	for i := range dst {
		dst[i] ^= src[i]
	}
}

// cryptFast runs FF1 when radix^v fits in a uint64. dst and x have the same
// length, already validated.
func (c *Cipher) cryptFast(dst, x []uint16, tweak []byte, decrypt bool) {
	n := len(x)
	u, v := n/2, n-n/2
	mu, mv := c.pow[u], c.pow[v]
	l := newLayout(n, len(tweak), bits.Len64(mv-1))

	s := statePool.Get().(*state) // zeroed: new, or wiped by the last user
	c.prefix(&s.h, s.tail[:], l, tweak)
	tail := s.tail[:l.tailLen]
	num := tail[l.pos+1:] // the b bytes of NUM(B), big-endian

	a, b := c.num(x[:u]), c.num(x[u:])
	for k := range rounds {
		i := k
		if decrypt {
			i = rounds - 1 - k
		}
		m := mu // the modulus radix^m of the standard: m = u in even rounds, v in odd
		if i&1 == 1 {
			m = mv
		}
		in := b // Q holds NUM(B) when encrypting, NUM(A) when decrypting
		if decrypt {
			in = a
		}
		tail[l.pos] = byte(i)
		for j := l.b - 1; j >= 0; j-- {
			num[j] = byte(in)
			in >>= 8
		}
		c.mac(&s.r, &s.h, tail)

		// y = NUM(S) with S the first d bytes of R (d is 8 or 12 here), and
		// y mod m by a 96-by-64-bit division.
		var y uint64
		if l.d == 8 {
			y = binary.BigEndian.Uint64(s.r[:8]) % m
		} else {
			hi := uint64(binary.BigEndian.Uint32(s.r[:4]))
			_, y = bits.Div64(hi%m, binary.BigEndian.Uint64(s.r[4:12]), m)
		}

		if !decrypt {
			// c = (NUM(A) + y) mod radix^m; A, B = B, C.
			sum, carry := bits.Add64(a, y, 0)
			if carry != 0 || sum >= m {
				sum -= m
			}
			a, b = b, sum
		} else {
			// c = (NUM(B) − y) mod radix^m; B, A = A, C.
			diff := b - y
			if b < y {
				diff += m
			}
			a, b = diff, a
		}
	}
	*s = state{}
	statePool.Put(s)
	c.str(dst[:u], a)
	c.str(dst[u:], b)
}

// num returns NUM_radix(x); radix^len(x) must fit in a uint64.
func (c *Cipher) num(x []uint16) uint64 {
	r := uint64(c.radix)
	var z uint64
	for _, d := range x {
		z = z*r + uint64(d)
	}
	return z
}

// str writes STR^len(dst)_radix(z) to dst; z must be below radix^len(dst).
// Radix 10 divides by a constant (a multiplication), a power-of-two radix
// shifts, and other radixes switch to 32-bit division as soon as z fits.
func (c *Cipher) str(dst []uint16, z uint64) {
	i := len(dst) - 1
	switch {
	case c.radix == 10:
		for ; i >= 0; i-- {
			dst[i] = uint16(z % 10)
			z /= 10
		}
	case c.radix&(c.radix-1) == 0:
		shift, mask := uint(bits.TrailingZeros(uint(c.radix))), uint64(c.radix-1)
		for ; i >= 0; i-- {
			dst[i] = uint16(z & mask)
			z >>= shift
		}
	default:
		r := uint64(c.radix)
		for ; i >= 0 && z > math.MaxUint32; i-- {
			dst[i] = uint16(z % r)
			z /= r
		}
		z32, r32 := uint32(z), uint32(r)
		for ; i >= 0; i-- {
			dst[i] = uint16(z32 % r32)
			z32 /= r32
		}
	}
}

// cryptBig runs FF1 with math/big arithmetic, for any length.
func (c *Cipher) cryptBig(dst, x []uint16, tweak []byte, decrypt bool) {
	n := len(x)
	u, v := n/2, n-n/2
	radix := big.NewInt(int64(c.radix))
	mu := new(big.Int).Exp(radix, big.NewInt(int64(u)), nil)
	mv := new(big.Int).Exp(radix, big.NewInt(int64(v)), nil)
	bitsV := new(big.Int).Sub(mv, big.NewInt(1)).BitLen()
	l := newLayout(n, len(tweak), bitsV)

	var h, r [blockSize]byte
	tail := make([]byte, l.tailLen)
	c.prefix(&h, tail, l, tweak)
	num := tail[l.pos+1:]
	sBlocks := (l.d + blockSize - 1) / blockSize
	sBuf := make([]byte, sBlocks*blockSize)

	a, b := c.numBig(x[:u]), c.numBig(x[u:])
	cc, y, q := new(big.Int), new(big.Int), new(big.Int)
	for k := range rounds {
		i := k
		if decrypt {
			i = rounds - 1 - k
		}
		m := mu
		if i&1 == 1 {
			m = mv
		}
		in := b
		if decrypt {
			in = a
		}
		tail[l.pos] = byte(i)
		in.FillBytes(num) // NUM(A) and NUM(B) are below radix^v ≤ 2^(8b)
		c.mac(&r, &h, tail)

		// S = R || CIPH(R ⊕ [1]^16) || CIPH(R ⊕ [2]^16) || …, first d bytes.
		copy(sBuf, r[:])
		for j := 1; j < sBlocks; j++ {
			blk := sBuf[j*blockSize : (j+1)*blockSize]
			copy(blk, r[:])
			binary.BigEndian.PutUint64(blk[8:], binary.BigEndian.Uint64(blk[8:])^uint64(j))
			c.block.Encrypt(blk, blk)
		}
		y.SetBytes(sBuf[:l.d])
		q.QuoRem(y, m, y) // y mod m, y ≥ 0

		if !decrypt {
			cc.Add(a, y)
			if cc.Cmp(m) >= 0 {
				cc.Sub(cc, m)
			}
			a, b, cc = b, cc, a
		} else {
			cc.Sub(b, y)
			if cc.Sign() < 0 {
				cc.Add(cc, m)
			}
			a, b, cc = cc, a, b
		}
	}
	c.strBig(dst[:u], a)
	c.strBig(dst[u:], b)
}

// numBig returns NUM_radix(x), packing fastMax numerals per big.Int step.
func (c *Cipher) numBig(x []uint16) *big.Int {
	z, w := new(big.Int), new(big.Int)
	k := c.fastMax
	first := len(x) % k
	if first == 0 {
		first = k
	}
	for len(x) > 0 {
		step := min(first, len(x))
		first = k
		z.Mul(z, w.SetUint64(c.pow[step]))
		z.Add(z, w.SetUint64(c.num(x[:step])))
		x = x[step:]
	}
	return z
}

// strBig writes STR^len(dst)_radix(z) to dst, unpacking fastMax numerals per
// big.Int division. z must be below radix^len(dst); it is overwritten.
func (c *Cipher) strBig(dst []uint16, z *big.Int) {
	chunk := new(big.Int).SetUint64(c.chunk)
	rem := new(big.Int)
	i := len(dst)
	for i > c.fastMax {
		z.QuoRem(z, chunk, rem)
		c.str(dst[i-c.fastMax:i], rem.Uint64())
		i -= c.fastMax
	}
	c.str(dst[:i], z.Uint64())
}
