package tokenize

import (
	"context"
	"time"
)

// TokenRecord is one vaulted token as a TokenStore keeps it. It holds no
// plaintext: Value and Metadata are AEAD ciphertexts bound to the domain
// and the token, and BlindIndex is a keyed PRF of the value (see the
// package documentation, Vaulted tokens).
type TokenRecord struct {
	// Token is the vault-token: unique in the store, the record's key.
	Token string
	// Domain is the domain the token was made in.
	Domain string
	// BlindIndex finds the token from its value: unique within a domain.
	BlindIndex []byte
	// IndexKeyID is the version of the index keyset that made BlindIndex.
	IndexKeyID uint32
	// Value is the encrypted value, in Tink's format (its key ID first).
	Value []byte
	// Metadata is the encrypted JSON metadata, or nil for none.
	Metadata []byte
	// Created is when the token was made; Expires when it expires (zero:
	// never). Both are whole microseconds, and stores keep them so.
	Created time.Time
	Expires time.Time
}

// TokenStore is where a Vault keeps its tokens. Package tokenize/sqlvault
// implements it over SQLite and PostgreSQL; an application may bring its
// own.
//
// Implementations must be safe for concurrent use, by one process and by
// several sharing the storage, and must make Insert and Rekey atomic
// compare-and-set operations on the (Domain, BlindIndex) pair, which is
// unique: that is what makes tokenizing idempotent when callers race. A
// lookup by blind index or by token must not scan the store.
//
// Errors that come from the storage wrap ErrStore; an operation stopped by
// its context returns the context's error. Errors must never hold a
// record's fields but its domain: no token, blind index or ciphertext.
// The Vault adds its own context (the operation and the domain).
type TokenStore interface {
	// FindByIndex returns the records of domain whose BlindIndex is one of
	// indexes, in no particular order (none when there are none).
	FindByIndex(ctx context.Context, domain string, indexes [][]byte) ([]TokenRecord, error)
	// Insert stores r unless a record of r.Domain holds r.BlindIndex
	// already, and reports whether it stored it. Of concurrent Inserts of
	// one domain and blind index, exactly one stores.
	Insert(ctx context.Context, r *TokenRecord) (bool, error)
	// Get returns the records of those of tokens that exist, by token.
	Get(ctx context.Context, tokens []string) (map[string]TokenRecord, error)
	// Delete removes the record of token if it belongs to domain and, when
	// expiredBy is not zero, expires at or before expiredBy. It reports
	// whether it removed one.
	Delete(ctx context.Context, domain, token string, expiredBy time.Time) (bool, error)
	// DeleteByIndex removes the records of domain whose BlindIndex is one
	// of indexes, and returns how many it removed.
	DeleteByIndex(ctx context.Context, domain string, indexes [][]byte) (int, error)
	// PurgeExpired removes every record that expires at or before now, and
	// returns how many it removed.
	PurgeExpired(ctx context.Context, now time.Time) (int64, error)
	// List returns up to limit records whose tokens sort after after ("":
	// from the first), in the store's order of tokens, which must stay the
	// same from one call to the next: the pages of Vault.Rekey's pass,
	// which must see every record that existed when it began.
	List(ctx context.Context, after string, limit int) ([]TokenRecord, error)
	// Rekey sets the BlindIndex, IndexKeyID, Value and Metadata of the
	// record of r.Token to r's, unless another record of r.Domain holds
	// r.BlindIndex, and reports whether it did.
	Rekey(ctx context.Context, r *TokenRecord) (bool, error)
}
