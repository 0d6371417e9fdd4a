// Package piiguardvet is a go/analysis analyzer that finds personal data
// on its way to logs, errors and JSON in code that uses piiguard. It is
// the code side of piiguard's leak prevention: package pii keeps tagged
// fields sealed and its types redacted, package detect finds what slipped
// into text; this finds, before the code runs, the places where a
// developer takes a value out of its protection and hands it to
// something that writes it down.
//
// Run it through go vet, with the command of cmd/piiguardvet:
//
//	go install github.com/piiguard/piiguard/cmd/piiguardvet
//	go vet -vettool=$(go env GOPATH)/bin/piiguardvet ./...
//
// The repository's own make test runs it over the repository.
//
// # Checks
//
// reveal: a revealed value passed to fmt.Print, Printf, Println,
// fmt.Fprint* to os.Stdout or os.Stderr, log (its functions and
// *log.Logger's Print*, Fatal*, Panic*, Output), log/slog (Debug, Info,
// Warn, Error, Log, LogAttrs, With and their Context forms, of the package
// and of *slog.Logger), an error constructor (fmt.Errorf, errors.New) or
// panic. A value is revealed by
//
//   - a call of a method Reveal of a type of piiguard's module (pii.String,
//     pii.Value[T], tokenize.Entry, pkcs11.PIN),
//   - a conversion of a pii.String to a string or []byte,
//   - reading a field tagged with a pii kind (not "id", not "-") of a
//     plain text type (string, []byte, *string) from a record passed to
//     (*pii.Protector).Open or OpenAll earlier in the same function, or
//     from an element of such a slice (r in for _, r := range records),
//
// and stays revealed through local variables, string concatenation,
// fmt.Sprint*, the functions of strings and bytes, and slog's Attr
// constructors (slog.String, slog.Any, slog.Group):
//
//	email := c.Email.Reveal()
//	log.Printf("login %s", strings.ToLower(email))
//	// personal data revealed by pii.String.Reveal is passed to log.Printf: pass the
//	// value unrevealed (it prints "[redacted]") or a mask (pii.Mask)
//
// untagged: an exported field of a plain text type, without a pii tag,
// whose name ends in words that say personal data (Email, WorkEmail,
// Phone, MobileNumber, SSN, IDCard, NationalID, Passport, DateOfBirth,
// DOB, IBAN, CardNumber, ClientIP, Street, Postcode, LastName, …), in a
// struct with at least one pii tag. Fields named by search=, owner= and
// tenant= are left alone, and so is a bare "Name" (as often a product's
// as a person's). Tag the field with its kind, or `pii:"-"` to say that it
// holds no personal data:
//
//	Phone string
//	// Customer.Phone is named like personal data but has no pii tag: tag it
//	// `pii:"phone"`, or `pii:"-"` if it holds none
//
// record: a record opened in the same function (as above) passed to
// json.Marshal, json.MarshalIndent or (*json.Encoder).Encode, or to one of
// the sinks of the reveal check, while its type has tagged fields of a
// plain text type (at any depth, through nested structs, pointers,
// slices and maps) that the call would write — json:"-" fields excepted
// for JSON, types with their own String, Format, LogValue or Error
// methods (MarshalJSON or MarshalText for JSON) excepted. pii.Redact or
// Seal of the record ends its opened state.
//
//	_ = p.Open(ctx, &c)
//	body, _ := json.Marshal(c)
//	// record c is marshalled by json.Marshal after Open: its tagged fields Email,
//	// Home.Street hold plaintext; pass a copy masked with pii.Redact, or use
//	// pii.String and pii.Value fields
//
// # What it cannot see
//
// The analysis is local to one function body, closures included, read in
// source order, and does not follow values through other functions: a
// revealed value returned by a helper, a record opened by a callee or
// passed in as a parameter, a value stored in a struct field, a map or a
// channel and read back, or a logger wrapped in a function of your own is
// not seen. It does not know which branch runs: a record opened on one
// branch is opened for the rest of the function. A variable assigned a
// revealed value stays revealed when assigned again. fmt.Fprint* to a
// writer other than os.Stdout and os.Stderr is not reported (it may be the
// customer's own web page), nor are third-party loggers (zap, logrus,
// zerolog). Data the code never marks as personal (a plain string that
// was never in a pii type or a tagged field) is invisible to it: package
// detect's slog.Handler and io.Writer are the net for that.
//
// # Silencing a finding
//
// A comment holding "piiguardvet:ignore" on the line of a finding or on
// the line above silences it; say why after it:
//
//	fmt.Println(op.Email.Reveal()) //piiguardvet:ignore the operator's own address, on their terminal
//
// _test.go files are not checked unless the flag -tests is given: tests
// and runnable examples print made-up personal data by design.
package piiguardvet
