package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"text/tabwriter"
	"time"

	"github.com/piiguard/piiguard/internal/errtext"
	"github.com/piiguard/piiguard/internal/fsutil"
	"github.com/piiguard/piiguard/kms"
	"github.com/piiguard/piiguard/kms/insecuremem"
	"github.com/piiguard/piiguard/kms/localkey"
)

// keysCommands are the subcommands of "piiguard keys".
var keysCommands = map[string]commandFunc{
	"init":            (*cli).keysInit,
	"create":          (*cli).keysCreate,
	"list":            (*cli).keysList,
	"rotate":          (*cli).keysRotate,
	"add-version":     (*cli).keysAddVersion,
	"promote":         (*cli).keysPromote,
	"disable":         (*cli).keysDisable,
	"enable":          (*cli).keysEnable,
	"destroy":         (*cli).keysDestroy,
	"backup":          (*cli).keysBackup,
	"restore":         (*cli).keysRestore,
	"verify":          (*cli).keysVerify,
	"verify-backup":   (*cli).keysVerifyBackup,
	"rewrap":          (*cli).keysRewrap,
	"rewrap-subjects": (*cli).keysRewrapSubjects,
}

// keysInit creates a new local root key file, and the folders above it
// that are missing (mode 0700). It refuses a weak passphrase and never
// overwrites a file.
func (c *cli) keysInit(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("keys init")
	root := fs.String("root", "", "the new key file, as local:///PATH?passphrase_env=VAR (default $"+envRoot+")")
	pos, ok, err := parseArgs(fs, args, stdout, "-root local:///PATH?passphrase_env=VAR")
	if !ok {
		return err
	}
	if err := wantArgs(pos, ""); err != nil {
		return err
	}
	uri := *root
	if uri == "" {
		uri = os.Getenv(envRoot)
	}
	if uri == "" {
		return usagef("needs -root local:///PATH?passphrase_env=VAR (or $%s)", envRoot)
	}
	path, env, err := parseLocalURI(uri)
	if err != nil {
		return err
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	secret, set := os.LookupEnv(env)
	if !set || secret == "" {
		return errtext.Tagged(kms.ErrInvalidArgument, "environment variable %.64q, which should hold the passphrase, is unset or empty", env)
	}
	passphrase := []byte(secret)
	defer clear(passphrase)
	// Refuse a weak passphrase before making any folder for the file.
	if err := localkey.CheckPassphrase(passphrase); err != nil {
		return err
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return fmt.Errorf("creating the folder of the root key file: %w", err)
	}
	d, err := localkey.Create(path, passphrase, c.localOptions)
	if err != nil {
		return err
	}
	defer d.Close()
	fmt.Fprintf(stdout, "created root key file %s (root key ID %s)\n", path, d.KeyID())
	use := url.URL{Scheme: localkey.Scheme, Path: filepath.ToSlash(path), RawQuery: url.Values{"passphrase_env": {env}}.Encode()}
	fmt.Fprintf(stdout, "use it with: -root '%s'\nkeep the passphrase in your secret manager: without it the key file, and every key under it, is lost\n", use.String())
	return nil
}

// parseLocalURI checks a local: root key URI for keys init and returns its
// path and passphrase variable. It applies the rules of localkey.Opener and
// never quotes the URI.
func parseLocalURI(uri string) (path, env string, err error) {
	bad := func(reason string) error { return usagef("-root for keys init %s", reason) }
	u, perr := url.Parse(uri)
	switch {
	case perr != nil:
		return "", "", bad("is not a valid URI")
	case u.Scheme != localkey.Scheme:
		return "", "", bad("must be a local:///PATH?passphrase_env=VAR URI: keys init only creates local key files")
	case u.User != nil:
		return "", "", bad("must not carry user information")
	case u.Opaque != "" || u.Host != "":
		return "", "", bad("must name an absolute path, as local:///path/to/root.key")
	case u.Fragment != "":
		return "", "", bad("must not have a fragment")
	}
	path = filepath.FromSlash(u.Path)
	if !filepath.IsAbs(path) {
		return "", "", bad("must name an absolute path, as local:///path/to/root.key")
	}
	q, qerr := url.ParseQuery(u.RawQuery)
	if qerr != nil {
		return "", "", bad("has a malformed query")
	}
	for k, v := range q {
		switch k {
		case "passphrase":
			return "", "", bad("must not hold the passphrase: put it in an environment variable and name it with passphrase_env")
		case "passphrase_env", "create":
			if len(v) != 1 {
				return "", "", bad("has " + k + " more than once")
			}
		default:
			return "", "", bad("has an unknown parameter (known: passphrase_env)")
		}
	}
	env = q.Get("passphrase_env")
	if env == "" {
		return "", "", bad("needs passphrase_env, the name of the environment variable holding the passphrase")
	}
	return path, env, nil
}

// purposes are the keyset purposes keys create accepts.
var purposes = []kms.Purpose{kms.PurposeAEAD, kms.PurposePRF, kms.PurposeDeterministicAEAD, kms.PurposeMAC, kms.PurposeSignature}

func parsePurpose(s string) (kms.Purpose, error) {
	for _, p := range purposes {
		if string(p) == s {
			return p, nil
		}
	}
	return "", usagef("PURPOSE must be one of aead, prf, daead, mac, signature")
}

func parseKeyID(s string) (uint32, error) {
	id, err := strconv.ParseUint(s, 10, 32)
	if err != nil || id == 0 {
		return 0, usagef("KEYID must be a key ID as keys list shows it (a decimal number)")
	}
	return uint32(id), nil
}

func (c *cli) keysCreate(ctx context.Context, args []string, stdout, stderr io.Writer) (err error) {
	fs, g := keyFlags("keys create")
	pos, ok, err := parseArgs(fs, args, stdout, "[flags] NAME PURPOSE")
	if !ok {
		return err
	}
	if err := wantArgs(pos, "NAME PURPOSE"); err != nil {
		return err
	}
	purpose, err := parsePurpose(pos[1])
	if err != nil {
		return err
	}
	ctx, s, err := openSession(ctx, g, storeMayCreate)
	if err != nil {
		return err
	}
	defer closeInto(ctx, s, &err)
	v, err := s.admin.Create(ctx, pos[0], purpose)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "created keyset %s (%s): version %d, key ID %d, primary\n", pos[0], purpose, v.Number, v.ID)
	return nil
}

// keysList prints every version of every keyset. It reads the store only:
// no root key is opened.
func (c *cli) keysList(ctx context.Context, args []string, stdout, stderr io.Writer) (err error) {
	fs, g := keyFlags("keys list")
	pos, ok, err := parseArgs(fs, args, stdout, "[flags]")
	if !ok {
		return err
	}
	if err := wantArgs(pos, ""); err != nil {
		return err
	}
	g.resolve()
	st, err := openStore(g.store, storeMustExist)
	if err != nil {
		return err
	}
	defer func() { err = errors.Join(err, st.Close()) }()
	recs, err := st.ListKeysets(ctx)
	if err != nil {
		return err
	}
	if len(recs) == 0 {
		fmt.Fprintln(stdout, "no keysets")
		return nil
	}
	tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "KEYSET\tPURPOSE\tVERSION\tKEY ID\tSTATUS\tPRIMARY\tCREATED")
	for _, r := range recs {
		for _, v := range r.Versions {
			primary := ""
			if v.Primary {
				primary = "primary"
			}
			fmt.Fprintf(tw, "%s\t%s\t%d\t%d\t%s\t%s\t%s\n", r.Name, r.Purpose, v.Number, v.ID, v.Status, primary, v.Created.UTC().Format(time.RFC3339))
		}
	}
	return tw.Flush()
}

func (c *cli) keysRotate(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	return c.addVersion(ctx, "keys rotate", true, args, stdout)
}

func (c *cli) keysAddVersion(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	return c.addVersion(ctx, "keys add-version", false, args, stdout)
}

func (c *cli) addVersion(ctx context.Context, name string, primary bool, args []string, stdout io.Writer) (err error) {
	fs, g := keyFlags(name)
	pos, ok, err := parseArgs(fs, args, stdout, "[flags] NAME")
	if !ok {
		return err
	}
	if err := wantArgs(pos, "NAME"); err != nil {
		return err
	}
	ctx, s, err := openSession(ctx, g, storeMustExist)
	if err != nil {
		return err
	}
	defer closeInto(ctx, s, &err)
	var v kms.VersionRecord
	if primary {
		v, err = s.admin.Rotate(ctx, pos[0])
	} else {
		v, err = s.admin.AddVersion(ctx, pos[0])
	}
	if err != nil {
		return err
	}
	if primary {
		fmt.Fprintf(stdout, "keyset %s: version %d (key ID %d) added and made primary\n", pos[0], v.Number, v.ID)
	} else {
		fmt.Fprintf(stdout, "keyset %s: version %d (key ID %d) added, not primary; promote it with: %s keys promote %s %d\n", pos[0], v.Number, v.ID, programName, pos[0], v.ID)
	}
	return nil
}

func (c *cli) keysPromote(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	return c.versionOp(ctx, "keys promote", args, stdout, func(ctx context.Context, k *kms.Admin, name string, id uint32) (string, error) {
		return "is now the primary", k.Promote(ctx, name, id)
	})
}

func (c *cli) keysDisable(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	return c.versionOp(ctx, "keys disable", args, stdout, func(ctx context.Context, k *kms.Admin, name string, id uint32) (string, error) {
		return "is disabled (keys enable undoes it)", k.Disable(ctx, name, id)
	})
}

func (c *cli) keysEnable(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	return c.versionOp(ctx, "keys enable", args, stdout, func(ctx context.Context, k *kms.Admin, name string, id uint32) (string, error) {
		return "is enabled", k.Enable(ctx, name, id)
	})
}

// versionOp runs a command on one version: NAME KEYID.
func (c *cli) versionOp(ctx context.Context, name string, args []string, stdout io.Writer, op func(context.Context, *kms.Admin, string, uint32) (string, error)) (err error) {
	fs, g := keyFlags(name)
	pos, ok, err := parseArgs(fs, args, stdout, "[flags] NAME KEYID")
	if !ok {
		return err
	}
	if err := wantArgs(pos, "NAME KEYID"); err != nil {
		return err
	}
	id, err := parseKeyID(pos[1])
	if err != nil {
		return err
	}
	ctx, s, err := openSession(ctx, g, storeMustExist)
	if err != nil {
		return err
	}
	defer closeInto(ctx, s, &err)
	done, err := op(ctx, s.admin, pos[0], id)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "keyset %s: key ID %d %s\n", pos[0], id, done)
	return nil
}

// keysDestroy destroys one version, for good, when -yes confirms it;
// without -yes it says what would be destroyed and fails with a usage
// error. The refusal reads the store only.
func (c *cli) keysDestroy(ctx context.Context, args []string, stdout, stderr io.Writer) (err error) {
	fs, g := keyFlags("keys destroy")
	yes := fs.Bool("yes", false, "confirm: the version's key material is erased for good")
	pos, ok, err := parseArgs(fs, args, stdout, "[flags] -yes NAME KEYID")
	if !ok {
		return err
	}
	if err := wantArgs(pos, "NAME KEYID"); err != nil {
		return err
	}
	name := pos[0]
	id, err := parseKeyID(pos[1])
	if err != nil {
		return err
	}
	g.resolve()
	st, err := openStore(g.store, storeMustExist)
	if err != nil {
		return err
	}
	owned := true
	defer func() {
		if owned {
			err = errors.Join(err, st.Close())
		}
	}()
	rec, err := st.GetKeyset(ctx, name)
	if err != nil {
		return err
	}
	v := rec.Version(id)
	switch {
	case v == nil:
		return fmt.Errorf("keyset %q has no version with key ID %d: %w", name, id, kms.ErrNotFound)
	case v.Status == kms.StatusDestroyed:
		return fmt.Errorf("keyset %q version %d (key ID %d) is already destroyed: %w", name, v.Number, id, kms.ErrDestroyed)
	case v.Primary:
		return errtext.Tagged(kms.ErrInvalidArgument, "keyset %q version %d (key ID %d) is the primary and cannot be destroyed; rotate or promote another version first", name, v.Number, id)
	}
	if !*yes {
		return usagef("not confirmed: this would destroy version %d (key ID %d, %s, created %s) of keyset %q (%s) for good: "+
			"whatever it encrypted can never be decrypted again, and only backups made before keep it. Run again with -yes to destroy it",
			v.Number, id, v.Status, v.Created.UTC().Format(time.RFC3339), name, rec.Purpose)
	}
	owned = false
	ctx, s, err := openSessionOn(ctx, g, st)
	if err != nil {
		return err
	}
	defer closeInto(ctx, s, &err)
	if err := s.admin.Destroy(ctx, name, id); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "keyset %s: key ID %d destroyed; destroy the backups made before, or the version lives on in them\n", name, id)
	return nil
}

// keysBackup writes a backup of every keyset to FILE, atomically, mode 0600.
func (c *cli) keysBackup(ctx context.Context, args []string, stdout, stderr io.Writer) (err error) {
	fs, g := keyFlags("keys backup")
	force := fs.Bool("force", false, "replace FILE if it exists")
	pos, ok, err := parseArgs(fs, args, stdout, "[flags] [-force] FILE")
	if !ok {
		return err
	}
	if err := wantArgs(pos, "FILE"); err != nil {
		return err
	}
	file := pos[0]
	if !*force {
		// Fail before opening the root key; the exclusive write below is
		// what guarantees no overwrite.
		if _, err := os.Lstat(file); err == nil {
			return fmt.Errorf("%s exists; use -force to replace it: %w", file, kms.ErrAlreadyExists)
		}
	}
	ctx, s, err := openSession(ctx, g, storeMustExist)
	if err != nil {
		return err
	}
	defer closeInto(ctx, s, &err)
	var buf bytes.Buffer
	n, err := s.admin.Backup(ctx, &buf)
	if err != nil {
		return err
	}
	if err := fsutil.WriteFileAtomic(file, buf.Bytes(), 0o600, !*force); err != nil {
		if errors.Is(err, os.ErrExist) {
			return fmt.Errorf("%s exists; use -force to replace it: %w", file, kms.ErrAlreadyExists)
		}
		return fmt.Errorf("writing backup: %w", err)
	}
	fmt.Fprintf(stdout, "backed up %s to %s; check it with: %s keys verify-backup %s\n", count(n, "keyset"), file, programName, file)
	return nil
}

// keysRestore writes a backup into an empty store, then verifies the store.
// With -audit, the log is started after the restore: the chain's keysets
// come with the backup, or are made then (a store must be empty to be
// restored into). A log that holds records is checked first with the
// backup's keysets, so that a log the restore could not continue stops the
// command before it does anything.
func (c *cli) keysRestore(ctx context.Context, args []string, stdout, stderr io.Writer) (err error) {
	fs, g := keyFlags("keys restore")
	pos, ok, err := parseArgs(fs, args, stdout, "[flags] FILE")
	if !ok {
		return err
	}
	if err := wantArgs(pos, "FILE"); err != nil {
		return err
	}
	f, err := os.Open(pos[0])
	if err != nil {
		return err
	}
	defer f.Close()
	g.resolve()
	if g.root == "" {
		return usagef("no root key: set -root or $%s (as local:///PATH?passphrase_env=VAR)", envRoot)
	}
	var lines int64
	if g.auditPath != "" {
		if lines, err = probeAuditLog(g.auditPath); err != nil {
			return refused(err)
		}
	}
	// The session is built by hand: the backup's check comes before the
	// store is opened (and maybe created).
	s := &session{}
	defer func() { closeInto(ctx, s, &err) }()
	if err := s.openRoot(ctx, g); err != nil {
		return err
	}
	if lines > 0 {
		if err := checkAuditLogWithBackup(ctx, s.root, g.auditPath, f, pos[0]); err != nil {
			return refused(err)
		}
		if _, err := f.Seek(0, io.SeekStart); err != nil {
			return err
		}
	}
	if s.store, err = openStore(g.store, storeMayCreate); err != nil {
		return err
	}
	if ctx, err = s.openKeyring(ctx, g); err != nil {
		return err
	}
	n, err := s.admin.Restore(ctx, f, pos[0])
	if s.audit != nil {
		// After a failed restore, the chain's keysets are not made: the
		// store must stay empty for the next attempt.
		if aerr := s.audit.start(ctx, s.keyring, s.store.Store, err == nil); aerr != nil {
			s.audit.unrecordedSaid = true
			if err != nil {
				return errors.Join(err, fmt.Errorf("this failed restore is not in the audit log: %w", aerr))
			}
			return fmt.Errorf("restored %s, but the restore is not in the audit log: %w", count(n, "keyset"), aerr)
		}
	}
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "restored %s from %s; verifying\n", count(n, "keyset"), pos[0])
	rep, err := s.admin.Verify(ctx)
	return printVerify(stdout, rep, err)
}

func (c *cli) keysVerify(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	return c.keyringOp(ctx, "keys verify", args, stdout, func(ctx context.Context, s *session) error {
		rep, err := s.admin.Verify(ctx)
		return printVerify(stdout, rep, err)
	})
}

// keysRewrapSubjects re-encrypts every subject key under the primary of
// the subject keyset, the step between rotating that keyset and destroying
// its old versions. A store without the subject keyset holds no subject
// key made by piiguard's defaults: there is nothing to do, and it says so
// and succeeds. If it holds subject keys all the same (wrapped by a keyset
// of another name), there is no keyset to re-wrap them under: it fails.
func (c *cli) keysRewrapSubjects(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	return c.keyringOp(ctx, "keys rewrap-subjects", args, stdout, func(ctx context.Context, s *session) error {
		_, err := s.store.GetKeyset(ctx, subjectKeyset)
		if errors.Is(err, kms.ErrNotFound) {
			if rw, ok := s.store.Store.(kms.SubjectKeyRewrapper); ok {
				some, _, err := rw.ListSubjectKeys(ctx, "", 1)
				switch {
				case err != nil:
					return err
				case len(some) > 0:
					return fmt.Errorf("the key store holds subject keys but no %q keyset to re-wrap them under (were they made with another subject keyset?): %w", subjectKeyset, kms.ErrNotFound)
				}
				fmt.Fprintf(stdout, "nothing to re-wrap: the key store has no %q keyset, so it holds no subject keys\n", subjectKeyset)
				return nil
			}
			// A store that cannot list its subject keys: the pass says so.
		} else if err != nil {
			return err
		}
		rep, err := s.admin.RewrapSubjectKeys(ctx)
		if err != nil {
			if rep.Checked > 0 {
				fmt.Fprintf(stdout, "subject keys before the failure: %d checked, %d rewrapped, %d skipped (destroyed or changed during the pass)\n", rep.Checked, rep.Rewrapped, rep.Skipped)
			}
			return err
		}
		fmt.Fprintf(stdout, "subject keys: %d checked, %d rewrapped, %d skipped (destroyed or changed during the pass)\n", rep.Checked, rep.Rewrapped, rep.Skipped)
		return nil
	})
}

// keyringOp runs a command that takes no arguments but the key flags, on a
// session over an existing store.
func (c *cli) keyringOp(ctx context.Context, name string, args []string, stdout io.Writer, op func(context.Context, *session) error) (err error) {
	fs, g := keyFlags(name)
	pos, ok, err := parseArgs(fs, args, stdout, "[flags]")
	if !ok {
		return err
	}
	if err := wantArgs(pos, ""); err != nil {
		return err
	}
	ctx, s, err := openSession(ctx, g, storeMustExist)
	if err != nil {
		return err
	}
	defer closeInto(ctx, s, &err)
	return op(ctx, s)
}

// keysVerifyBackup runs the recovery drill on a backup file. It needs the
// root key only: -store is used for -audit alone, whose chain's keysets
// the key store keeps.
func (c *cli) keysVerifyBackup(ctx context.Context, args []string, stdout, stderr io.Writer) (err error) {
	fs, g := keyFlags("keys verify-backup")
	pos, ok, err := parseArgs(fs, args, stdout, "[flags] FILE")
	if !ok {
		return err
	}
	if err := wantArgs(pos, "FILE"); err != nil {
		return err
	}
	f, err := os.Open(pos[0])
	if err != nil {
		return err
	}
	defer f.Close()
	g.resolve()
	if g.root == "" {
		return usagef("no root key: set -root or $%s (as local:///PATH?passphrase_env=VAR)", envRoot)
	}
	if g.auditPath != "" && g.store == "" {
		return usagef("-audit needs -store or $%s: the key store keeps the keys of the audit log's chain", envStore)
	}
	ctx, s, err := newSession(ctx, g, &openedStore{Store: insecuremem.NewStore()})
	if err != nil {
		return err
	}
	defer closeInto(ctx, s, &err)
	if l := s.audit; l != nil {
		// The backup is verified in a memory store; the chain's keysets
		// are the key store's.
		if l.store, err = openStore(g.store, storeMustExist); err != nil {
			return err
		}
		if l.keys, err = kms.NewKeyring(s.root, l.store.Store, kms.KeyringOptions{SubjectKeyset: subjectKeyset, Audit: &l.relay}); err != nil {
			return err
		}
		if err := l.start(ctx, l.keys, l.store.Store, true); err != nil {
			return refused(err)
		}
	}
	rep, err := s.admin.VerifyBackup(ctx, f, pos[0])
	return printVerify(stdout, rep, err)
}

// printVerify prints one line per version of a verify report and a
// summary. It returns err, the error of the verification, with a message of
// its own when the verification failed: kms names a keyset that could not
// be unwrapped "version 0".
func printVerify(w io.Writer, rep *kms.VerifyReport, err error) error {
	if rep == nil {
		return err
	}
	for _, r := range rep.Results {
		switch {
		case r.KeyID == 0 && r.Err != nil:
			fmt.Fprintf(w, "FAILED   keyset %s: %s: %v\n", r.Keyset, unopened(r.Err), r.Err)
		case r.Err != nil:
			fmt.Fprintf(w, "FAILED   keyset %s version %d (key ID %d, %s): %v\n", r.Keyset, r.Number, r.KeyID, r.Status, r.Err)
		case r.Status == kms.StatusDestroyed:
			fmt.Fprintf(w, "SKIPPED  keyset %s version %d (key ID %d, destroyed)\n", r.Keyset, r.Number, r.KeyID)
		default:
			fmt.Fprintf(w, "OK       keyset %s version %d (key ID %d, %s)\n", r.Keyset, r.Number, r.KeyID, r.Status)
		}
	}
	verdict := "OK"
	if err != nil || !rep.OK() {
		verdict = "FAILED"
	}
	fmt.Fprintf(w, "%s: %s opened, %s checked, %d destroyed skipped, %s\n",
		verdict, count(rep.Keysets, "keyset"), count(rep.Checked, "version"), rep.Skipped, count(len(rep.Failures), "failure"))
	if rep.Keysets == 0 && len(rep.Failures) == 0 {
		fmt.Fprintln(w, "note: there is no keyset to verify; is this the right store?")
	}
	if rep.OK() || (err != nil && !errors.Is(err, kms.ErrVerification)) {
		return err // nil, or what stopped the drill before its end
	}
	f := rep.Failures[0]
	first := fmt.Sprintf("keyset %q version %d (key ID %d)", f.Keyset, f.Number, f.KeyID)
	if f.KeyID == 0 {
		first = fmt.Sprintf("keyset %q %s", f.Keyset, unopened(f.Err))
	}
	return fmt.Errorf("%w: %s; first: %s", kms.ErrVerification, count(len(rep.Failures), "failure"), first)
}

// unopened says why a keyset of a verify report could not be opened at
// all. An invalid ciphertext is what a keyset made under another root key
// gives (a damaged one too: the error printed after it tells them apart).
func unopened(err error) string {
	if errors.Is(err, kms.ErrInvalidCiphertext) {
		return "cannot be unwrapped with this root key (made under another root key?)"
	}
	return "cannot be opened"
}

// keysRewrap moves every keyset to the root key -to names, then verifies
// the store under it.
func (c *cli) keysRewrap(ctx context.Context, args []string, stdout, stderr io.Writer) (err error) {
	fs, g := keyFlags("keys rewrap")
	to := fs.String("to", "", "the new root key `URI`")
	pos, ok, err := parseArgs(fs, args, stdout, "[flags] -to URI")
	if !ok {
		return err
	}
	if err := wantArgs(pos, ""); err != nil {
		return err
	}
	if *to == "" {
		return usagef("needs -to URI, the new root key")
	}
	newRoot, err := openRoot(ctx, *to, "-to")
	if err != nil {
		return err
	}
	defer func() { err = errors.Join(err, newRoot.Close()) }()
	ctx, s, err := openSession(ctx, g, storeMustExist)
	if err != nil {
		return err
	}
	defer closeInto(ctx, s, &err)
	n, err := s.admin.Rewrap(ctx, newRoot)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "rewrapped %s to %s; verifying\n", count(n, "keyset"), newRoot.Name())
	rep, verr := s.admin.Verify(ctx)
	if err := printVerify(stdout, rep, verr); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "use the new root key as -root (or $%s) from now on\n", envRoot)
	return nil
}
