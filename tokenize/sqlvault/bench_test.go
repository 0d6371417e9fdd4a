package sqlvault

import (
	"fmt"
	"path/filepath"
	"testing"

	"github.com/piiguard/piiguard/tokenize"
)

var benchString string

const benchEmail = "lucy.westenra@example.com"

// BenchmarkVaultSQLite measures a Vault over an SQLite store: a round trip
// to the database per call, which is most of the cost.
func BenchmarkVaultSQLite(b *testing.B) {
	kr := newKeyring(b)
	st, err := OpenSQLite(filepath.Join(b.TempDir(), "tokens.db"), Options{})
	if err != nil {
		b.Fatal(err)
	}
	defer st.Close()
	v, err := tokenize.NewVault(kr, st, allowAll(tokenize.VaultOptions{}))
	if err != nil {
		b.Fatal(err)
	}
	tok, err := v.Tokenize(ctx, "email", benchEmail)
	if err != nil {
		b.Fatal(err)
	}
	b.Run("tokenize-new", func(b *testing.B) {
		b.ReportAllocs()
		i := 0
		for b.Loop() {
			i++
			if benchString, err = v.Tokenize(ctx, "email", fmt.Sprintf("user%d@example.com", i)); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("tokenize-existing", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if benchString, err = v.Tokenize(ctx, "email", benchEmail); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("detokenize", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if benchString, err = v.Detokenize(ctx, "email", tok); err != nil {
				b.Fatal(err)
			}
		}
	})
	toks := make([]string, 100)
	for i := range toks {
		if toks[i], err = v.Tokenize(ctx, "email", fmt.Sprintf("batch%d@example.com", i)); err != nil {
			b.Fatal(err)
		}
	}
	b.Run("detokenize-batch-100", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := v.DetokenizeBatch(ctx, "email", toks); err != nil {
				b.Fatal(err)
			}
		}
	})
}
