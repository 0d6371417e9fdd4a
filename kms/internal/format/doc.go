// Package format holds the JSON wire formats that package kms and package
// kms/filestore share, below both of them (it imports neither): the JSON
// form of a keyset record, which is a FileStore keyset file and each keyset
// of a key backup, and the key backup file itself (version 1, pinned by
// kms/testdata/backup-v1.json). It also holds the rules both sides check
// on what those formats carry: a keyset's name, and the contents of a
// store's manifest.
//
// Readers are strict: they refuse unknown fields, a newer version (an
// error wrapping kms.ErrUnsupportedVersion) and anything malformed
// (kms.ErrCorrupt). No error quotes the input: messages name a field, a
// keyset or a byte offset, never a value, so that nothing of a wrapped key
// ends up in a log.
package format
