// Package pkcs11 is a piiguard root key (a kms.Driver) held in a PKCS#11
// token: a hardware security module, a cloud HSM with a PKCS#11 library,
// or SoftHSM2. The root key is an AES-256 secret key generated inside the
// token; it never leaves it. Wrap and Unwrap send the small secrets a
// keyring protects (32-byte data keys) to the token, which encrypts and
// decrypts them with CKM_AES_GCM.
//
// # Opening by URI
//
// Register an Opener on a kms.URLMux, then open root keys with URIs in the
// spirit of RFC 7512:
//
//	var mux kms.URLMux
//	mux.Register(pkcs11.Scheme, &pkcs11.Opener{})
//	root, err := mux.OpenRootKey(ctx, "pkcs11:token=piiguard-test;object=root-1"+
//		"?module-path=/usr/lib/softhsm/libsofthsm2.so&pin-source=env:PIIGUARD_PKCS11_PIN")
//
// Path attributes (separated by ";", values percent-encoded):
//
//	token=LABEL     the token's label (required)
//	object=LABEL    the key's CKA_LABEL (required)
//	serial=SERIAL   the token's serial number, when labels are not unique
//	type=secret-key allowed, for RFC 7512 compatibility
//
// Query attributes (separated by "&"; "+" is a plus sign, not a space):
//
//	module-path=/abs/path/lib.so  the PKCS#11 library (or Opener.ModulePath)
//	pin-source=env:NAME           the user PIN is in environment variable NAME
//	pin-source=file:/abs/path     the user PIN is in a file (one trailing newline dropped)
//	x-create=true                 generate the key if no key has the label
//	x-max-sessions=N              the session pool's size (default 8)
//
// The PIN is never part of the URI: pin-value is refused, as are unknown
// attributes. When the URI has no pin-source, Opener.PIN is used. The
// RootKey's name (kept in every keyset record, to know which root key
// wrapped it) is the URI without its query, for example
// "pkcs11:token=piiguard-test;object=root-1": write the path attributes
// the same way everywhere. Open opens a key from a Config instead of a URI.
//
// # The key
//
// With x-create=true (Config.CreateKey), a missing key is generated in the
// token with CKM_AES_KEY_GEN: AES-256, CKA_TOKEN, CKA_PRIVATE,
// CKA_SENSITIVE, not CKA_EXTRACTABLE (so CKA_NEVER_EXTRACTABLE and
// CKA_ALWAYS_SENSITIVE), CKA_ENCRYPT and CKA_DECRYPT only (no wrap, unwrap,
// sign or derive). A key found by label is used only if it is an AES-256
// key that is sensitive, not extractable, and allowed to encrypt and
// decrypt; an operator may import one (for a key held by two HSMs) as long
// as it has those attributes. Two keys with one label are refused.
// Generating the key is serialised within a process, not across processes:
// create it once, from one place (or with pkcs11-tool), before a fleet
// starts with x-create.
//
// # Wrap format
//
// Version 1, pinned by testdata/ciphertext-v1-vectors.json (whose public
// key the integration tests import into SoftHSM2 to unwrap every vector):
//
//	0x01 || IV (12 bytes) || AES-256-GCM ciphertext || tag (16 bytes)
//
// The GCM associated data is the version byte 0x01 followed by the
// caller's associated data. The IV is 12 random bytes from crypto/rand;
// a token that writes an IV of its own into the mechanism parameters (as
// some cloud HSMs do) has that IV stored instead. Random 96-bit IVs allow
// 2^32 wraps per key, far more than a root key makes: it only wraps data
// keys, when keysets are created and rewrapped. Wrap accepts at most
// 64 KiB.
//
// # Sessions, concurrency and outages
//
// A PKCS#11 library is process-wide: drivers over the same library share
// it (initialised by the first, finalised by the last to close), and a
// token is logged in once for all of the process's sessions with it. Each
// Driver keeps a pool of up to MaxSessions sessions, so that concurrent
// calls run side by side instead of queueing on one session; a caller
// waits for a free session no longer than its context allows.
//
// When a call finds its session, the token, the key handle or the library
// gone (an HSM restart, a network HSM that dropped the connection, a token
// whose storage vanished), it fails with kms.ErrUnavailable, which
// kms.RootKey retries, and the next call reconnects: new sessions, a new
// login, the token and key found again by label; if even that fails, the
// library is finalised and initialised again (at most once a second per
// library, and only by this package if it initialised the library). A key
// or token that was there at Open and cannot be found later is reported as
// kms.ErrUnavailable, not kms.ErrNotFound: a token whose storage is away
// looks the same as one whose key was deleted.
//
// # Security notes
//
//   - The key is generated in the token and cannot be read or exported
//     (the integration tests check that C_GetAttributeValue(CKA_VALUE) and
//     C_WrapKey are refused).
//   - The PIN is read from the environment or a file, never from the URI,
//     and kept in memory while the driver is open (to log in again after
//     an outage). The PIN type redacts itself in String, GoString, every
//     fmt verb, slog and JSON; Driver, Config and Opener print no PIN; no
//     error holds it. The PKCS#11 binding passes the PIN as a Go string,
//     which cannot be wiped.
//   - A process whose token is already logged in (by another driver) does
//     not let a driver with another PIN ride on that login: Open fails
//     with kms.ErrPermissionDenied.
//   - module-path makes the process load a shared library: URIs must come
//     from trusted configuration. Opener.ModulePath restricts them to one
//     library.
//   - The package uses cgo (github.com/miekg/pkcs11).
//
// # Errors
//
// Every error wraps one kms sentinel, names the key and the token, and
// for a PKCS#11 failure names the call and its return value (never the
// PIN, the plaintext or the ciphertext):
//
//   - kms.ErrPermissionDenied: wrong, locked or expired PIN
//     (CKR_PIN_INCORRECT, …), or a key the token will not use
//     (CKR_KEY_FUNCTION_NOT_PERMITTED).
//   - kms.ErrNotFound: at Open, no library file, no token with the label,
//     or no key with the label (without x-create).
//   - kms.ErrInvalidCiphertext: a ciphertext that is malformed or that the
//     token does not authenticate (CKR_ENCRYPTED_DATA_INVALID,
//     CKR_ENCRYPTED_DATA_LEN_RANGE, CKR_AEAD_DECRYPT_FAILED, and
//     CKR_GENERAL_ERROR from C_Decrypt, which is how SoftHSM2 reports a
//     failed GCM tag).
//   - kms.ErrUnavailable: device, token, session, login or library errors
//     (CKR_DEVICE_ERROR, CKR_DEVICE_REMOVED, CKR_TOKEN_NOT_PRESENT,
//     CKR_SESSION_HANDLE_INVALID, CKR_SESSION_CLOSED,
//     CKR_USER_NOT_LOGGED_IN, CKR_OBJECT_HANDLE_INVALID,
//     CKR_CRYPTOKI_NOT_INITIALIZED, CKR_GENERAL_ERROR elsewhere, …).
//   - kms.ErrInvalidArgument: a bad URI or Config, several tokens or keys
//     matching, or a key with the wrong attributes.
//   - kms.ErrClosed after Close; the context's error when it ends.
//   - kms.ErrBackend: anything else, such as a token without CKM_AES_GCM
//     (CKR_MECHANISM_INVALID).
//
// # Tests
//
// Without a token, go test checks URI parsing, PIN handling, error
// mapping and the wrap format. Under the integration build tag (make
// integration, which sets up a SoftHSM2 token) the driver passes
// kms/kmstest's conformance suite against SoftHSM2, and the tests check
// the key's attributes, a wrong PIN, opening by URI, the session pool,
// and recovery from lost sessions and a finalised library.
package pkcs11
