// Package keyedprf is the one keyed PRF of piiguard: from a Tink PRF set (the
// PRFs of the enabled versions of a kms.PurposePRF keyset), it derives one
// HMAC-SHA256 key per version and domain, and makes the truncated, encoded
// MACs that package pii writes as blind indexes and package tokenize as
// HMAC tokens.
//
// A user describes its output once, as a Scheme: the label that separates
// its derived keys from every other use of the keyset, the number of MAC
// bits it keeps, the encoding of those bits and the text written before
// them (which names the key version). Then
//
//	key = PRF_version(label || domain, 32 bytes)
//	mac = HMAC-SHA256(key, message)[:bits]        trailing bits of the last byte zeroed
//	out = head(version, domain) || encode(mac)
//
// # Rotation
//
// There is one rotation story. A key source (kms.Keyring) hands out a new
// *prf.Set whenever the keyset changes — a rotation, a version disabled,
// enabled or destroyed, a reload after the cache's maximum age — and never
// modifies a set it has handed out. A Deriver keeps the keys it derived
// from the last set it was given and starts afresh, at once, when it is
// given another pointer: a version that left the set stops at the next
// call, and no key derived from it is used again.
//
// The caller asks its key source for the set on every call (that is a
// cache lookup in the key ring) and hands it to Deriver.Keys; the derived
// keys are found again by one atomic load and a map lookup.
//
// # Security considerations
//
// Derived keys, the HMACs keyed with them and the messages they MAC stay in
// this package: no exported method returns a key, and an HMAC goes back to
// its pool reset, so that a pooled HMAC holds no part of the last message.
// Truncation trades leakage for false matches: with b bits kept, unequal
// messages collide with probability 2^-b, which is what blind indexes want
// (pii.Options.IndexBits) and what tokens must avoid (tokenize keeps 128).
//
// # Errors
//
// Keys.Key fails with an error wrapping ErrNotEnabled for a version the set
// does not hold, and ErrDerive when the PRF cannot derive a key (a PRF
// whose output is shorter than 32 bytes, such as AES-CMAC-PRF); an error of
// the Scheme's Head is returned as it is. Messages name key IDs only, never
// a domain, a message or a key.
package keyedprf
