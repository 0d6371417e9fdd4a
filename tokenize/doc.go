// Package tokenize replaces personal data by tokens, so that analytics,
// joins, legacy systems and third parties can work with customer records
// without holding the data itself.
//
// # Four kinds of token
//
//   - HMAC (NewHMAC): deterministic and irreversible. A keyed PRF of the
//     value, for joins and distinct counts: the same e-mail address gives
//     the same token in one domain, unrelated tokens in two, and nobody can
//     turn a token back into the address except by guessing.
//   - SIV (NewSIV): deterministic and reversible. The value encrypted with
//     AES-SIV (Tink's deterministic AEAD) with the domain as associated
//     data: joinable like HMAC tokens, and Detokenize gives the value back.
//   - FPE (NewFPE): format-preserving, with FF1 (NIST SP 800-38G). A card
//     number becomes a card number with the same issuer and last four
//     digits, a phone number a phone number of the same country, a resident
//     ID a well-formed resident ID: for systems that validate or display
//     the original shape.
//   - Vault (NewVault): random tokens, the value kept encrypted in a token
//     store (package sqlvault: SQLite or PostgreSQL), with optional time to
//     live and metadata, and deletion for erasure requests.
//
// Each constructor takes the key source it needs and an options struct of
// its own (HMACOptions, SIVOptions, FPEOptions, VaultOptions) holding only
// what that kind reads; their zero values give the defaults, except that a
// nil Authorize hook refuses every detokenization.
//
// All four implement pii.Tokenizer (Tokenize, Detokenize, IsToken), so that
// a struct field tagged `pii:"card,token=NAME"` is tokenized in place by
// pii's Seal and detokenized by its Open; and all four have batch methods
// (TokenizeBatch, DetokenizeBatch) for bulk jobs.
//
// # Domains
//
// Every call names a domain: what the value is and where it lives ("email",
// "crm", "card"). Domains separate tokens — a value tokenized in two domains
// gives unrelated tokens, and a token of one domain does not detokenize in
// another — and select how values are normalised. A domain name is 1 to 64
// characters of [A-Za-z0-9._-]; package pii passes a field's kind ("card",
// "email", …).
//
// HMAC, SIV and vaulted tokens are made from the value's canonical form
// (Normalize), so that values a person calls equal tokenize equally: the
// domain's kind — the options' Kinds[domain], else the domain's own name
// when it is one of pii's kinds, else "exact" — picks the normaliser
// shared with pii's blind indexes (e-mail lower-cased, phone numbers in
// E.164, card numbers as digits, …). Detokenize returns the canonical form. FPE tokens
// are normalised by their Format instead.
//
// # Token grammars, version 1
//
// HMAC, SIV and vaulted tokens are marked: they say what they are, so that
// IsToken recognises them without a key, a token is never tokenized twice
// and a value is never mistaken for a token. They are ASCII, need no
// escaping in URLs, JSON, CSV or SQL, and survive case-insensitive
// collations only as written (they are lower case).
//
//	hmac-token  = "th1_" key-id "_" domain-tag "_" b32(mac)          ; 44 characters
//	siv-token   = "ts1_" key-id "_" domain-tag "_" b32(siv-output)   ; 18 + ⌈8·(16+n)/5⌉ for n bytes
//	vault-token = "tv1_" domain-tag "_" b32(random)                  ; 35 characters
//
//	key-id      = 8 lowercase hex digits: the Tink key ID of the keyset
//	              version that made the token (KeyVersion reads it)
//	domain-tag  = the first 4 characters of b32(SHA-256("piiguard/tokenize/domain/v1" 0x00 domain))
//	mac         = the first 16 bytes of HMAC-SHA256(K, value), with
//	              K = PRF_version("piiguard/tokenize/hmac/v1" 0x00 domain), 32 bytes
//	siv-output  = Tink's AES-SIV output without its 5-byte prefix (which is
//	              0x01 and key-id): the 16-byte SIV and the ciphertext;
//	              associated data "piiguard/tokenize/siv/v1" 0x00 domain
//	random      = 16 bytes from crypto/rand
//	b32(x)      = RFC 4648 base32 of x, lower case, without padding; the
//	              unused low bits of the last character are zero, so every
//	              token has exactly one spelling
//
// The domain tag is public (anyone can compute it): it lets Detokenize and
// IsToken tell a token of another domain (ErrWrongDomain) without a key;
// the cryptographic separation of domains is the derived key (HMAC), the
// associated data (SIV) and the stored domain (Vault). The grammars are
// pinned by testdata/tokens-v1.json, with the fixed test keysets of
// testdata/keysets-v1.json: a later release still reads, and for the
// deterministic kinds still writes, these tokens.
//
// # Format-preserving formats
//
// FPE tokens are FF1 encryptions of part of the value, with the rest kept
// and check characters recomputed. The FF1 key of a keyset version is
// AES-256, derived as PRF_version("piiguard/tokenize/fpe/v1/aes-256", 32
// bytes) from a PRF keyset (kms.PurposePRF, default DefaultFPEKeyset); the
// tweak is the domain, the format and the kept characters, domain ‖ 0x00 ‖
// format-id (‖ 0x00 ‖ kept part)*, so a domain's tokens are unrelated to
// another's and equal middles with different kept parts encrypt
// differently. FF1 requires radix^length ≥ 1,000,000 of what it
// encrypts (6 digits, 4 base-36 or base-62 characters): shorter inputs fail
// with ErrTooShort.
//
//   - Numeric, Base36, Base62, each with Keep(first, last): strings of one
//     alphabet, encrypted whole or but for kept characters at either end.
//   - Phone: E.164 numbers; the country calling code is kept and the
//     national number (at least 6 digits) encrypted. The split uses the
//     ITU's prefix-free code assignment (1 and 7 are one digit, 44 codes
//     are two, every other code three).
//   - ChineseResidentID: GB 11643-1999 numbers; the 17 digits are
//     encrypted and the check character recomputed.
//   - Card: see below.
//
// # Card numbers, Luhn and the minimum domain
//
// A Card token keeps the first KeepFirst digits (default 6, the issuer) and
// the last 4 (which include the check digit), encrypts the m = n − KeepFirst
// − 4 digits between, and stays Luhn-valid. With the check digit kept, the
// middle must keep its Luhn contribution, which only 10^(m−1) of the 10^m
// middles do. There are two ways to get there:
//
//   - encrypt m−1 digits and compute the last to fix the Luhn sum: FF1 then
//     runs on 10^(m−1) values, 10^5 for a 16-digit number, which SP 800-38G
//     Rev. 1 forbids;
//   - cycle-walk: encrypt all m digits with FF1 (10^m ≥ 10^6 values) and
//     encrypt again until the result has the right Luhn contribution
//     (10 FF1 calls on average). The result is a permutation of exactly
//     the 10^(m−1) middles that keep the number valid.
//
// This package cycle-walks, and refuses m < 6 (ErrTooShort): with the
// defaults, 16- to 19-digit numbers are accepted and 15-digit ones (American
// Express) are not; CardOptions.KeepFirst 4 accepts 14- to 19-digit numbers.
// The security consequence, said plainly: FF1 itself never runs on fewer
// than 10^6 values, which meets the letter of the NIST minimum, but a
// 16-digit token is one of only 10^5 numbers that share its issuer and last
// four — and so is the card number behind it, given what the token shows.
// That is inherent in keeping 10 of 16 digits and the Luhn check, whatever
// the construction: about 17 bits stay secret. Someone who can obtain tokens
// of card numbers of their choice can build the whole table for one issuer
// and last four in 10^5 requests, and someone who can detokenize can try
// all 10^5 candidates; guard Tokenize as well as Detokenize, rate-limit
// both, and prefer KeepFirst 4 (10^6 candidates) or vaulted tokens (no such
// limit) when the issuer need not be shown. The number of FF1 calls a
// token takes depends on the value, so the time tokenizing takes leaks a
// little about it to whoever can measure it.
//
// # Recognising FPE tokens, and package pii
//
// A format-preserving token has no room for a marker, so IsToken cannot
// tell it from a value — except for the formats that spend their check
// character on one. CardOptions.Marked makes every card token fail the Luhn
// check in a fixed way (the last encrypted digit, at a position Luhn does
// not double, is incremented: the Luhn sum is 1 mod 10), and
// IDOptions.Marked gives resident ID tokens the check character after the
// right one in "10X98765432". Tokenize refuses values that fail their check
// (ErrCheckDigit), so a marked token is never tokenized twice, and IsToken
// recognises marked tokens without a key. RecognizesTokens(domain) says
// which domains have recognisable tokens.
//
// In-place tokenization (package pii's token= option) needs recognisable
// tokens: IsToken is how Seal avoids tokenizing a token twice — for an
// unmarked FPE format a second Seal would encrypt the token again — and how
// Open tells a token from a plaintext. Use marked formats (or HMAC, SIV or
// vaulted tokens) for pii fields; unmarked Luhn-valid tokens are for the
// direct API, where the caller knows which column holds what. One residual
// risk of marked cards: a mistyped card number whose Luhn sum happens to be
// 1 mod 10 (one in nine of those that fail) looks like a token; pii would
// keep it as it is at Seal, and Open would detokenize it into some other
// card number. Validate card numbers before sealing them.
//
// # Key rotation
//
// Tokens say which key version made them, where their format has room:
//
//   - HMAC: the key-id is in the token. After kms.Admin.Rotate, new
//     tokens differ from old ones for the same value; LookupTokens returns a
//     value's token under every enabled version (primary first) for lookups
//     that must still find old rows, and Match checks a token against a
//     value under its own version. Tokens cannot be re-made from tokens:
//     re-tokenize from the values (for pii fields, Open and Seal each
//     record), then disable the old version.
//   - SIV: the key-id is in the token and Detokenize works under every
//     enabled version. Retokenize re-encrypts a token under the primary:
//     run it over stored tokens, then disable the old version. Until the
//     pass ends, a column holds both versions' tokens of a value, so
//     equality joins across it miss pairs: run the pass promptly.
//   - Vault: tokens are random; each row records the blind index's key
//     version and the value's AEAD key ID. Tokenize looks a value up under
//     every enabled index version, so it stays idempotent across a
//     rotation; Rekey moves every row to the primaries; then disable the
//     old versions.
//   - FPE: a format-preserving token cannot say which version made it, and
//     FF1 decrypts under a wrong key without an error, into a wrong value of
//     the right shape. So the version is configuration, never guessed:
//     FPEOptions.KeyID pins it, and when it is zero the keyset must have one
//     enabled version — after a rotation every call fails with ErrKeyVersion
//     until a version is pinned. To rotate: pin the current version; add a
//     version (kms.Admin.AddVersion, or Rotate); migrate each stored token
//     with Rekey(from, to), writing the new token together with the version
//     it was made with (a key-version column beside the token column, or a
//     new column) in one transaction, because a column mixing old and new
//     tokens cannot be sorted out afterwards; pin the new version
//     everywhere; disable and destroy the old one.
//
// An HMAC over a kms.Keyring sees a rotation, disable or destroy made
// through that keyring at its next call, and one made by another process
// when the keyring's cache entry expires (kms.KeyringOptions.CacheMaxAge),
// as every user of the keyring does. It asks its key source for the PRF
// set on every call and keeps the keys it derived from a set for as long
// as it is handed the same *prf.Set (see PRFKeys): pii's blind indexes
// follow rotations the same way, through the same code.
//
// # Speed
//
// The benchmarks beside the code measure each kind against the work
// underneath (go test -bench . ./tokenize/), as ratios of interleaved runs.
// BenchmarkHMACEndToEnd is the target of HMAC tokens: a token of an e-mail
// address against the same string written by hand (ToLower(TrimSpace), a
// reused HMAC-SHA256, base32), at most 1.0. An HMAC token costs that
// HMAC, the normalisation of the value, the key source's answer (over a
// kms.Keyring, a cache lookup), one lookup of the domain's
// derived key in a map copied on write, a pooled HMAC keyed for the
// domain, and one allocation: the token. TokenizeBatch looks the key
// up once and cuts all its tokens from one string. FPE tokens cost one FF1
// encryption (more for cards, which cycle-walk), SIV tokens one AES-SIV
// call, vaulted tokens a round trip to the token store.
//
// # Vaulted tokens and the token store
//
// A Vault keeps its tokens in a TokenStore, one TokenRecord per token.
// Package tokenize/sqlvault is the store of this module: one SQL table, in
// an SQLite file (OpenSQLite, with the embedded modernc.org/sqlite driver)
// or in PostgreSQL (with the driver the application imports). It is a
// package of its own so that a program that makes no vaulted tokens links
// no database driver; its documentation gives the table. A record holds:
//
//	Token        the vault-token
//	Domain       the domain
//	BlindIndex   PRF_version("piiguard/tokenize/vault/v1/index" 0x00 domain 0x00 value), 32 bytes
//	IndexKeyID   the PRF keyset version of BlindIndex
//	Value        AEAD(value, "piiguard/tokenize/vault/v1/value" 0x00 domain 0x00 token), Tink format
//	Metadata     AEAD(JSON metadata, "…/vault/v1/metadata" 0x00 domain 0x00 token), or none
//	Created      when the token was made, to the microsecond
//	Expires      when it expires, to the microsecond; zero: never
//	(Domain, BlindIndex) is unique
//
// Tokenize finds a value's token through the blind index (never a scan),
// and otherwise inserts a new record, which the store refuses if the
// value's blind index is taken: of concurrent calls for a new value,
// exactly one inserts and the others read its token. An expired token is
// replaced by a new one. Delete removes a token, Erase removes a value's
// token, PurgeExpired removes expired records. The associated data binds
// each ciphertext to its record: a value copied to another record does not
// decrypt (ErrStore).
//
// # Access and audit
//
// Detokenizing reveals personal data, so it is guarded: the Authorize hook
// of SIVOptions, FPEOptions and VaultOptions is asked (with the caller's
// context and the domain) before every detokenization and lookup, and
// refuses with ErrDenied. It is the seam for access checks (package access,
// or the host's own); a nil hook refuses everything, and AllowAll allows
// everything — a deliberate choice, for example when package pii already
// checks access before Open. Every value tokenized or detokenized, and
// every token deleted or erased, is reported to the options' Audit sink as
// an audit.Event (ActionTokenize, ActionDetokenize, ActionErase; the domain
// in Field, the keyset and key version in KeyName and KeyID; a failure's
// class in Error), one event per value in batches too. An event never holds a value or a token. If the sink fails, the call
// fails, and a detokenization returns no value.
//
// # Security: what each kind leaks
//
//   - HMAC tokens reveal which records share a value within a domain, and
//     how often each value occurs; nothing across domains. They are
//     irreversible, but a value drawn from a small set (a phone number, a
//     birth date, a card number) can be found by whoever can compute tokens
//     — the key holder, or anyone who can call Tokenize — by trying the
//     set. The domain tag and key ID are public.
//   - SIV tokens reveal equality within a domain and the value's length
//     (the token grows by 1.6 characters per byte). A tampered, forged or
//     misplaced token fails to detokenize instead of decrypting to garbage.
//   - FPE tokens reveal equality within a domain, the length, the kept
//     characters (issuer, last four, country code) and the format; they have
//     no integrity (a wrong key, tweak or token decrypts to a wrong value
//     without an error), and small domains are weak (see Card numbers).
//     Keys: one AES-256 key per keyset version, separated by tweaks.
//   - Vaulted tokens reveal nothing about their value, not even equality
//     with another domain's token. The store reveals how many tokens each
//     domain has and when they were made; its blind index is a keyed PRF, so
//     only whoever holds the index key can test a guessed value against it.
//     Security rests on the key ring and the store's integrity: whoever can
//     write the store can delete tokens. Deleted rows linger in SQLite's WAL
//     until checkpointed, in PostgreSQL's dead tuples until VACUUM, and in
//     backups; the keys, not the deletion, are what make erasure final
//     (destroy old AEAD versions after Rekey).
//
// Every kind is only as strong as its key ring: tokens are made under
// keysets that never leave package kms unwrapped, and the key material held
// in memory by a tokenizer (derived HMAC keys, FF1 key schedules) is never
// printed.
//
// # Errors
//
// Every error is an *Error naming the tokenizer kind, the operation and the
// domain (a malformed domain is not named: it may be a value passed by
// mistake), and wraps one sentinel — ErrInvalidDomain, ErrInvalidOptions,
// ErrInvalidValue, ErrInvalidCharacter, ErrTooShort, ErrCheckDigit,
// ErrMalformedToken, ErrUnknownToken, ErrExpiredToken, ErrWrongDomain,
// ErrIrreversible, ErrDenied, ErrKeyVersion, ErrStore — or a context error,
// or the kms error of a key that cannot be used (kms.ErrDisabled,
// kms.ErrDestroyed, kms.ErrNotFound for a missing keyset, …). Messages name
// lengths, character positions, keysets and key IDs; they never contain a
// value, a token or key bytes, which a test proves.
package tokenize
