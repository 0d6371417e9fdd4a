package tokenize

import (
	"context"
	"encoding/json"
)

// RekeyStats counts what Rekey did.
type RekeyStats struct {
	Scanned    int // rows read
	Rekeyed    int // rows rewritten under the primary versions
	Duplicates int // rows left as they were because another row of their domain holds the same value under the new blind index
}

// Rekey moves every row to the primary versions of both keysets: values
// and metadata re-encrypted with the AEAD keyset's primary, blind indexes
// recomputed with the index keyset's primary. Run it after rotating either
// keyset, before disabling the old versions. It is resumable (rows already
// on the primaries are left alone) and may run while the vault is in use.
//
// Rows counted as Duplicates hold a value that another row of the domain
// also holds (two processes tokenized it at once, during a rotation, with
// different index versions): both tokens keep detokenizing, but only the
// other one is found by the new blind index, so keep the old index version
// enabled until they are resolved, or Erase and Delete would miss them.
func (v *Vault) Rekey(ctx context.Context) (RekeyStats, error) {
	var st RekeyStats
	fail := func(err error) (RekeyStats, error) { return st, v.fail("rekey", "", err) }
	a, err := v.keys.AEAD(ctx, v.keyset)
	if err != nil {
		return fail(err)
	}
	set, err := v.keys.PRF(ctx, v.indexKeyset)
	if err != nil {
		return fail(err)
	}
	if _, ok := set.PRFs[set.PrimaryID]; !ok {
		return fail(errf(ErrKeyVersion, "keyset %q has no enabled primary", v.indexKeyset))
	}
	after := ""
	for {
		rows, err := v.store.List(ctx, after, 200)
		if err != nil {
			return fail(storeErr(err))
		}
		if len(rows) == 0 {
			return st, nil
		}
		for _, r := range rows {
			after = r.Token
			st.Scanned++
			e, err := openRow(a, r)
			if err != nil {
				return st, v.fail("rekey", r.Domain, err)
			}
			ct, err := a.Encrypt([]byte(e.value), valueAD(r.Domain, r.Token))
			if err != nil {
				return fail(err)
			}
			if r.IndexKeyID == set.PrimaryID && aeadKeyID(ct) == aeadKeyID(r.Value) {
				continue
			}
			nr := TokenRecord{Token: r.Token, Domain: r.Domain, IndexKeyID: set.PrimaryID, Value: ct}
			if nr.BlindIndex, err = blindIndex(set, set.PrimaryID, r.Domain, e.value); err != nil {
				return fail(err)
			}
			if r.Metadata != nil {
				m, _ := json.Marshal(e.Metadata)
				if nr.Metadata, err = a.Encrypt(m, metaAD(r.Domain, r.Token)); err != nil {
					return fail(err)
				}
			}
			ok, err := v.store.Rekey(ctx, &nr)
			if err != nil {
				return fail(storeErr(err))
			}
			if ok {
				st.Rekeyed++
			} else {
				st.Duplicates++
			}
		}
	}
}
