// Package filestore is a piiguard key store (a kms.Store) in a directory:
// one JSON file per keyset and per subject key, and the store's manifest in
// manifest.json, for a single host — several processes on it may share the
// directory. For several hosts, or millions of subject keys, use
// kms/sqlstore.
//
//	store, err := filestore.Open("/var/lib/app/keys")
//	kr, err := kms.NewKeyring(root, store, kms.KeyringOptions{})
//
// # Security considerations
//
// The store holds no key in the clear: each keyset file holds a data key
// wrapped by the root key and the Tink keyset encrypted under it, and each
// subject key is encrypted by a keyset; the metadata beside them (names,
// versions, statuses, times) is in the clear and never trusted for a
// security decision. Directories are made with mode 0700 and files written
// with mode 0600, atomically (temporary file, fsync, rename, fsync of the
// directory), so a crash leaves the old record or the new one. Writers take
// an flock on DIR/.lock, which dies with the process (on systems without
// flock, a DIR/.lock.held file that a crashed process leaves behind). A
// destroyed subject key's file is replaced by a tombstone; what the file
// system keeps of the old blocks is beyond the store's reach (see
// crypto-shredding in package kms).
//
// # Formats
//
// A keyset file (DIR/keysets/NAME.json) is the keyset JSON of a key backup
// with its revision. The manifest (DIR/manifest.json) is a JSON object,
// version 1, pinned by testdata/manifest-v1.json:
//
//	{
//	  "format":     "piiguard.store-manifest",
//	  "version":    1,
//	  "revision":   N (≥ 1),
//	  "root_key":   name of the root key,
//	  "root_check": base64 of the check value wrapped by it,
//	  "keysets":    [ names, sorted, no duplicates ],
//	  "created":    RFC 3339 time,
//	  "updated":    RFC 3339 time
//	}
//
// Readers refuse unknown fields, a newer version and anything malformed.
//
// # Errors
//
// Errors wrap the sentinels of package kms, as kms.Store specifies:
// kms.ErrNotFound, kms.ErrAlreadyExists, kms.ErrConflict (a stale
// revision), kms.ErrCorrupt (a file that does not parse or validate; the
// error names the file and never quotes it), kms.ErrUnsupportedVersion (a
// manifest from a newer release), kms.ErrInvalidArgument (a name outside
// [A-Za-z0-9._-]) and kms.ErrUnavailable (the file system failed).
package filestore
