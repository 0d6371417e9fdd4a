// Command piiguard is the operators' tool for piiguard: it creates root key
// files, manages the keysets of a key store (create, list, rotate, disable,
// destroy), backs them up and restores them, runs the recovery drill, moves
// them to another root key, verifies and queries audit logs, and scans
// files and databases for personal data stored in the clear.
//
// # Quick start
//
//	export PIIGUARD_PASSPHRASE='…'           # from your secret manager
//	export PIIGUARD_ROOT='local:///var/lib/app/root.key?passphrase_env=PIIGUARD_PASSPHRASE'
//	export PIIGUARD_STORE='sqlite:/var/lib/app/keys.db'
//
//	piiguard keys init                       # once: the root key file
//	piiguard keys create fields aead         # the first keyset; creates the store
//	piiguard keys list
//	piiguard keys rotate fields              # a new primary version
//	piiguard keys backup /backup/keys-$(date +%F).json
//	piiguard keys verify-backup /backup/keys-$(date +%F).json
//
// # Root keys and stores
//
// -root names the root key by URI, opened through a kms.URLMux on which
// the tool registers local:///ABS/PATH?passphrase_env=VAR (kms/localkey: a
// key file under a passphrase read from the environment variable VAR, never
// from the command line) and the backends awskms://, gcpkms://,
// vault-transit:// and pkcs11:. insecure-memory:// is refused: its key
// would be gone, and every keyset wrapped by it, when the command exits. -store is sqlite:PATH, file:DIR or a
// postgres:// (or postgresql://) connection URL, opened with pgx. Commands
// that only read a store refuse a sqlite: or file: store that does not exist
// rather than creating an empty one; keys create and keys restore create it.
//
// keys init creates a local key file (mode 0600) under a passphrase it
// checks first, and the folders above it that are missing (mode 0700); it
// never overwrites a file.
//
// keys list and the refusal of keys destroy read the store only: they need
// no root key.
//
// # Rotation, retirement and the recovery drill
//
// keys rotate adds a version and makes it primary. In a fleet, prefer keys
// add-version, wait for the applications' cache age, then keys promote.
// Older versions keep decrypting until keys disable (reversible with keys
// enable) or keys destroy (final: whatever the version encrypted is lost,
// except in backups made before, which should be destroyed too).
//
// keys backup writes every keyset, still wrapped by the root key, to a file
// created atomically with mode 0600; it never replaces a file unless -force
// is given. keys restore writes a backup into an empty store and verifies
// it. keys verify (the store) and keys verify-backup (a backup file, with no
// store but for the keys of -audit) unwrap every keyset and exercise every
// version that is not destroyed; they print one line per version, OK or
// FAILED, and exit 1 if anything failed. A keyset that cannot be unwrapped
// at all (made under another root key, or damaged) gets one FAILED line
// that says so.
//
// keys rewrap -to URI moves every keyset to another root key (another file,
// another backend): only the keysets' data keys are rewrapped, data is not
// touched. It then verifies the store under the new root key; use the new
// URI as -root from then on. An interrupted rewrap is resumed by running the
// same command again.
//
// keys rewrap-subjects re-encrypts every subject key (the per-customer keys
// of crypto-shredding) under the primary version of the "subjects" keyset:
// after keys rotate subjects, it is what lets keys destroy retire the old
// version, which it refuses while any subject key still depends on it. It
// prints how many keys it checked, rewrapped and skipped (destroyed during
// the pass), and can be run again. A store with no "subjects" keyset holds
// no subject keys: keys rewrap-subjects then says there is nothing to
// re-wrap and exits 0. It fails if the store holds subject keys all the
// same (wrapped by a keyset of another name): there is nothing to re-wrap
// them under.
//
// # Audit
//
// Every key command reports its key events (who, which keyset and version,
// success or failure) to the file given with -audit: a tamper-evident log
// in the JSON Lines format of package audit, chained and checkpointed as an
// audit.Chain writes it. Its MAC and signing keys are the keysets audit-mac
// and audit-sign of the key store (audit.ChainMACKeyset and
// audit.ChainSignKeyset), made with the other keys the first time -audit
// is used; their creation is the log's first record. Each command first
// verifies the log and then continues it, and writes a signed checkpoint as
// it ends. A log that does not verify makes the command refuse before it
// does anything: a log modified or cut in its middle, a log of plain events
// (written without a chain: use a new file), or a log chained with the keys
// of another store. keys restore, which needs an empty store, makes the
// chain's keysets after the restore unless the backup brings them; a log
// that already holds records is checked with the backup's keysets first.
// keys verify-backup, which has no store of its own, takes them from
// -store. Do not disable or destroy versions of audit-mac and audit-sign
// while logs made with them are kept: audit verify needs them.
//
// -actor names who ran a command (default $USER, else the name of the
// operating system's user, else uid:N with the numeric user ID, so that
// every key event has an actor).
//
// audit verify checks a chained audit log (MACs, links, signed checkpoints)
// with the keysets audit-mac and audit-sign of the key store (or those
// -mac-keyset and -sign-keyset name) and prints how many records and
// checkpoints it verified; with -witness it also detects a log truncated
// before the witness's last checkpoint. A log of plain events, written
// without a chain, has no MAC to check: audit verify says that it is not
// chained, not that it was tampered with, and exits 1.
//
// audit query prints the events that match as JSON lines, for incident
// response ("who saw customer X") and privacy requests. Events never hold
// values, so neither does the output.
//
// # Scanning for personal data
//
// scan finds personal data in stores, for the data inventory and for CI:
// the e-mail address in a log file, the phone column nobody tagged. Each
// TARGET is a file, a folder (walked, symbolic links not followed),
// sqlite:PATH (opened read only; a missing file is not created) or a
// postgres:// (or postgresql://) URL (each table read in a read-only
// transaction). It finds values with package detect and prints them
// masked only (detect.Mask: "***@example.com", "**** **** **** 1111"),
// never in the clear.
//
// Files are read as a stream, in bounded memory whatever their size or
// the length of their lines: logs, JSON Lines, plain text. A .csv or .tsv
// file is read record by record (in memory bounded by its longest
// record), each field with its column's header as
// context (detect.FindField), so that a date of birth under "dob" is
// found in every row; a file that does not parse as CSV is read again as
// text. For each file, scan counts the values of each kind and shows the
// line, the masked value and the recognizer of the first -hits (3) of
// each. A file whose first 512 bytes are not text (a NUL byte, or a type
// net/http sniffs as binary: images, archives, PDF, SQLite databases,
// UTF-16) is skipped with a note. Invalid UTF-8, lines of 1 MiB or more and
// files cut at -max-bytes (64 MiB; 0 reads all) are noted; a file or
// folder that cannot be read is an error in the report, and the scan goes
// on. -max-files stops the walk after N files.
//
// Tables: for every table (or those of -tables; schema.table for
// PostgreSQL), scan reads the text columns (SQLite: TEXT affinity and
// columns without a type; PostgreSQL: text, varchar, char, json, jsonb,
// citext, xml) of the first -sample rows (1000) the database returns,
// and classifies every non-empty value with detect.FindField(column,
// value). A value piiguard wrote is sealed: a pii ciphertext ("pg1."), a
// blind index ("bi1.") or a marked token ("th1_", "ts1_", "tv1_"). A
// column is
//
//	unsealed       values in the clear hold personal data
//	partly-sealed  some values are sealed and others are not: the others
//	               are personal data in the clear, found or not (a
//	               migration that has not finished)
//	sealed         every value sampled is sealed
//	clean          nothing found, nothing sealed
//
// The table output lists the files with personal data (a row per kind)
// and the columns that are not clean; -json lists every file and column.
// Format-preserving tokens carry no marker: a column of unmarked card or
// resident ID tokens reads as unsealed. Names and street addresses are not
// detected (see package detect). PostgreSQL databases are named by host,
// port and database; no message holds the URL's password.
//
// A progress bar is drawn on stderr when it is a terminal (-progress
// always draws it anyway, never never does); the report goes to stdout.
// scan exits 0 when it found no personal data in the clear, 3 when it did
// (even if something else could not be read), 1 when it found none but a
// file, folder, database or table could not be read, and 2 for a usage
// error:
//
//	piiguard scan -json /var/log/app sqlite:/var/lib/app/app.db > inventory.json
//	piiguard scan -tables public.customers "$DATABASE_URL"
//
// The JSON report (schema "piiguard.scan/v1"; fields may be added within a
// version, never renamed or given another meaning) is one object:
//
//	schema      "piiguard.scan/v1"
//	files[]     path, status ("pii", "clean", "skipped", "error"), bytes
//	            (read), truncated (by -max-bytes), findings[], notes[],
//	            error (when status is "error")
//	  findings[]  kind (detect's kind names: email, phone, card, cnid, iban,
//	              ip, ssn, nino, mynumber, dob, passport), count, first[]
//	    first[]   line (1-based), column (CSV header, when read as CSV),
//	              masked, recognizer, confidence
//	databases[] database ("sqlite:PATH" or "postgres:HOST:PORT/DB"),
//	            tables[], error (when it could not be opened or listed)
//	  tables[]    table, rows_sampled, columns[], notes[], error
//	    columns[] name, type (as declared), status (unsealed, partly-sealed,
//	              sealed, clean), values (non-empty values sampled), sealed
//	              (of them, sealed), with_pii (of them, in the clear with
//	              personal data), kinds[] {kind, values}, examples[] (masked)
//	notes[]     notes on the walk (-max-files reached, links not followed)
//	summary     files_scanned, files_with_pii, files_skipped, databases,
//	            tables_scanned, columns_unsealed, columns_partly_sealed,
//	            columns_sealed, errors, kinds {kind: values found},
//	            personal_data_unsealed (true: exit code 3)
//
// # Security
//
// Every connection is encrypted: a postgres:// store (and a scan of one) on
// another machine needs sslmode=verify-full in its URL, or sslmode=require
// with the reason it is enough stated in $PIIGUARD_PG_TLS_REASON; anything
// goes over loopback or a Unix socket. The check is made before any
// connection, and its error names the host, never the password.
//
// Passphrases are read from the environment only; no command prints a
// passphrase, key bytes, or a store URL's password, and errors name files,
// keysets and key IDs only. Key IDs are Tink key IDs: public numbers written
// into every ciphertext, shown by keys list.
//
// # Exit status
//
// 0 when the command succeeded, 1 when the operation failed (a failed
// verification included), 2 for a usage error (a keys destroy not confirmed
// with -yes included), 3 when scan found personal data unsealed.
//
// # Usage
//
//	piiguard keys init -root local:///PATH?passphrase_env=VAR
//	piiguard keys create [flags] NAME PURPOSE     (aead, prf, daead, mac, signature)
//	piiguard keys list [flags]
//	piiguard keys rotate [flags] NAME
//	piiguard keys add-version [flags] NAME
//	piiguard keys promote [flags] NAME KEYID
//	piiguard keys disable [flags] NAME KEYID
//	piiguard keys enable [flags] NAME KEYID
//	piiguard keys destroy [flags] -yes NAME KEYID
//	piiguard keys backup [flags] [-force] FILE
//	piiguard keys restore [flags] FILE
//	piiguard keys verify [flags]
//	piiguard keys verify-backup [flags] FILE
//	piiguard keys rewrap [flags] -to URI
//	piiguard keys rewrap-subjects [flags]
//	piiguard audit verify [-root URI] [-store SPEC] [-mac-keyset NAME]
//	                      [-sign-keyset NAME] [-checkpoint-every N]
//	                      [-witness FILE] LOG...
//	piiguard audit query [-subject ID] [-actor ID] [-action A,...] [-outcome O]
//	                     [-decision D] [-record-type T] [-field F]
//	                     [-since T] [-until T] [-limit N] LOG...
//	piiguard scan [-json] [-max-bytes N] [-max-files N] [-sample N] [-hits N]
//	              [-tables T,...] [-kinds K,...] [-min-confidence C]
//	              [-progress auto|always|never] TARGET...
//	piiguard help
//
// First steps:
//
//	export PIIGUARD_PASSPHRASE='…'           # from your secret manager
//	export PIIGUARD_ROOT='local:///var/lib/app/root.key?passphrase_env=PIIGUARD_PASSPHRASE'
//	export PIIGUARD_STORE='sqlite:/var/lib/app/keys.db'
//
//	piiguard keys init                       # once: the root key file
//	piiguard keys create fields aead         # the first keyset; creates the store
//	piiguard keys list
//	piiguard keys rotate fields              # a new primary version
//	piiguard keys backup /backup/keys-$(date +%F).json
//	piiguard keys verify-backup /backup/keys-$(date +%F).json
//
// Flags of the keys commands (keys init takes -root only):
//
//	-root URI     root key (default $PIIGUARD_ROOT)
//	-store SPEC   key store: sqlite:PATH, file:DIR or postgres://...
//	              (default $PIIGUARD_STORE)
//	-actor ID     who runs the command, for the audit events
//	              (default $USER, else the OS user name, else uid:N)
//	-audit PATH   append the key events to this tamper-evident audit log
//	              (chained with the keysets audit-mac and audit-sign)
//
// Flags may come before or after the arguments. KEYID is a version's key ID
// as keys list shows it. -action takes actions (reveal, key.rotate, …)
// separated by commas, or "reveals" (reveal, detokenize, export) or "data"
// (every action on customer data). -since and -until take an RFC 3339 time,
// a date (2006-01-02, UTC) or a duration back from now (24h); the window is
// since <= time < until. A LOG is the path of an audit log; its rotated
// files (audit.000001.jsonl, …) are read with it, oldest first. A TARGET
// of scan is a file, a folder, sqlite:PATH or a postgres:// URL.
//
// Exit status: 0 success, 1 operation failed, 2 usage error, 3 scan found
// personal data unsealed.
package main

// usageText is printed by "piiguard help"; the Usage section above is the
// same text, and a test keeps the two equal.
const usageText = `Usage:

	piiguard keys init -root local:///PATH?passphrase_env=VAR
	piiguard keys create [flags] NAME PURPOSE     (aead, prf, daead, mac, signature)
	piiguard keys list [flags]
	piiguard keys rotate [flags] NAME
	piiguard keys add-version [flags] NAME
	piiguard keys promote [flags] NAME KEYID
	piiguard keys disable [flags] NAME KEYID
	piiguard keys enable [flags] NAME KEYID
	piiguard keys destroy [flags] -yes NAME KEYID
	piiguard keys backup [flags] [-force] FILE
	piiguard keys restore [flags] FILE
	piiguard keys verify [flags]
	piiguard keys verify-backup [flags] FILE
	piiguard keys rewrap [flags] -to URI
	piiguard keys rewrap-subjects [flags]
	piiguard audit verify [-root URI] [-store SPEC] [-mac-keyset NAME]
	                      [-sign-keyset NAME] [-checkpoint-every N]
	                      [-witness FILE] LOG...
	piiguard audit query [-subject ID] [-actor ID] [-action A,...] [-outcome O]
	                     [-decision D] [-record-type T] [-field F]
	                     [-since T] [-until T] [-limit N] LOG...
	piiguard scan [-json] [-max-bytes N] [-max-files N] [-sample N] [-hits N]
	              [-tables T,...] [-kinds K,...] [-min-confidence C]
	              [-progress auto|always|never] TARGET...
	piiguard help

First steps:

	export PIIGUARD_PASSPHRASE='…'           # from your secret manager
	export PIIGUARD_ROOT='local:///var/lib/app/root.key?passphrase_env=PIIGUARD_PASSPHRASE'
	export PIIGUARD_STORE='sqlite:/var/lib/app/keys.db'

	piiguard keys init                       # once: the root key file
	piiguard keys create fields aead         # the first keyset; creates the store
	piiguard keys list
	piiguard keys rotate fields              # a new primary version
	piiguard keys backup /backup/keys-$(date +%F).json
	piiguard keys verify-backup /backup/keys-$(date +%F).json

Flags of the keys commands (keys init takes -root only):

	-root URI     root key (default $PIIGUARD_ROOT)
	-store SPEC   key store: sqlite:PATH, file:DIR or postgres://...
	              (default $PIIGUARD_STORE)
	-actor ID     who runs the command, for the audit events
	              (default $USER, else the OS user name, else uid:N)
	-audit PATH   append the key events to this tamper-evident audit log
	              (chained with the keysets audit-mac and audit-sign)

Flags may come before or after the arguments. KEYID is a version's key ID
as keys list shows it. -action takes actions (reveal, key.rotate, …)
separated by commas, or "reveals" (reveal, detokenize, export) or "data"
(every action on customer data). -since and -until take an RFC 3339 time,
a date (2006-01-02, UTC) or a duration back from now (24h); the window is
since <= time < until. A LOG is the path of an audit log; its rotated
files (audit.000001.jsonl, …) are read with it, oldest first. A TARGET
of scan is a file, a folder, sqlite:PATH or a postgres:// URL.

Exit status: 0 success, 1 operation failed, 2 usage error, 3 scan found
personal data unsealed.
`
