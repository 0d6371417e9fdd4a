// Package localkey is a piiguard root key kept in a local file under a
// passphrase: the embedded default backend of package kms, with no KMS and
// no network. Create makes a key file (a random 32-byte root key sealed
// with AES-256-GCM under a key derived from the passphrase with argon2id),
// Open opens it, and the Driver they return wraps and unwraps the data keys
// of kms keysets; it goes into kms.NewRootKey like any other backend.
//
//	d, err := localkey.Open("/var/lib/app/root.key", passphrase, localkey.Options{})
//	root := kms.NewRootKey(d, kms.RootKeyOptions{Name: "local:/var/lib/app/root.key"})
//
// By URI, with the passphrase in an environment variable:
//
//	root, err := localkey.OpenRootKey(ctx, "local:///var/lib/app/root.key?passphrase_env=APP_ROOT_PASSPHRASE")
//
// or, beside other backends, by registering Opener under Scheme on the
// application's kms.URLMux.
//
// # Security considerations
//
// The key file is as strong as its passphrase: CheckPassphrase refuses the
// obviously guessable ones when a file is created (see MinPassphraseChars),
// and the argon2id cost (DefaultKDFParams: 3 passes over 64 MiB) makes each
// guess expensive; Options.InsecureFastKDFForTests removes that cost and is
// for tests only. Files are written atomically with mode 0600 and never
// overwritten: losing the file, or its passphrase, loses every key it
// wraps, so back it up (apart from the key store's backups, which are
// useless without it). The root key is held in memory from Open until
// Close, which zeroes it; it never appears in an error, a String, a log
// line or JSON. For several hosts, or keys that must not sit on the host's
// disk, use a KMS or an HSM (kms/awskms, kms/pkcs11, …) instead.
//
// # Key file format, version 1
//
// A root key file holds one 32-byte root key, sealed under a passphrase. It
// is a JSON object of exactly these members (no others, none twice), at most
// 64 KiB long:
//
//	{
//	  "format": "piiguard.rootkey",
//	  "version": 1,
//	  "key_id": "<32 lowercase hex digits: 16 random bytes>",
//	  "kdf": {
//	    "name": "argon2id",
//	    "time": 3,
//	    "memory_kib": 65536,
//	    "threads": 4,
//	    "salt": "<base64: 16 to 64 random bytes>"
//	  },
//	  "nonce": "<base64: 12 bytes>",
//	  "sealed_key": "<base64: 48 bytes>"
//	}
//
// Base64 is the standard alphabet with padding (RFC 4648 section 4).
//
// The key-encryption key is argon2id(passphrase, salt, time, memory_kib,
// threads) with a 32-byte output (RFC 9106). sealed_key is
// AES-256-GCM(kek, nonce, root key, associated data): the 32-byte root key
// followed by the 16-byte tag. The associated data is the canonical encoding
// of every other member, so that no parameter can be changed or swapped
// without failing authentication:
//
//	"piiguard.rootkey\n" ||
//	"version=1\n" ||
//	"key_id=" key_id "\n" ||
//	"kdf.name=argon2id\n" ||
//	"kdf.time=" decimal "\n" ||
//	"kdf.memory_kib=" decimal "\n" ||
//	"kdf.threads=" decimal "\n" ||
//	"kdf.salt=" base64 "\n" ||
//	"nonce=" base64 "\n"
//
// with decimals without sign or leading zeros and base64 re-encoded from the
// decoded bytes.
//
// Readers are strict: a format other than "piiguard.rootkey", malformed
// JSON, an unknown or repeated member, a missing member, bad base64, a
// wrong length, or KDF parameters out of bounds (time 1–10, threads 1–64,
// memory_kib from 8×threads to 1 GiB, so that a hostile file cannot make a
// reader spend unbounded memory or time) make the file kms.ErrCorrupt; a
// version above 1 makes it kms.ErrUnsupportedVersion. A passphrase that
// does not open sealed_key (or a file whose authenticated parts were
// changed) gives kms.ErrWrongPassphrase. Each error names the file.
//
// The root key wraps data keys (Driver.Wrap) as
//
//	0x01 || key_id[0:4] || nonce (12 bytes) || AES-256-GCM ciphertext and tag
//
// with the first 5 bytes prepended to the caller's associated data, so a
// ciphertext made under another root key, or with another format byte, does
// not open (kms/internal/rootcipher, shared with kms/insecuremem). Nonces
// are random; one root key wraps far fewer than 2^32 values in practice
// (one per keyset write).
//
// # Errors
//
// Errors wrap the sentinels of package kms: kms.ErrNotFound (no file),
// kms.ErrAlreadyExists (Create over an existing file), kms.ErrCorrupt and
// kms.ErrUnsupportedVersion (see the format), kms.ErrWrongPassphrase,
// kms.ErrWeakPassphrase (Create, CheckPassphrase), kms.ErrPermissionDenied
// (a file the process may not read), kms.ErrInvalidArgument (options, an
// empty path, a malformed local: URI), kms.ErrInvalidCiphertext and
// kms.ErrClosed (Unwrap). They name the file, never the passphrase or key.
package localkey
