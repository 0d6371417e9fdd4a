package main

import (
	"context"
	"database/sql"
	"errors"
	"flag"
	"fmt"
	"io/fs"
	"net/url"
	"os"
	"os/user"
	"slices"
	"strconv"
	"strings"

	_ "github.com/jackc/pgx/v5/stdlib" // the "pgx" database/sql driver, for postgres:// stores

	"github.com/piiguard/piiguard"
	"github.com/piiguard/piiguard/audit"
	"github.com/piiguard/piiguard/internal/errtext"
	"github.com/piiguard/piiguard/internal/pgtls"
	"github.com/piiguard/piiguard/kms"
	"github.com/piiguard/piiguard/kms/awskms"
	"github.com/piiguard/piiguard/kms/filestore"
	"github.com/piiguard/piiguard/kms/gcpkms"
	"github.com/piiguard/piiguard/kms/insecuremem"
	"github.com/piiguard/piiguard/kms/localkey"
	"github.com/piiguard/piiguard/kms/pkcs11"
	"github.com/piiguard/piiguard/kms/sqlstore"
	"github.com/piiguard/piiguard/kms/vaulttransit"
)

// Environment variables that give the global flags their defaults.
const (
	envRoot  = "PIIGUARD_ROOT"
	envStore = "PIIGUARD_STORE"
	envActor = "USER"
	// envPGTLSReason states why a PostgreSQL server on another machine may
	// be reached with sslmode=require (encrypted, certificate not verified).
	envPGTLSReason = "PIIGUARD_PG_TLS_REASON"
)

// subjectKeyset is the keyset that wraps subject keys, as
// kms.KeyringOptions.SubjectKeyset defaults it.
const subjectKeyset = "subjects"

// globalFlags are the flags of every keys command.
type globalFlags struct {
	root, store, actor, auditPath string
}

// register adds the flags to fs. Defaults are read from the environment
// after parsing (resolve), so that -h never prints a URI taken from it.
func (g *globalFlags) register(fs *flag.FlagSet) {
	fs.StringVar(&g.root, "root", "", "root key `URI` (default $"+envRoot+")")
	fs.StringVar(&g.store, "store", "", "key store `SPEC`: sqlite:PATH, file:DIR or postgres://... (default $"+envStore+")")
	fs.StringVar(&g.actor, "actor", "", "who runs the command, for the audit events (default $"+envActor+", else the OS user name, else uid:N)")
	fs.StringVar(&g.auditPath, "audit", "", "append the key events to this tamper-evident audit log `file`, chained with the keysets "+audit.ChainMACKeyset+" and "+audit.ChainSignKeyset+" (made on first use)")
}

// resolve fills unset flags from the environment.
func (g *globalFlags) resolve() {
	if g.root == "" {
		g.root = os.Getenv(envRoot)
	}
	if g.store == "" {
		g.store = os.Getenv(envStore)
	}
	if g.actor == "" {
		g.actor = actorOf(os.Getenv(envActor), user.Current, os.Getuid)
	}
}

// actorOf names who runs a command given no -actor: env ($USER) when it is
// set, else the name of the operating system's current user, else uid:N
// with the numeric user ID, so that a key event always has an actor.
func actorOf(env string, current func() (*user.User, error), uid func() int) string {
	if env != "" {
		return env
	}
	if u, err := current(); err == nil && u.Username != "" {
		return u.Username
	}
	return "uid:" + strconv.Itoa(uid())
}

// keyFlags returns the flag set of a keys command with the global flags.
func keyFlags(name string) (*flag.FlagSet, *globalFlags) {
	fs := newFlagSet(name)
	g := &globalFlags{}
	g.register(fs)
	return fs, g
}

// storeMode says whether opening a store may create it.
type storeMode int

const (
	storeMustExist storeMode = iota // a missing sqlite: file or file: directory is an error
	storeMayCreate
)

// openedStore is a key store and how to close it.
type openedStore struct {
	kms.Store
	close func() error
}

func (s *openedStore) Close() error {
	if s == nil || s.close == nil {
		return nil
	}
	return s.close()
}

// openStore opens a store SPEC. The spec is never quoted in errors: a
// PostgreSQL URL may hold a password.
func openStore(spec string, mode storeMode) (*openedStore, error) {
	if spec == "" {
		return nil, usagef("no key store: set -store or $%s (sqlite:PATH, file:DIR or postgres://...)", envStore)
	}
	scheme, rest, _ := strings.Cut(spec, ":")
	switch strings.ToLower(scheme) {
	case "sqlite":
		if rest == "" {
			return nil, usagef("-store sqlite: needs a path, as sqlite:/var/lib/app/keys.db")
		}
		if err := mustExist(rest, mode, false); err != nil {
			return nil, err
		}
		s, err := sqlstore.OpenSQLite(rest)
		if err != nil {
			return nil, err
		}
		return &openedStore{Store: s, close: s.Close}, nil
	case "file":
		if rest == "" {
			return nil, usagef("-store file: needs a directory, as file:/var/lib/app/keys")
		}
		if err := mustExist(rest, mode, true); err != nil {
			return nil, err
		}
		s, err := filestore.Open(rest)
		if err != nil {
			return nil, err
		}
		return &openedStore{Store: s}, nil
	case "postgres", "postgresql":
		// TLS on every connection: verify-full to another machine, or
		// require with a reason stated in $PIIGUARD_PG_TLS_REASON.
		if err := pgtls.Check(spec, os.Getenv(envPGTLSReason)); err != nil {
			return nil, err
		}
		db, err := sql.Open("pgx", spec)
		if err != nil {
			// pgx parses the URL lazily; sql.Open only fails for an
			// unknown driver. Its message is not echoed all the same.
			return nil, errtext.Tagged(kms.ErrInvalidArgument, "open PostgreSQL store: the connection URL is not valid")
		}
		// Errors name the database by host, port and name: never the
		// URL, which may hold a password.
		s, err := sqlstore.New(db, piiguard.Postgres, sqlstore.Options{Label: sqlstore.PostgresLabel(spec)})
		if err != nil {
			db.Close()
			return nil, err
		}
		return &openedStore{Store: s, close: func() error {
			return errors.Join(s.Close(), db.Close())
		}}, nil
	}
	return nil, usagef("-store must be sqlite:PATH, file:DIR or a postgres:// URL")
}

func mustExist(path string, mode storeMode, dir bool) error {
	if mode == storeMayCreate {
		return nil
	}
	fi, err := os.Stat(path)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return &sentinelError{
			msg: fmt.Sprintf("key store %q does not exist: create it with '%s keys create NAME PURPOSE' (its first keyset) or restore a backup into it with '%s keys restore BACKUP'",
				path, programName, programName),
			errs: []error{kms.ErrNotFound},
		}
	case err != nil:
		return fmt.Errorf("key store %q: %w", path, err)
	case dir && !fi.IsDir():
		return errtext.Tagged(kms.ErrInvalidArgument, "key store %q is not a directory", path)
	case !dir && fi.IsDir():
		return errtext.Tagged(kms.ErrInvalidArgument, "key store %q is a directory, not an SQLite file", path)
	}
	return nil
}

// newMux returns the URL mux root keys are opened with: a local key file
// and the cloud and HSM backends. insecure-memory is not one of them (see
// openRoot).
func newMux() *kms.URLMux {
	m := &kms.URLMux{}
	m.Register(localkey.Scheme, &localkey.Opener{})
	m.Register(awskms.Scheme, &awskms.Opener{})
	m.Register(gcpkms.Scheme, &gcpkms.Opener{})
	m.Register(vaulttransit.Scheme, &vaulttransit.Opener{})
	m.Register(pkcs11.Scheme, &pkcs11.Opener{})
	return m
}

// openRoot opens the root key uri names. Errors come from kms, which never
// quotes the URI as given (only its scheme and path). An insecure-memory
// root key is refused: it would be gone, and everything it wrapped with it,
// when the command exits.
func openRoot(ctx context.Context, uri, flagName string) (*kms.RootKey, error) {
	if uri == "" {
		return nil, usagef("no root key: set %s or $%s (as local:///PATH?passphrase_env=VAR)", flagName, envRoot)
	}
	mux := newMux()
	if u, err := url.Parse(uri); err == nil {
		switch {
		case u.Scheme == insecuremem.Scheme:
			return nil, usagef("%s %s:// is refused: that root key lives only as long as this command, so whatever it wraps is lost when the command exits", flagName, insecuremem.Scheme)
		case u.Scheme != "" && !slices.Contains(mux.Schemes(), u.Scheme):
			// kms would quote the scheme; it may be a secret pasted in.
			return nil, usagef("%s has an unknown scheme (known: %s)", flagName, strings.Join(mux.Schemes(), ", "))
		}
	}
	return mux.OpenRootKey(ctx, uri)
}

// session is what a keys command works with: a keyring over the store and
// the root key, reporting to the chained audit log of -audit. Close
// releases it all.
type session struct {
	store   *openedStore
	root    *kms.RootKey
	keyring *kms.Keyring
	admin   *kms.Admin // the keyring's administration
	audit   *auditLog  // nil without -audit
}

// openSession opens the store, the root key and the audit log of g, and
// returns ctx with the actor for the audit events. An audit log that
// cannot be continued makes it fail before the store is opened, when that
// can be told without the chain's keys, and always before the command does
// anything.
func openSession(ctx context.Context, g *globalFlags, mode storeMode) (context.Context, *session, error) {
	g.resolve()
	if g.root == "" {
		return ctx, nil, usagef("no root key: set -root or $%s (as local:///PATH?passphrase_env=VAR)", envRoot)
	}
	if g.auditPath != "" {
		// A plain log is refused before a store is created for nothing.
		if _, err := probeAuditLog(g.auditPath); err != nil {
			return ctx, nil, refused(err)
		}
	}
	st, err := openStore(g.store, mode)
	if err != nil {
		return ctx, nil, err
	}
	return openSessionOn(ctx, g, st)
}

// openSessionOn is openSession over an open store, which the session then
// owns.
func openSessionOn(ctx context.Context, g *globalFlags, st *openedStore) (context.Context, *session, error) {
	ctx, s, err := newSession(ctx, g, st)
	if err != nil {
		return ctx, nil, err
	}
	if s.audit != nil {
		if err := s.audit.start(ctx, s.keyring, st.Store, true); err != nil {
			s.Close(ctx)
			return ctx, nil, refused(err)
		}
	}
	return ctx, s, nil
}

// newSession is openSessionOn without starting the audit log: the keyring
// reports to the log's Relay, which holds its events until start connects
// it to the chain. keys restore starts the log after the restore (the
// chain's keysets can only be made in the store then).
func newSession(ctx context.Context, g *globalFlags, st *openedStore) (context.Context, *session, error) {
	s := &session{store: st}
	err := s.openRoot(ctx, g)
	if err == nil {
		ctx, err = s.openKeyring(ctx, g)
	}
	if err != nil {
		s.Close(ctx)
		return ctx, nil, err
	}
	return ctx, s, nil
}

// openRoot opens the root key of g.
func (s *session) openRoot(ctx context.Context, g *globalFlags) (err error) {
	s.root, err = openRoot(ctx, g.root, "-root")
	return err
}

// openKeyring makes the keyring over the root key and the store, with the
// audit log's relay as its sink, and returns ctx with the actor.
func (s *session) openKeyring(ctx context.Context, g *globalFlags) (context.Context, error) {
	opts := kms.KeyringOptions{SubjectKeyset: subjectKeyset}
	if g.auditPath != "" {
		s.audit = &auditLog{path: g.auditPath}
		opts.Audit = &s.audit.relay
	}
	// The store itself, not its wrapper: the keyring looks for optional
	// capabilities (kms.SubjectKeyRewrapper) on it.
	var err error
	if s.keyring, err = kms.NewKeyring(s.root, s.store.Store, opts); err != nil {
		return ctx, err
	}
	s.admin = kms.NewAdmin(s.keyring)
	if g.actor != "" {
		ctx = audit.WithActor(ctx, g.actor)
	}
	return ctx, nil
}

// refusal marks an error for an audit log that cannot be continued, found
// before the log, the store or anything else was changed.
type refusal struct{ err error }

func (r *refusal) Error() string { return r.err.Error() }
func (r *refusal) Unwrap() error { return r.err }

// refused says that the command did nothing when err is a refusal, and
// returns any other error as it is.
func refused(err error) error {
	var r *refusal
	if errors.As(err, &r) {
		return fmt.Errorf("refused before doing anything: %w", err)
	}
	return err
}

// Close closes the audit log (writing its final checkpoint), the keyring,
// the root key (zeroing a local key) and the store.
func (s *session) Close(ctx context.Context) error {
	if s == nil {
		return nil
	}
	var errs []error
	if s.audit != nil {
		errs = append(errs, s.audit.close(ctx))
	}
	if s.keyring != nil {
		errs = append(errs, s.keyring.Close())
	}
	if s.root != nil {
		errs = append(errs, s.root.Close())
	}
	errs = append(errs, s.store.Close())
	return errors.Join(errs...)
}

// closeInto closes s and adds its error to *err, for a deferred call.
func closeInto(ctx context.Context, s *session, err *error) {
	if cerr := s.Close(ctx); cerr != nil {
		*err = errors.Join(*err, cerr)
	}
}

// sentinelError is an error whose message says it all: it wraps sentinels
// for errors.Is without repeating their text ("does not exist: not
// found").
type sentinelError struct {
	msg  string
	errs []error
}

func (e *sentinelError) Error() string   { return e.msg }
func (e *sentinelError) Unwrap() []error { return e.errs }
