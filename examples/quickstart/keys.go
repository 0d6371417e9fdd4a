package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/tink-crypto/tink-go/v2/tink"

	"github.com/piiguard/piiguard/audit"
	"github.com/piiguard/piiguard/kms"
	"github.com/piiguard/piiguard/kms/localkey"
	"github.com/piiguard/piiguard/kms/sqlstore"
	"github.com/piiguard/piiguard/pii"
)

// keysets are the keysets the quickstart uses: pii's field and search
// keysets, and the audit chain's MAC and checkpoint signing keysets.
var keysets = []struct {
	name    string
	purpose kms.Purpose
}{
	{pii.DefaultFieldKeyset, kms.PurposeAEAD},
	{pii.DefaultSearchKeyset, kms.PurposePRF},
	{audit.ChainMACKeyset, kms.PurposeMAC},
	{audit.ChainSignKeyset, kms.PurposeSignature},
}

// keys is the key side of the quickstart: the root key, the key store, the
// keyring over them (and its administration), and the chained audit log
// whose keys the keyring holds.
type keys struct {
	root      *kms.RootKey
	store     *sqlstore.Store
	kr        *kms.Keyring
	admin     *kms.Admin
	file      *audit.FileSink
	chain     *audit.Chain
	auditPath string
	storePath string
	mac       tink.MAC
	verifier  tink.Verifier
}

// fileState is what a data folder holds of one file.
type fileState int

const (
	absent fileState = iota
	empty            // there, with no byte in it
	present
)

func stat(path string) (fileState, error) {
	fi, err := os.Stat(path)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return absent, nil
	case err != nil:
		return absent, err
	case fi.Size() == 0:
		return empty, nil
	}
	return present, nil
}

// checkKeyFiles decides whether the quickstart may go on with the key files
// of dataDir: it creates keys only in a folder that has neither a root key
// file nor a key store, and no sealed customer either (stored counts them).
// Any other absence is an error that names the missing file and says how to
// restore it. first is true when the keys are to be created.
func checkKeyFiles(dataDir string, stored int) (first bool, err error) {
	rootPath, storePath := filepath.Join(dataDir, rootKeyFile), filepath.Join(dataDir, keyStoreFile)
	root, err := stat(rootPath)
	if err != nil {
		return false, err
	}
	store, err := stat(storePath)
	if err != nil {
		return false, err
	}
	const unchanged = "Nothing was changed."
	restoreStore := fmt.Sprintf("restore the key store from a backup with\n  piiguard keys restore -root 'local://%s?passphrase_env=PIIGUARD_PASSPHRASE' -store 'sqlite:%s' BACKUP\n",
		absPath(rootPath), absPath(storePath))
	switch {
	case root == absent && store == absent && stored == 0:
		return true, nil
	case root == absent && store == absent:
		return false, fmt.Errorf("%s holds %d sealed customers, but %s and %s, the keys that sealed them, are missing: "+
			"restore %s from where you keep it and %s; new keys could not open those customers. %s",
			filepath.Join(dataDir, customersFile), stored, rootPath, storePath, rootKeyFile, restoreStore, unchanged)
	case root == absent:
		return false, fmt.Errorf("root key file %s is missing, but its key store %s is there: "+
			"restore %s from your backup of it; a new root key could not open the keys in %s. %s",
			rootPath, storePath, rootKeyFile, keyStoreFile, unchanged)
	case store != present:
		what := "is missing"
		if store == empty {
			what = "is empty (0 bytes: truncated?)"
		}
		return false, fmt.Errorf("key store %s %s, but its root key file %s is there: "+
			"%snew keysets could not open what the old ones sealed. %s",
			storePath, what, rootPath, restoreStore, unchanged)
	}
	return false, nil
}

func absPath(p string) string {
	if a, err := filepath.Abs(p); err == nil {
		return filepath.ToSlash(a)
	}
	return p
}

// openKeys opens the root key file and the SQLite key store (creating them
// on the first run, with the keysets), then the chained audit log.
func openKeys(ctx context.Context, out, errOut io.Writer, dataDir string, stored int) (k *keys, err error) {
	first, err := checkKeyFiles(dataDir, stored)
	if err != nil {
		return nil, err
	}
	pass := []byte(os.Getenv("PIIGUARD_PASSPHRASE"))
	if len(pass) == 0 {
		fmt.Fprintln(errOut, "quickstart: warning: PIIGUARD_PASSPHRASE is not set: using the public demo passphrase (never with real data)")
		pass = []byte(demoPassphrase)
	}
	defer clear(pass)
	rootPath, storePath := filepath.Join(dataDir, rootKeyFile), filepath.Join(dataDir, keyStoreFile)
	var drv kms.Driver
	if first {
		fmt.Fprintf(out, "first run: creating root key file %s (argon2id + AES-256-GCM) and key store %s\n", rootPath, storePath)
		drv, err = localkey.Create(rootPath, pass, localkey.Options{})
	} else {
		fmt.Fprintf(out, "opening root key file %s and key store %s, made on an earlier run\n", rootPath, storePath)
		drv, err = localkey.Open(rootPath, pass, localkey.Options{})
	}
	if err != nil {
		return nil, err
	}
	k = &keys{root: kms.NewRootKey(drv, kms.RootKeyOptions{Name: "local:" + rootPath}), auditPath: filepath.Join(dataDir, auditFile), storePath: storePath}
	defer func() {
		if err != nil {
			err = errors.Join(err, k.close(ctx))
			if first {
				// Nothing was sealed under keys made by this run: take
				// them away, so that the next run starts afresh instead
				// of finding half a set.
				err = errors.Join(err, removeIfExists(rootPath), removeIfExists(storePath),
					removeIfExists(storePath+"-wal"), removeIfExists(storePath+"-shm"))
			}
		}
	}()
	if k.store, err = sqlstore.OpenSQLite(storePath); err != nil {
		return k, err
	}
	// The keyring's own events (the keysets created now) are held until the
	// chained log they go into is open.
	relay := &audit.Relay{}
	if k.kr, err = kms.NewKeyring(k.root, k.store, kms.KeyringOptions{Audit: relay}); err != nil {
		return k, err
	}
	k.admin = kms.NewAdmin(k.kr)
	had, err := k.admin.Keysets(ctx)
	if err != nil {
		return k, fmt.Errorf("key store %s: %w", storePath, err)
	}
	for _, ks := range keysets {
		if err := k.admin.Ensure(ctx, ks.name, ks.purpose); err != nil {
			return k, fmt.Errorf("key store %s: %w", storePath, err)
		}
		verb := "reused"
		if _, ok := had[ks.name]; !ok {
			verb = "created"
		}
		vs, err := k.admin.Versions(ctx, ks.name)
		if err != nil {
			return k, err
		}
		fmt.Fprintf(out, "  %-11s %-11s %s, %s:", ks.name, "("+string(ks.purpose)+")", verb, plural(len(vs), "version"))
		for _, v := range vs {
			primary := ""
			if v.Primary {
				primary = ", primary"
			}
			fmt.Fprintf(out, " v%d key ID %d (%s%s)", v.Number, v.ID, v.Status, primary)
		}
		fmt.Fprintln(out)
	}
	if err := k.openAudit(ctx, out, relay); err != nil {
		return k, err
	}
	return k, nil
}

// openAudit opens the chained audit log, verifying what it holds, and
// connects the relay to it.
func (k *keys) openAudit(ctx context.Context, out io.Writer, relay *audit.Relay) (err error) {
	if k.mac, err = k.kr.MAC(ctx, audit.ChainMACKeyset); err != nil {
		return fmt.Errorf("key store %s: %w", k.storePath, err)
	}
	signer, err := k.kr.Signer(ctx, audit.ChainSignKeyset)
	if err != nil {
		return fmt.Errorf("key store %s: %w", k.storePath, err)
	}
	if k.verifier, err = k.kr.Verifier(ctx, audit.ChainSignKeyset); err != nil {
		return fmt.Errorf("key store %s: %w", k.storePath, err)
	}
	if k.file, err = audit.NewFileSink(k.auditPath, audit.FileOptions{}); err != nil {
		return err
	}
	existing, err := audit.OpenLog(k.auditPath)
	if err != nil {
		return err
	}
	defer existing.Close()
	chain, rep, err := audit.ContinueChain(existing, k.file, k.mac, signer, k.verifier, audit.ChainOptions{})
	switch {
	case errors.Is(err, audit.ErrNotChained):
		return fmt.Errorf("%s holds plain audit events (an older quickstart wrote it?), not a chained log: move it aside and run again: %w", k.auditPath, err)
	case err != nil:
		return fmt.Errorf("%s does not verify, so the quickstart will not add to it: %w", k.auditPath, err)
	}
	k.chain = chain
	if rep.Records == 0 {
		fmt.Fprintf(out, "audit log %s: a new chained log (MAC keyset %s, checkpoints signed with %s)\n", k.auditPath, audit.ChainMACKeyset, audit.ChainSignKeyset)
	} else {
		fmt.Fprintf(out, "audit log %s: %s and %s verified; continuing the chain\n", k.auditPath, plural(int(rep.Records), "record"), plural(rep.Checkpoints, "checkpoint"))
	}
	return relay.Connect(ctx, chain)
}

// closeAndVerifyAudit ends the run's part of the audit log with a signed
// checkpoint, then verifies the whole log.
func (k *keys) closeAndVerifyAudit(ctx context.Context, out io.Writer) error {
	if err := k.chain.Close(ctx); err != nil {
		return err
	}
	if err := k.file.Flush(ctx); err != nil {
		return err
	}
	r, err := audit.OpenLog(k.auditPath)
	if err != nil {
		return err
	}
	defer r.Close()
	rep, err := audit.Verify(r, k.mac, k.verifier, audit.VerifyOptions{})
	if err != nil {
		return err
	}
	fmt.Fprintf(out, "%s: %s and %s verified, the last at record %d (reveals, masks, searches, key events; no values)\n",
		auditFile, plural(int(rep.Records), "record"), plural(rep.Checkpoints, "checkpoint"), rep.LastCheckpoint.Seq)
	return nil
}

// close closes what openKeys opened, the audit log first (a checkpoint for
// what this run added).
func (k *keys) close(ctx context.Context) error {
	var errs []error
	if k.chain != nil {
		errs = append(errs, k.chain.Close(ctx))
	}
	if k.file != nil {
		errs = append(errs, k.file.Close())
	}
	if k.kr != nil {
		errs = append(errs, k.kr.Close())
	}
	if k.store != nil {
		errs = append(errs, k.store.Close())
	}
	errs = append(errs, k.root.Close())
	return errors.Join(errs...)
}

func removeIfExists(path string) error {
	if err := os.Remove(path); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return err
	}
	return nil
}

// plural returns "1 record", "2 records", "2 matches".
func plural(n int, word string) string {
	switch {
	case n == 1:
		return "1 " + word
	case strings.HasSuffix(word, "ch"):
		return fmt.Sprintf("%d %ses", n, word)
	}
	return fmt.Sprintf("%d %ss", n, word)
}
