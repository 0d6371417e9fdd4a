package main

import (
	"context"
	"errors"
	"fmt"
	"io"

	"github.com/piiguard/piiguard/audit"
	"github.com/piiguard/piiguard/kms"
	"github.com/piiguard/piiguard/kms/insecuremem"
)

// chainKeysets are the keysets of the key store that hold the keys of the
// chained audit log -audit writes, in the order they are ensured.
var chainKeysets = []struct {
	name    string
	purpose kms.Purpose
}{
	{audit.ChainMACKeyset, kms.PurposeMAC},
	{audit.ChainSignKeyset, kms.PurposeSignature},
}

// auditLog is the tamper-evident audit log of -audit: a chain (package
// audit) over a JSON Lines file, whose MAC and signing keys are keysets of
// the key store. The keyring reports to relay from the start; start
// verifies the log, makes the chain and connects relay to it, so that the
// events of making the chain's own keysets are its first records.
type auditLog struct {
	path  string
	relay audit.Relay
	file  *audit.FileSink
	chain *audit.Chain
	// keys and store, when set, hold the chain's keysets for a session
	// whose own store does not (keys verify-backup); the log owns them.
	keys  *kms.Keyring
	store *openedStore
	// unrecordedSaid is set when the command's error already says that
	// the events the relay holds are not in the log.
	unrecordedSaid bool
}

// start continues the log with the chain's keysets of st, which keys
// opens, and connects the relay to it. create says whether the keysets may
// be made (with keys.Ensure) when st lacks them. A log that does not verify
// (a plain log, not chained; a damaged one; one whose chain's keysets st
// does not hold) is a *refusal: then start has written nothing, to the log
// or to the store.
func (l *auditLog) start(ctx context.Context, keys *kms.Keyring, st kms.KeysetStore, create bool) error {
	lines, err := probeAuditLog(l.path)
	if err != nil {
		return err
	}
	made := false // whether Ensure below makes a keyset
	for _, k := range chainKeysets {
		_, err := st.GetKeyset(ctx, k.name)
		switch {
		case errors.Is(err, kms.ErrNotFound) && lines > 0:
			return &refusal{&sentinelError{
				msg: fmt.Sprintf("audit log %s cannot be continued: the key store has no %q keyset, which its chain needs (was the log written with another key store?); give -audit a new file",
					l.path, k.name),
				errs: []error{kms.ErrNotFound},
			}}
		case errors.Is(err, kms.ErrNotFound) && !create:
			return fmt.Errorf("the key store has no %q keyset for the audit log's chain: %w", k.name, kms.ErrNotFound)
		case errors.Is(err, kms.ErrNotFound):
			made = true
		case err != nil:
			return err
		}
	}
	for _, k := range chainKeysets {
		if err := kms.NewAdmin(keys).Ensure(ctx, k.name, k.purpose); err != nil {
			return err
		}
	}
	mac, err := keys.MAC(ctx, audit.ChainMACKeyset)
	if err != nil {
		return err
	}
	signer, err := keys.Signer(ctx, audit.ChainSignKeyset)
	if err != nil {
		return err
	}
	verifier, err := keys.Verifier(ctx, audit.ChainSignKeyset)
	if err != nil {
		return err
	}
	if l.file, err = audit.NewFileSink(l.path, audit.FileOptions{}); err != nil {
		return err
	}
	existing, err := audit.OpenLog(l.path)
	if err != nil {
		return err
	}
	chain, _, err := audit.ContinueChain(existing, l.file, mac, signer, verifier, audit.ChainOptions{})
	existing.Close()
	if err != nil {
		err = notVerified(l.path, "", err)
		if !made {
			err = &refusal{err}
		}
		return err
	}
	l.chain = chain
	return l.relay.Connect(ctx, chain)
}

// notVerified is the error for a log at path that did not verify (with
// the keys of whose, when not the key store's).
func notVerified(path, whose string, err error) error {
	var ve *audit.VerifyError
	if errors.As(err, &ve) {
		err = ve // without ContinueChain's prefix
	}
	if whose != "" {
		whose = " with " + whose
	}
	return fmt.Errorf("audit log %s does not verify%s (keep it for investigation; give -audit a new file to go on): %w", path, whose, err)
}

// close writes the chain's final checkpoint and closes the file. Key
// events still held by the relay were never written: that is an error.
func (l *auditLog) close(ctx context.Context) error {
	var errs []error
	if l.chain != nil {
		// The checkpoint is written even if the command was interrupted.
		if err := l.chain.Close(context.WithoutCancel(ctx)); err != nil {
			errs = append(errs, fmt.Errorf("audit log %s: final checkpoint: %w", l.path, err))
		}
	}
	if n := l.relay.Held(); n > 0 && !l.unrecordedSaid {
		errs = append(errs, fmt.Errorf("%s not recorded in the audit log %s", count(n, "key event"), l.path))
	}
	if l.file != nil {
		if err := l.file.Close(); err != nil {
			errs = append(errs, fmt.Errorf("closing the audit log %s: %w", l.path, err))
		}
	}
	if l.keys != nil {
		errs = append(errs, l.keys.Close())
	}
	errs = append(errs, l.store.Close())
	return errors.Join(errs...)
}

// probeAuditLog looks at the log at path without the chain's keys
// (audit.ProbeLog) and returns the number of lines it holds. It fails with
// a *refusal for a log of plain events, which no chain can continue, and
// when the log cannot be read. Whether a chained log verifies takes the
// keys: start checks it.
func probeAuditLog(path string) (int64, error) {
	rc, err := audit.OpenLog(path)
	if err != nil {
		return 0, &refusal{err}
	}
	defer rc.Close()
	kind, lines, err := audit.ProbeLog(rc)
	switch {
	case err != nil:
		return lines, &refusal{fmt.Errorf("audit log %s: %w", path, err)}
	case kind == audit.LogPlain:
		return lines, &refusal{&sentinelError{
			msg: fmt.Sprintf("audit log %s is not chained (it holds plain events, written without a chain), so it cannot be continued as a tamper-evident log: give -audit a new file",
				path),
			errs: []error{audit.ErrNotChained},
		}}
	}
	return lines, nil
}

// checkAuditLogWithBackup verifies the log at path, before a restore,
// with the chain's keysets of the backup r (named name), unwrapped by root
// in a keyring of its own: the log must go on after the restore with the
// keys the restore brings. It fails if the backup holds none. Its errors
// are refusals: it changes nothing.
func checkAuditLogWithBackup(ctx context.Context, root *kms.RootKey, path string, r io.Reader, name string) error {
	if err := checkWithBackup(ctx, root, path, r, name); err != nil {
		return &refusal{err}
	}
	return nil
}

func checkWithBackup(ctx context.Context, root *kms.RootKey, path string, r io.Reader, name string) (err error) {
	mem := insecuremem.NewStore()
	kr, err := kms.NewKeyring(root, mem, kms.KeyringOptions{})
	if err != nil {
		return err
	}
	defer func() { err = errors.Join(err, kr.Close()) }()
	if _, err := kms.NewAdmin(kr).Restore(ctx, r, name); err != nil {
		return err
	}
	for _, k := range chainKeysets {
		if _, err := mem.GetKeyset(ctx, k.name); errors.Is(err, kms.ErrNotFound) {
			return &sentinelError{
				msg: fmt.Sprintf("audit log %s cannot be continued after this restore: the backup holds no %q keyset, which its chain needs; give -audit a new file",
					path, k.name),
				errs: []error{kms.ErrNotFound},
			}
		}
	}
	mac, err := kr.MAC(ctx, audit.ChainMACKeyset)
	if err != nil {
		return err
	}
	verifier, err := kr.Verifier(ctx, audit.ChainSignKeyset)
	if err != nil {
		return err
	}
	rc, err := audit.OpenLog(path)
	if err != nil {
		return err
	}
	defer rc.Close()
	if _, err := audit.Verify(rc, mac, verifier, audit.VerifyOptions{}); err != nil {
		return notVerified(path, "the keys of the backup", err)
	}
	return nil
}
