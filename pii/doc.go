// Package pii protects the personal data held in a Go application's records:
// the developer tags the fields that hold PII, and a Protector encrypts them
// (Seal), decrypts them (Open), computes blind indexes to search them, and
// masks them for logs (Redact).
//
//	type Customer struct {
//		ID         string `pii:"id"`
//		Name       string `pii:"name"`
//		Email      string `pii:"email,search=EmailIndex"`
//		EmailIndex string
//		Phone      string `pii:"phone"`
//		NationalID string `pii:"national_id,class=government_id"`
//		City       string
//	}
//
//	p, err := pii.New(keyring, pii.Options{     // keysets "pii-fields" and "pii-search"
//		Checker: policy,                        // an *access.Policy: who may see which field
//		Audit:   sink,                          // an audit.Sink: every reveal, mask and denial
//	})
//	err = p.Seal(ctx, &customer)                // tagged fields become ciphertext, indexes filled
//	err = p.Open(ctx, &customer)                // back to plaintext, as far as the policy allows
//	terms, err := p.SearchTerms(ctx, Customer{}, "Email", "lucy@example.com")
//	err = pii.Redact(&customer)                 // masks, for logs: "L. W.", "l***@example.com"
//
// The keys come from a *kms.Keyring: an AEAD keyset (AES-256-GCM) encrypts
// fields and a PRF keyset (HMAC-SHA256) computes indexes. Create them once
// with kms.NewAdmin(keyring).Ensure(ctx, "pii-fields", kms.PurposeAEAD) and
// kms.NewAdmin(keyring).Ensure(ctx, "pii-search", kms.PurposePRF). In steady state no
// operation of this package reaches the KMS: the key ring caches keysets.
//
// # Struct tags
//
// A field is protected when it carries a `pii` tag:
//
//	tag     = "-" | "id" { "," idopt } | kind { "," option }
//	idopt   = "record=" name        the record name bound into associated data
//	        | "owner=" Field        sibling Field holds the ID of the record's owner (access control)
//	        | "tenant=" Field       sibling Field holds the record's tenant (access control)
//	kind    = "name" | "email" | "phone" | "address" | "street" | "city" | "postcode"
//	        | "card" | "bank_account" | "national_id" | "dob" | "ip" | "text"
//	option  = "class=" class        the data class; default: the kind's (see Kind)
//	        | "search=" Field       keep a blind index of the value in sibling Field
//	        | "token=" name         tokenize with Options.Tokenizers[name] instead of encrypting
//	        | "bind=" Name          bind the value under Name instead of the Go field name
//	class   = "contact" | "identity" | "financial" | "government_id" | "health"
//	        | "location" | "online" | "sensitive" | "general"
//
// No spaces; each option at most once. "id" marks the record's ID field,
// which is not encrypted (it is the row's key) but binds every value of the
// record to the record (see Associated data). "-" stops the walk: the field
// and anything it reaches are left alone.
//
// owner= and tenant= name the fields Open reads to tell the access Checker
// whose record it is (see Access control):
//
//	type Account struct {
//		ID         string `pii:"id,owner=SalesRepID,tenant=Org"`
//		SalesRepID string // the principal ID of the account's sales rep
//		Org        string
//		Email      string `pii:"email"`
//	}
//
// Each must name an exported, untagged field of the same struct as the id
// field, other than the id field, holding a string, an integer or an
// encoding.TextMarshaler (not a String or Value: access is decided before
// anything is opened); an empty or zero value means no owner or tenant.
// They are promoted with an id field declared in an embedded struct, and
// apply to every field of the record, nested records included. Anything
// else is an ErrInvalidTag at plan time.
//
// A protected field must be a string, a []byte, a *string (or a type whose
// underlying type is one of those, such as String), or a Value[T] for typed
// values (time.Time, integers, …). A search= sibling must be an exported,
// untagged field of type string in the same struct, used by one field only.
// An ID field is a string, an integer or an encoding.TextMarshaler (such as
// a UUID type); an empty string or a zero value is no ID. It may be declared
// in an embedded struct (type Entity struct{ ID string `pii:"id"` }) and is
// then promoted, as encoding/json promotes fields; two candidates are an
// error. Nested records are bound to the ID of the record passed to Seal.
//
// Seal, Open and Redact walk every exported field, tagged or not: nested
// structs, embedded structs, pointers, slices and arrays of structs, and
// maps with struct (or pointer) values. Map keys are never protected. They
// do not follow interface values: one that holds a record with tagged fields
// is an error (ErrUnsupportedType), never skipped.
//
// Tags are parsed once per type and the plan cached. Every mistake is an
// error at the first use of the type, a *FieldError naming the field and
// wrapping ErrInvalidTag (an unknown kind, option or class, a missing or
// mistyped search= sibling, two id fields, two fields bound to one name),
// ErrUnsupportedType (a tagged field of a type that cannot hold a protected
// value) or ErrUnexportedField (a tagged unexported field, or an unexported
// field that reaches tagged ones). A record type with protected fields and no
// id field fails with ErrMissingID. Nothing tagged is ever skipped.
//
// # Protected values (format version 1)
//
// A sealed value is a self-describing string:
//
//	ciphertext = "pg1." base64url(tink)      (RFC 4648 §5 alphabet, no padding)
//	tink       = 0x01 key-id iv ct tag       (Tink's AES-256-GCM with the TINK prefix)
//	key-id     = 4 bytes, big-endian: the Tink key ID of the field keyset version
//	iv, tag    = 12 and 16 bytes
//
// A []byte field holds the same ASCII text. "pg" followed by a digit and a
// dot marks a protected value: Seal leaves a marked value alone (after
// checking that it opens in its place, see below), so sealing is idempotent
// and double encryption impossible; Open refuses a value that is not marked
// (ErrPlaintext), so plaintext where a ciphertext belongs is detected. A
// marked value that does not parse is ErrInvalidCiphertext, whatever the
// mode; "pg2." and later are ErrUnsupportedFormat. Plaintext must therefore
// not itself begin with "pg1." and look like a ciphertext: Seal refuses such
// a value rather than store it in the clear.
//
// Empty values stay empty: an empty string, a nil []byte or *string and a
// zero Value are not encrypted (their emptiness is visible). A plaintext
// longer than MaxValueSize (64 KiB) is refused with ErrTooLarge. The
// ciphertext is 33 bytes longer than the plaintext, about 48 characters more
// once encoded.
//
// Rotating the field keyset makes new values use the new version; old values
// keep opening while their version is enabled. Opening and sealing a record
// again moves its values to the primary version. A value under a disabled or
// destroyed version fails to open with an error wrapping kms.ErrDisabled or
// kms.ErrDestroyed; Seal leaves such a value as it is.
//
// # Associated data
//
// Every ciphertext is bound to its place by the AEAD's associated data:
//
//	ad   = "piiguard/pii/v1" 0x00 record 0x00 path 0x00 id
//
// record is the Go name of the record type (or the id field's record=), path
// the field's path from the record — Go field names (or bind= names) joined
// by ".", with "[]" after a slice, array or map: "Email", "Home.Street",
// "Addresses[].Street" — and id the text of the record's ID. A ciphertext
// copied into another field, another row or another record type does not
// open (ErrInvalidCiphertext), and Seal refuses it too. Elements of one slice
// or map share a path: moving a value between them is not detected.
//
// Renaming a record type or a field changes its associated data: keep the
// old names with record= and bind= (`pii:"id,record=Customer"`,
// `pii:"name,bind=Name"`). The ID must be known before sealing (generate
// IDs in the application, not with database sequences) and must not change.
//
// # Blind indexes (format version 1)
//
// A field tagged search=Index gets, at every Seal, a blind index of its
// value in the sibling Index, to find rows by equality without decrypting:
//
//	index      = "bi1." key-id "." base64url(trunc(HMAC-SHA256(field-key, normalized)))
//	key-id     = 8 lowercase hex digits: the Tink key ID of the search keyset version
//	field-key  = PRF(version, "piiguard/pii/blind-index/v1" 0x00 record 0x00 path), 32 bytes
//	trunc      = the first IndexBits bits, the rest of the last byte zero
//
// Each field has its own key, so equal values in two fields do not link.
// Values are normalised by kind first, so that a search finds what a person
// would call the same value: e-mail addresses are trimmed and lower-cased;
// phone numbers put in E.164 form ("+442079460800", with
// Options.DefaultCountryCode for numbers written without one); card numbers
// reduced to digits; national IDs, bank accounts and postcodes to upper-case
// letters and digits; IP addresses to their canonical form; everything else
// trimmed, white space folded and lower-cased.
//
// SearchTerms returns the index values of a search term under every enabled
// version of the search keyset, the primary's first, so that search keeps
// working across a rotation: query with WHERE index IN (…). Rows sealed
// after the rotation carry the new version's value; re-sealing an opened
// record reindexes it.
//
// Choosing IndexBits. An index truncated to b bits maps the N distinct
// values of a column onto 2^b buckets. More bits mean fewer false matches (a
// search returns about N/2^b rows that hold other values) and more leakage
// (with 2^b far above N every value has its own index, and whoever reads the
// table learns which rows are equal and how often each value occurs). AWS's
// guidance for its database encryption beacons is √N < 2^b < N/2: for a
// million customers, between 10 and 19 bits. The default, 16, suits tables
// of about 130,000 to 4 billion rows. Because of false matches, open the
// rows a search returns and keep those whose field is Equal to the term.
// Indexes leak equality by design: do not index fields whose values are few
// (a yes/no field, a country) or guessable from frequency.
//
// # Masking
//
// Mask returns the masked form of a value by kind ("L. W.",
// "l***@example.com", "*** **** 8000", "4111 11** **** 1111",
// "************002X", "***, London" for an address), and Redact masks every
// tagged field of a record in place, without any key, for logs and support
// screens: plaintext becomes its mask, sealed values "[sealed]", index
// fields "". A redacted record holds masks: never seal or store it.
//
// # Redacting types
//
// String and Value[T] hold PII in memory without printing it: fmt (every
// verb), log/slog (LogValuer) and encoding/json all see "[redacted]". The
// value comes out only through an explicit Reveal call, easy to find with
// grep. Both work as tagged field types, and as database/sql values
// (driver.Valuer, sql.Scanner) they write ciphertext and refuse plaintext
// (ErrPlaintext), so a record whose PII fields use them cannot be stored
// without being sealed. Value[T] encodes T as text (MarshalText, or strconv
// for numbers and booleans) before encrypting it.
//
// # Tokens
//
// A field tagged token=NAME holds a token instead of a ciphertext: Seal
// replaces its value with Options.Tokenizers[NAME]'s token, with the
// field's kind as the domain, and Open turns the token back into the value
// as the access decision allows. A Tokenizer (package tokenize has four)
// recognises its own tokens, so that Seal stays idempotent; two optional
// abilities, found by type assertion, refine this: a TokenRecognizer that
// cannot tell its tokens from values in a field's kind is refused for that
// field (ErrNoTokenizer), and a ReversibilityReporter that says its tokens
// do not turn back into values (HMAC tokens, made for joins) is never
// asked to: Open leaves such a field holding its token.
//
// # Migrating a plaintext database
//
// Options.MigrationModeAllowPlaintext lets Open accept plaintext where a
// ciphertext belongs (leaving it as it is), so an application can read a
// table while a background job opens and seals its rows one by one. Turn it
// off when the job is done: while on, a value stored in the clear by mistake
// is not detected.
//
// # Access control
//
// Open asks Options.Checker (package access: an *access.Policy loaded from
// YAML or JSON, the Cedar adapter, or a Checker of your own) about every
// non-empty protected field before revealing it. The access.Request is
// built with access.NewRequest from the context — the principal
// (access.WithPrincipal, or access.Middleware for net/http), the purpose
// (access.WithPurpose) and any break-glass reason (access.WithBreakGlass) —
// with action access.ActionReveal and the resource:
//
//	RecordType  the record name (Go type name or record=)
//	Field       the field path ("Email", "Addresses[].Street")
//	Kind, Class the field's kind and class from its tag
//	OwnerID     the owner= field of the record ("" without one)
//	SubjectID   the record's ID
//	Tenant      the tenant= field of the record ("" without one)
//
// and applies the decision to that field only:
//
//	access.Allow  the plaintext (a break-glass Allow, with Alert, too)
//	access.Mask   the kind's Mask ("l***@example.com"; a Value becomes masked)
//	access.Deny   the zero value: "", nil, a zero Value — the field is not
//	              even decrypted (or detokenized)
//
// With Options.StrictAccess a Deny fails the whole Open instead, with an
// error wrapping access.ErrDenied that names the field, and the record is
// unchanged. A context without a principal is denied (access.ErrNoPrincipal
// from the Checker counts as a Deny, never a panic). Any other error from
// the Checker fails Open with ErrAccessCheck. Malformed ciphertexts and
// plaintext (ErrPlaintext) are errors whatever the decision; in migration
// mode a plaintext field is masked or zeroed like a sealed one.
//
// Decisions are made once per question within one call. The Checker is
// prepared for the call's principal, purpose and break-glass reason
// (access.Prepare: for an *access.Policy, the rules of the principal's
// roles and their principal-side conditions, MFA freshness included, are
// worked out once per call). OpenAll remembers each field's decision for
// the call when the Checker does not read subject IDs, so that a page of
// records asks once per field — or, when the Checker reads the record's
// owner or tenant (access.RecordInputReporter: an *access.Policy does when
// its rules are owner-only or same-tenant), once per field and owner or
// tenant: a sales rep's page of 1,000 accounts of 10 owners is 10
// decisions per field, not 1,000. Subject IDs never count for a Policy. A
// Checker that does not say what it reads (access.InsecureAllowAll, or a
// Checker of your own) may read them, and is asked once per field and
// record. Within one record, a path reached again (the elements of a slice
// or map of nested records) is decided once. A decision never outlives its
// call: MFA windows close and policies change. To open many records,
// prefer one OpenAll to many Opens.
//
// There is no default: New fails with ErrNoChecker when Options.Checker is
// nil. access.InsecureAllowAll is the deliberate way to run without access
// control (tests, demos, single-user tools): it reveals every field to
// anyone, even with no principal in the context, and its audit events say
// "access control disabled".
//
// Seal makes no access decision: it protects values, it does not disclose
// them. SearchTerms makes none either (blind index terms disclose nothing;
// the rows found are opened with Open), but reports an audit event.
//
// # Audit
//
// With Options.Audit set (to a sink other than audit.Discard, for which no
// event is even built), Open reports one audit.ActionReveal event per
// record and decision — at most three per record: allow, mask and deny —
// listing the fields that got it:
//
//	Field     the field paths, comma-separated, in walk order ("Name,Email")
//	Class     their classes, comma-separated, each once
//	Decision  "allow", "mask" or "deny" (audit.DecisionAllow, …)
//	Reason    the Checker's reasons, each once, joined with " | "
//	Outcome   success for allow and mask; failure, Error "permission_denied", for deny
//	KeyName   the keyset (or "token:NAME", or "" for plaintext in migration
//	          mode), comma-separated if several; KeyID the key version, or 0
//	          if the fields were sealed under several
//	SubjectID the record's ID; RecordType its record name
//	Actor     the principal's ID, else audit.ActorFrom(ctx)
//	Purpose   the declared purpose; RequestID audit.RequestIDFrom(ctx)
//
// One event per record and decision, rather than per field, keeps the audit
// trail and its chain a few times smaller and Open cheap (an AsyncSink
// hands each event to another goroutine, which takes a stream of them in
// batches). Queries by subject, actor, decision and time work as they do
// for any event, and audit.Query.Field selects the events whose Field list
// holds the field asked for.
//
// A break-glass decision (access.Decision.Alert) is reported with a Reason
// that starts with "break-glass" and ends with `stated reason: "…"`: the
// reason the principal gave, up to 256 bytes — the one free text in this
// package's events, which belongs in the audit trail (see package access).
// A sink can page on it at once.
//
// Open records its events before it changes the record: if the sink
// refuses any (an error from Record, a full AsyncSink, a Detector blocking
// the principal), Open fails with ErrAudit and the record keeps its
// ciphertexts — no audit record, no plaintext. With an audit.AsyncSink,
// "recorded" means queued: route reveals around it with audit.SplitReveals
// for a synchronous guarantee, and keep its RevealPolicy at Fail or Block.
// A failed Open reports one failure event for the field at fault (with
// Decision "deny" when a strict denial failed it). SearchTerms reports
// audit.ActionSearch with the record type, field path, class and search key,
// and fails with ErrAudit if the sink refuses it. Seal reports nothing:
// protecting a value discloses nothing. Events never carry a value or a
// ciphertext.
//
// # Security considerations
//
//   - Seal and Open are all-or-nothing: on error the record is unchanged.
//   - Not protected: the ID field, untagged fields, map keys, the presence
//     and the length (to the byte) of each value, and — through indexes —
//     which rows hold equal values of a searchable field.
//   - Tokens (token=) are not bound to their record: deterministic tokens
//     are made to be joined across records and tables.
//   - No error, log line or audit event of this package holds a value or a
//     ciphertext: errors name record types, field paths and key IDs.
//   - Access is decided per field by Options.Checker, which must trust the
//     principal the host application put in the context: piiguard never
//     authenticates. A caller holding a Protector and the keys can still
//     read ciphertexts itself; access control protects the reveal path,
//     encryption the storage.
//   - A denied field reads as empty: with StrictAccess off, callers cannot
//     tell a denied field from an empty one except through the audit trail.
//   - owner= and tenant= fields are trusted as stored: whoever can write a
//     record's owner field can grant its owner access. Protect them like
//     the ID (or keep them out of reach of the principals they decide for).
//   - Values revealed by Open live in ordinary Go strings: they are not wiped
//     from memory. Keep plaintext records short-lived; use String to keep
//     them out of logs.
//
// # Errors
//
// Errors wrap the sentinels of this package (ErrInvalidRecord,
// ErrInvalidTag, ErrUnsupportedType, ErrUnexportedField, ErrMissingID,
// ErrCycle, ErrTooLarge, ErrPlaintext, ErrInvalidCiphertext,
// ErrUnsupportedFormat, ErrNotSearchable, ErrNoTokenizer, ErrSealed,
// ErrAudit, ErrNoChecker, ErrAccessCheck), of package access (ErrDenied, and
// ErrNoPrincipal with it, under StrictAccess) or of package kms
// (ErrDisabled, ErrDestroyed, ErrUnavailable, …) for key ring failures,
// which pii wraps, never rebuilds; errors about one field are a
// *FieldError. Every sentinel wraps one of the module's class sentinels,
// so piiguard.ErrorCode classifies any error of this package; audit
// events carry that code in their Error field.
package pii

// The package is laid out by role, a file a job:
//
//	protector.go  Options, New, the Protector: what every call reads
//	tag.go        the `pii:"…"` tag grammar, parsed
//	plan.go       the planner: tags → a tree of struct plans (leaves, children, the ID); tag errors
//	steps.go      the plan of a record type, compiled once into straight steps and cached
//	walk.go       traversal: the records of a call, programs, nests, shared references
//	seal.go       Seal and SealAll; the sealer: encrypt, tokenize, fill blind indexes
//	open.go       Open and OpenAll; the opener: decide, then reveal, mask or withhold
//	redact.go     Redact; the redactor: masks, without keys
//	binding.go    what binds a value to its place: record name, ID, owner, tenant, associated data, paths
//	call.go       what Seal and Open share: the checks, the context, the field AEAD on one field
//	changes.go    the changes a call holds back until every field is done, in pooled chunks
//	gate.go       access decisions of one Open call: the prepared Checker, remembered decisions
//	events.go     audit events of Open and SearchTerms, built only for a sink that records them
//	index.go      blind indexes: per-field keys from the search keyset, SearchTerms, Equal
//	tokenizer.go  Tokenizer and its optional abilities (TokenRecognizer, ReversibilityReporter)
//	ciphertext.go the protected-value format, version 1: parse and encode
//	value.go      Value[T]: typed values, their codecs and states
//	redacted.go   String and the redacting formatters
//	mask.go       masks by kind
//	kind.go       kinds and classes
//	errors.go     sentinels, FieldError, and the one place errors are classified
