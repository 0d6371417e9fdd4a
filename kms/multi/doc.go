// Package multi is a root key held by several backends at once — for
// example an on-premises HSM and a cloud KMS, or KMS keys in two regions —
// for availability and disaster recovery: every data key is wrapped under
// each backend, and any one of them can unwrap it. Losing a backend, for
// an hour or for good, loses nothing.
//
// # Use
//
// A Driver is a kms.Driver over other kms.Drivers. It has no URI scheme:
// open each backend (by URI through a kms.URLMux, or with its package's
// constructor), name it, and build the Driver with New:
//
//	hsm, _ := pkcs11.Open(ctx, pkcs11.Config{…})
//	aws, _ := … // another backend's driver
//	d, err := multi.New([]multi.Backend{
//		{Name: "hsm-primary", Driver: hsm},
//		{Name: "aws-eu-west-1", Driver: aws},
//	}, multi.Options{})
//	root := kms.NewRootKey(d, kms.RootKeyOptions{Name: "multi:hsm-primary+aws-eu-west-1"})
//
// Backend names are written into every container, so they must stay the
// same for as long as the containers live; the RootKey's name is written
// into every keyset record. Backends given as *kms.RootKey should have
// MaxAttempts 1, so that an outage fails over at once; put retries on the
// RootKey around the multi Driver instead.
//
// # Wrap and Unwrap
//
// Wrap draws a random 32-byte commitment key K, has every backend wrap
// K || plaintext at once, and packs the results into a container closed by
// a tag (HMAC-SHA256 under K). It succeeds when Options.WrapQuorum backends
// wrapped: all of them by default. With the default, a keyset cannot be
// created (or its root rewrapped) while a backend is down — the failure is
// a clean kms.ErrUnavailable and nothing is stored — and in return every
// container opens with any single backend. A smaller quorum keeps creating
// keysets during an outage, but the containers written meanwhile lack the
// missing backends' entries: losing the backends that did wrap loses them.
//
// Unwrap parses the container and asks the configured backends that have
// an entry, in the order given to New (or all at once with
// Options.ParallelUnwrap, taking the first answer). The first backend that
// unwraps its entry yields K and the plaintext; the tag, checked with K,
// proves that no byte of the container (another backend's entry
// included) was changed. Entries of backends that are not configured are
// ignored, so a backend can be dropped from the configuration after a
// disaster. Options.AttemptTimeout bounds each backend's attempt.
//
// # Container format
//
// Version 1, pinned by testdata/container-v1-vectors.json:
//
//	0x01                         version
//	n (1 byte, 1–16)             number of entries, in backend order
//	n × entry:
//	  len (1 byte) || name       the backend's name, 1–255 bytes of [A-Za-z0-9._:/-]
//	  len (4 bytes, big-endian)  the backend's wrap of K || plaintext,
//	  || blob                    1 byte to 1 MiB
//	tag (32 bytes)               HMAC-SHA256(K, "piiguard/kms/multi v1 tag\x00" ||
//	                             len(ad) as 8 bytes big-endian || ad || all bytes before the tag)
//
// Each backend wraps with associated data "piiguard/kms/multi v1
// entry\x00" || ad, so that an entry is never a valid ciphertext of the
// same backend used directly.
//
// # Security notes
//
//   - The multi root key is as strong as its weakest backend: anyone who
//     can use one backend's key can unwrap every container, and can make
//     containers with that backend's entry alone. Give every backend the
//     same protection.
//   - The tag makes a container tamper-evident as a whole: a changed entry
//     fails even when another entry would still open. A container damaged
//     in storage is therefore lost like any damaged ciphertext; keep
//     backups of the key store (kms.Admin.Backup).
//   - A Driver names its backends in errors and in String; it never shows
//     key material. Errors from backends are kept as they are: they carry
//     no secrets by the kms.Driver contract.
//
// # Errors
//
// A failed Wrap or Unwrap returns an *Error listing each backend's error
// (in backend order) and wrapping exactly one sentinel:
//
//   - Unwrap: kms.ErrInvalidCiphertext if the container is malformed or
//     its tag does not verify, if none of its entries names a configured
//     backend, or if every backend asked said its entry is invalid (wrong
//     associated data, another key).
//   - kms.ErrUnavailable if some backend was unavailable (or ran out of
//     AttemptTimeout) and none succeeded: a retry may find it back.
//   - Otherwise the class of the first backend error that is not
//     kms.ErrInvalidCiphertext (kms.ErrPermissionDenied, kms.ErrClosed, …).
//   - The context's error when the caller's context ends; kms.ErrClosed
//     after Close; kms.ErrInvalidArgument from New for a bad backend list
//     or Options.
package multi
