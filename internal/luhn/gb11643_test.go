package luhn

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// The two examples printed in GB 11643-1999.
var validGB11643 = []string{
	"11010519491231002X",
	"440524188001010014",
}

func TestGB11643KnownNumbers(t *testing.T) {
	t.Parallel()
	for _, id := range validGB11643 {
		assert.True(t, ValidGB11643(id), id)
		c, err := GB11643CheckChar(id[:17])
		require.NoError(t, err)
		assert.Equal(t, id[17], c, id)
	}
}

func TestGB11643CheckCharTable(t *testing.T) {
	t.Parallel()
	// Σ = 0 gives '1'; one more at position 7 (weight 1) steps through the
	// table "10X98765432".
	for i, want := range []byte("10X98765432") {
		if i > 9 {
			break
		}
		payload := "0000000" + string(byte('0'+i)) + "000000000"
		got, err := GB11643CheckChar(payload)
		require.NoError(t, err)
		assert.Equal(t, want, got, "sum %d", i)
	}
	// Σ = 10 (weight 10 at position 2) gives the last entry, '2'.
	got, err := GB11643CheckChar("00100000000000000")
	require.NoError(t, err)
	assert.Equal(t, byte('2'), got)
}

func TestGB11643RejectsErrors(t *testing.T) {
	t.Parallel()
	id := validGB11643[0]
	for i := range 17 {
		for c := byte('0'); c <= '9'; c++ {
			if c == id[i] {
				continue
			}
			bad := id[:i] + string(c) + id[i+1:]
			assert.False(t, ValidGB11643(bad), bad)
		}
	}
	for _, s := range []string{
		"",
		"11010519491231002",     // 17 characters
		"11010519491231002X0",   // 19 characters
		"11010519491231002x",    // lower-case x
		"110105194912310021",    // wrong check digit
		"1101051949123100XX",    // X inside the payload
		"11010519491231002\xff", // not ASCII
	} {
		assert.False(t, ValidGB11643(s), "%q", s)
	}
}

func TestGB11643CheckCharErrors(t *testing.T) {
	t.Parallel()
	_, err := GB11643CheckChar("1101051949123100")
	require.ErrorIs(t, err, ErrInvalidInput)
	assert.Equal(t, "luhn: invalid input: GB 11643 payload is 16 bytes, want 17", err.Error())
	_, err = GB11643CheckChar("1101051949123100X")
	require.ErrorIs(t, err, ErrInvalidInput)
	assert.Equal(t, "luhn: invalid input: byte at index 16 is not a digit", err.Error())
}
