// Package insecuremem holds the insecure, in-memory parts of piiguard's key
// management, for tests and demos: a root key (Driver) and a key store
// (Store) that live only in the process's memory, and the insecure-memory:
// URI scheme (Scheme, Opener). They are in one place, and named so, to be
// found and kept out of production with a grep.
//
//	root := kms.NewRootKey(insecuremem.NewDriver(), kms.RootKeyOptions{Name: "demo"})
//	kr, err := kms.NewKeyring(root, insecuremem.NewStore(), kms.KeyringOptions{})
//
// # Security considerations
//
// Insecure means lost, not leaked: the Driver's root key is random, never
// written anywhere, and zeroed on Close; the Store holds keysets wrapped by
// the root key like any other store. But nothing survives the process, so
// every value protected by keys made here is unreadable once it exits —
// which is exactly wrong for data kept anywhere. The Driver does not
// protect the key from anyone who can read the process's memory, and a
// URLMux opens insecure-memory: URIs only where Opener was registered (a
// command-line tool should refuse them, as cmd/piiguard does). A memory
// Store is right as a scratch store that keys are restored into from a
// backup to check something and then thrown away.
//
// Both pass the conformance suites of kms/kmstest; the Driver writes the
// wrap format of kms/localkey.
//
// # Errors
//
// Errors wrap the sentinels of package kms, as its Driver and Store
// contracts say: kms.ErrInvalidCiphertext and kms.ErrClosed from the
// Driver; kms.ErrNotFound, kms.ErrAlreadyExists, kms.ErrConflict and
// kms.ErrInvalidArgument from the Store. They hold no key material.
package insecuremem
