package main

import (
	"context"
	"database/sql"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"os"
	"os/user"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/piiguard/piiguard/audit"
	"github.com/piiguard/piiguard/kms"
	"github.com/piiguard/piiguard/kms/localkey"
)

var storeKinds = []string{"sqlite", "file"}

func TestKeysInitMakesAKeyFileAndNeverOverwrites(t *testing.T) {
	e := newEnv(t, "file")
	path := filepath.Join(e.dir, "root.key")
	assert.Equal(t, os.FileMode(0o600), fileMode(t, path))
	before, err := os.ReadFile(path)
	require.NoError(t, err)

	_, errOut := e.fail(exitFailed, "keys", "init")
	assert.Contains(t, errOut, "already exists")
	after, err := os.ReadFile(path)
	require.NoError(t, err)
	assert.Equal(t, before, after, "keys init overwrote the key file")

	// The printed URI opens the new key.
	out := e.ok("keys", "init", "-root", localURI(filepath.Join(e.dir, "other.key"), passEnv))
	assert.Contains(t, out, "use it with: -root '"+localURI(filepath.Join(e.dir, "other.key"), passEnv)+"'")
}

func TestKeysInitCreatesTheFoldersOfTheKeyFile(t *testing.T) {
	e := newEnv(t, "file")
	path := filepath.Join(e.dir, "var", "lib", "app", "root.key")
	uri := localURI(path, passEnv)
	e.ok("keys", "init", "-root", uri)
	assert.Equal(t, os.FileMode(0o600), fileMode(t, path))
	for _, d := range []string{"var", "var/lib", "var/lib/app"} {
		assert.Equal(t, os.FileMode(0o700), fileMode(t, filepath.Join(e.dir, filepath.FromSlash(d))), d)
	}
	before, err := os.ReadFile(path)
	require.NoError(t, err)
	_, errOut := e.fail(exitFailed, "keys", "init", "-root", uri)
	assert.Contains(t, errOut, "already exists")
	after, err := os.ReadFile(path)
	require.NoError(t, err)
	assert.Equal(t, before, after, "keys init overwrote the key file")

	// A refused passphrase creates no folder.
	t.Setenv("WEAK_PASS", weakPassword)
	e.fail(exitFailed, "keys", "init", "-root", localURI(filepath.Join(e.dir, "weak", "root.key"), "WEAK_PASS"))
	assert.NoDirExists(t, filepath.Join(e.dir, "weak"))
	// A file where a folder should be is not replaced.
	_, errOut = e.fail(exitFailed, "keys", "init", "-root", localURI(filepath.Join(path, "root.key"), passEnv))
	assert.Contains(t, errOut, "root.key")
	after, err = os.ReadFile(path)
	require.NoError(t, err)
	assert.Equal(t, before, after)
}

func TestKeysInitRefusals(t *testing.T) {
	e := newEnv(t, "file")
	t.Setenv("WEAK_PASS", weakPassword)
	t.Setenv("EMPTY_PASS", "")
	weak := filepath.Join(e.dir, "weak.key")
	_, errOut := e.fail(exitFailed, "keys", "init", "-root", localURI(weak, "WEAK_PASS"))
	assert.Contains(t, errOut, "weak passphrase")
	assert.NoFileExists(t, weak)

	_, errOut = e.fail(exitFailed, "keys", "init", "-root", localURI(weak, "EMPTY_PASS"))
	assert.Contains(t, errOut, "unset or empty")

	for name, uri := range map[string]string{
		"passphrase in URI": "local://" + filepath.ToSlash(weak) + "?passphrase=" + passphrase,
		"no passphrase_env": "local://" + filepath.ToSlash(weak),
		"relative path":     "local:root.key?passphrase_env=" + passEnv,
		"not local":         "insecure-memory://x",
		"unknown parameter": localURI(weak, passEnv) + "&" + passphrase + "=1",
	} {
		t.Run(name, func(t *testing.T) {
			e.fail(exitUsage, "keys", "init", "-root", uri)
			assert.NoFileExists(t, weak)
		})
	}
}

func TestKeysLifecycle(t *testing.T) {
	for _, kind := range storeKinds {
		t.Run(kind, func(t *testing.T) {
			e := newEnv(t, kind)
			auditLog := filepath.Join(e.dir, "audit.jsonl")
			var v1 string
			for _, p := range []string{"aead", "prf", "daead", "mac", "signature"} {
				out := e.ok("keys", "create", "ks-"+p, p, "-audit", auditLog)
				assert.Contains(t, out, "created keyset ks-"+p+" ("+p+")")
				if p == "aead" {
					v1 = keyID(t, out)
				}
			}
			e.fail(exitFailed, "keys", "create", "ks-aead", "aead")

			v2 := keyID(t, e.ok("keys", "rotate", "ks-aead", "-audit", auditLog))
			v3 := keyID(t, e.ok("keys", "add-version", "ks-aead", "-audit", auditLog, "-actor", "ops-bob"))
			rec := record(t, e.store, "ks-aead")
			require.Len(t, rec.Versions, 3)
			assert.Equal(t, atoi(t, v1), rec.Versions[0].ID)
			assert.True(t, rec.Versions[1].Primary, "rotate makes the new version primary")
			assert.False(t, rec.Versions[2].Primary, "add-version does not")

			e.ok("keys", "promote", "ks-aead", v3)
			e.ok("keys", "disable", "ks-aead", v1)
			e.ok("keys", "enable", "ks-aead", v1)
			e.ok("keys", "disable", "ks-aead", v2)
			_, errOut := e.fail(exitFailed, "keys", "disable", "ks-aead", v3)
			assert.Contains(t, errOut, "primary")

			list := e.ok("keys", "list")
			assert.Regexp(t, `(?m)^ks-aead\s+aead\s+1\s+`+v1+`\s+enabled\s+\d{4}-`, list)
			assert.Regexp(t, `(?m)^ks-aead\s+aead\s+2\s+`+v2+`\s+disabled\s+\d{4}-`, list)
			assert.Regexp(t, `(?m)^ks-aead\s+aead\s+3\s+`+v3+`\s+enabled\s+primary\s+\d{4}-`, list)
			assert.Regexp(t, `(?m)^ks-signature\s+signature\s+1\s+\d+\s+enabled\s+primary`, list)

			// -audit made the keysets of the audit log's chain, audit-mac
			// and audit-sign, with the others.
			out := e.ok("keys", "verify")
			assert.Len(t, regexp.MustCompile(`(?m)^OK +keyset `).FindAllString(out, -1), 9)
			assert.Contains(t, out, "OK       keyset audit-mac version 1")
			assert.Contains(t, out, "OK       keyset audit-sign version 1")
			assert.Contains(t, out, "OK: 7 keysets opened, 9 versions checked, 0 destroyed skipped, 0 failures")

			// Destroy is refused without -yes, and the refusal says what
			// would be destroyed.
			_, errOut = e.fail(exitUsage, "keys", "destroy", "ks-aead", v2)
			assert.Contains(t, errOut, "would destroy version 2 (key ID "+v2+", disabled")
			assert.Contains(t, errOut, `keyset "ks-aead"`)
			assert.Contains(t, errOut, "-yes")
			assert.Equal(t, kms.StatusDisabled, record(t, e.store, "ks-aead").Versions[1].Status)

			_, errOut = e.fail(exitFailed, "keys", "destroy", "ks-aead", v3, "-yes")
			assert.Contains(t, errOut, "primary")
			e.fail(exitFailed, "keys", "destroy", "ks-aead", "12345", "-yes")

			e.ok("keys", "destroy", "-yes", "ks-aead", v2, "-audit", auditLog)
			assert.Equal(t, kms.StatusDestroyed, record(t, e.store, "ks-aead").Versions[1].Status)
			_, errOut = e.fail(exitFailed, "keys", "destroy", "ks-aead", v2, "-yes")
			assert.Contains(t, errOut, "already destroyed")
			e.fail(exitFailed, "keys", "enable", "ks-aead", v2)

			out = e.ok("keys", "verify")
			assert.Contains(t, out, "SKIPPED  keyset ks-aead version 2 (key ID "+v2+", destroyed)")
			assert.Contains(t, out, "OK: 7 keysets opened, 8 versions checked, 1 destroyed skipped, 0 failures")

			// The audit file is a chain that verifies, with the key events
			// and their actor, the making of the chain's keysets first.
			assert.Contains(t, e.ok("audit", "verify", auditLog), "OK      "+auditLog+": 10 records, 8 checkpoints")
			events, err := audit.QueryFiles(context.Background(), auditLog, audit.Query{})
			require.NoError(t, err)
			var actions []string
			for _, ev := range events {
				actions = append(actions, string(ev.Action)+"/"+ev.KeyName+"/"+ev.Actor)
			}
			assert.Equal(t, []string{
				"key.create/audit-mac/ops-alice", "key.create/audit-sign/ops-alice",
				"key.create/ks-aead/ops-alice", "key.create/ks-prf/ops-alice", "key.create/ks-daead/ops-alice", "key.create/ks-mac/ops-alice", "key.create/ks-signature/ops-alice",
				"key.rotate/ks-aead/ops-alice", "key.rotate/ks-aead/ops-bob", "key.destroy/ks-aead/ops-alice",
			}, actions)
			assert.Equal(t, atoi(t, v2), events[9].KeyID)
		})
	}
}

func TestKeysCommandsOnAMissingStoreDoNotCreateIt(t *testing.T) {
	for _, kind := range storeKinds {
		t.Run(kind, func(t *testing.T) {
			e := newEnv(t, kind)
			path := strings.SplitN(e.store, ":", 2)[1]
			for _, args := range [][]string{
				{"keys", "list"}, {"keys", "verify"}, {"keys", "rotate", "x"},
				{"keys", "backup", filepath.Join(e.dir, "b.json")}, {"keys", "destroy", "x", "1"},
			} {
				_, errOut := e.fail(exitFailed, args...)
				assert.Contains(t, errOut, "does not exist")
			}
			assert.NoFileExists(t, path)
			assert.NoDirExists(t, path)
		})
	}
}

func TestListAndDestroyRefusalNeedNoRootKey(t *testing.T) {
	e := newEnv(t, "file")
	v1 := keyID(t, e.ok("keys", "create", "fields", "aead"))
	e.ok("keys", "rotate", "fields")
	t.Setenv(envRoot, "")
	t.Setenv(passEnv, "")
	assert.Contains(t, e.ok("keys", "list"), "fields")
	_, errOut := e.fail(exitUsage, "keys", "destroy", "fields", v1)
	assert.Contains(t, errOut, "would destroy version 1")
	_, errOut = e.fail(exitUsage, "keys", "destroy", "-yes", "fields", v1)
	assert.Contains(t, errOut, "no root key")
}

func TestWrongPassphraseFails(t *testing.T) {
	e := newEnv(t, "sqlite")
	e.ok("keys", "create", "f", "aead")
	t.Setenv(passEnv, passphrase2)
	_, errOut := e.fail(exitFailed, "keys", "verify")
	assert.Contains(t, errOut, "wrong passphrase")
}

func TestBackupRestoreVerify(t *testing.T) {
	for _, from := range storeKinds {
		for _, to := range storeKinds {
			t.Run(from+" to "+to, func(t *testing.T) {
				e := newEnv(t, from)
				e.ok("keys", "create", "fields", "aead")
				e.ok("keys", "create", "index", "prf")
				e.ok("keys", "rotate", "fields")
				backup := filepath.Join(e.dir, "keys-backup.json")
				out := e.ok("keys", "backup", backup)
				assert.Contains(t, out, "backed up 2 keysets")
				assert.Equal(t, os.FileMode(0o600), fileMode(t, backup))

				// Never overwritten without -force.
				before, err := os.ReadFile(backup)
				require.NoError(t, err)
				_, errOut := e.fail(exitFailed, "keys", "backup", backup)
				assert.Contains(t, errOut, "-force")
				after, err := os.ReadFile(backup)
				require.NoError(t, err)
				assert.Equal(t, before, after)
				e.ok("keys", "rotate", "index")
				e.ok("keys", "backup", "-force", backup)
				assert.Equal(t, os.FileMode(0o600), fileMode(t, backup))
				entries, err := os.ReadDir(e.dir)
				require.NoError(t, err)
				for _, de := range entries {
					assert.NotContains(t, de.Name(), ".tmp", "temporary file left behind")
				}

				out = e.ok("keys", "verify-backup", backup, "-store", "")
				assert.Contains(t, out, "OK       keyset index version 2")
				assert.Contains(t, out, "OK: 2 keysets opened, 4 versions checked")

				fresh := storeSpec(to, e.dir, "restored")
				out = e.ok("keys", "restore", backup, "-store", fresh)
				assert.Contains(t, out, "restored 2 keysets")
				assert.Contains(t, out, "OK: 2 keysets opened, 4 versions checked")
				out = e.ok("keys", "verify", "-store", fresh)
				assert.Contains(t, out, "OK: 2 keysets opened, 4 versions checked, 0 destroyed skipped, 0 failures")
				assert.Equal(t, versionSummary(record(t, e.store, "fields")), versionSummary(record(t, fresh, "fields")))

				// A restore goes into an empty store only.
				_, errOut = e.fail(exitFailed, "keys", "restore", backup, "-store", fresh)
				assert.Contains(t, errOut, "not empty")
			})
		}
	}
}

func TestVerifyBackupFailsOnATamperedBackup(t *testing.T) {
	e := newEnv(t, "file")
	e.ok("keys", "create", "fields", "aead")
	backup := filepath.Join(e.dir, "b.json")
	e.ok("keys", "backup", backup)
	data, err := os.ReadFile(backup)
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(backup, []byte(strings.Replace(string(data), `"fields"`, `"fieldz"`, 1)), 0o600))
	_, errOut := e.fail(exitFailed, "keys", "verify-backup", backup)
	assert.Contains(t, errOut, "corrupt")
	e.fail(exitFailed, "keys", "restore", backup, "-store", storeSpec("file", e.dir, "r"))
}

func TestVerifyFailsOnATamperedStore(t *testing.T) {
	t.Run("sqlite keyset ciphertext", func(t *testing.T) {
		e := newEnv(t, "sqlite")
		e.ok("keys", "create", "fields", "aead")
		e.ok("keys", "create", "index", "prf")
		db, err := sql.Open("sqlite", strings.TrimPrefix(e.store, "sqlite:"))
		require.NoError(t, err)
		defer db.Close()
		var ct []byte
		require.NoError(t, db.QueryRow(`SELECT encrypted_keyset FROM piiguard_keysets WHERE name = 'fields'`).Scan(&ct))
		ct[len(ct)/2] ^= 0x01
		_, err = db.Exec(`UPDATE piiguard_keysets SET encrypted_keyset = ? WHERE name = 'fields'`, ct)
		require.NoError(t, err)

		out, errOut := e.fail(exitFailed, "keys", "verify")
		assert.Contains(t, out, "FAILED   keyset fields: cannot be unwrapped with this root key")
		assert.Contains(t, out, "OK       keyset index version 1")
		assert.Contains(t, out, "FAILED: 1 keyset opened, 1 version checked, 0 destroyed skipped, 1 failure")
		assert.Contains(t, errOut, "verification failed")
	})
	t.Run("file store canary", func(t *testing.T) {
		e := newEnv(t, "file")
		e.ok("keys", "create", "fields", "aead")
		v2 := keyID(t, e.ok("keys", "rotate", "fields"))
		path := filepath.Join(strings.TrimPrefix(e.store, "file:"), "keysets", "fields.json")
		data, err := os.ReadFile(path)
		require.NoError(t, err)
		var rec map[string]any
		require.NoError(t, json.Unmarshal(data, &rec))
		v := rec["versions"].([]any)[1].(map[string]any)
		canary, err := base64.StdEncoding.DecodeString(v["canary"].(string))
		require.NoError(t, err)
		canary[4] ^= 0x01 // a different canary, still valid base64
		v["canary"] = base64.StdEncoding.EncodeToString(canary)
		data, err = json.Marshal(rec)
		require.NoError(t, err)
		require.NoError(t, os.WriteFile(path, data, 0o600))

		out, _ := e.fail(exitFailed, "keys", "verify")
		assert.Contains(t, out, "OK       keyset fields version 1")
		assert.Contains(t, out, "FAILED   keyset fields version 2 (key ID "+v2+", enabled)")
	})
}

func TestRewrapToASecondKeyFile(t *testing.T) {
	for _, kind := range storeKinds {
		t.Run(kind, func(t *testing.T) {
			e := newEnv(t, kind)
			e.ok("keys", "create", "fields", "aead")
			e.ok("keys", "create", "chain", "mac")
			e.ok("keys", "rotate", "fields")
			t.Setenv(passEnv2, passphrase2)
			newRoot := localURI(filepath.Join(e.dir, "root2.key"), passEnv2)
			e.ok("keys", "init", "-root", newRoot)

			out := e.ok("keys", "rewrap", "-to", newRoot)
			assert.Contains(t, out, "rewrapped 2 keysets to local://"+filepath.ToSlash(filepath.Join(e.dir, "root2.key")))
			assert.NotContains(t, out, "passphrase_env", "the root key's name keeps no query")
			assert.Contains(t, out, "OK: 2 keysets opened, 3 versions checked")
			assert.Equal(t, "local://"+filepath.ToSlash(filepath.Join(e.dir, "root2.key")), record(t, e.store, "fields").RootKey)

			// The new root opens every keyset; the old one none.
			e.ok("keys", "verify", "-root", newRoot)
			out, _ = e.fail(exitFailed, "keys", "verify")
			assert.Contains(t, out, "FAILED   keyset fields: cannot be unwrapped with this root key")
			e.ok("keys", "rotate", "fields", "-root", newRoot)

			// Running it again is a no-op.
			out = e.ok("keys", "rewrap", "-root", e.root, "-to", newRoot)
			assert.Contains(t, out, "rewrapped 0 keysets")
		})
	}
}

func TestInsecureMemoryRootIsRefused(t *testing.T) {
	e := newEnv(t, "sqlite")
	e.ok("keys", "create", "fields", "aead")
	_, errOut := e.fail(exitUsage, "keys", "rewrap", "-to", "insecure-memory://x")
	assert.Contains(t, errOut, "is lost when the command exits")
	_, errOut = e.fail(exitUsage, "keys", "create", "other", "aead", "-root", "insecure-memory://x")
	assert.Contains(t, errOut, "-root insecure-memory:// is refused")
	assert.Equal(t, "local://"+filepath.ToSlash(filepath.Join(e.dir, "root.key")), record(t, e.store, "fields").RootKey)
}

// versionSummary describes a keyset's versions without their times, which
// stores keep at different precisions.
func versionSummary(rec *kms.KeysetRecord) []string {
	var out []string
	for _, v := range rec.Versions {
		out = append(out, fmt.Sprintf("%d/%d/%s/%t", v.Number, v.ID, v.Status, v.Primary))
	}
	return out
}

// withKeyring runs f with a keyring over the test environment's root key
// file and store, as an application would.
func withKeyring(t *testing.T, e *testEnv, f func(kr *kms.Keyring)) {
	t.Helper()
	drv, err := localkey.Open(filepath.Join(e.dir, "root.key"), []byte(passphrase), localkey.Options{})
	require.NoError(t, err)
	root := kms.NewRootKey(drv, kms.RootKeyOptions{Name: "app"})
	defer root.Close()
	st, err := openStore(e.store, storeMustExist)
	require.NoError(t, err)
	defer st.Close()
	kr, err := kms.NewKeyring(root, st.Store, kms.KeyringOptions{})
	require.NoError(t, err)
	defer kr.Close()
	f(kr)
}

func TestRewrapSubjectsThenDestroyTheOldVersion(t *testing.T) {
	for _, kind := range storeKinds {
		t.Run(kind, func(t *testing.T) {
			e := newEnv(t, kind)
			e.ok("keys", "create", "fields", "aead") // creates the store
			ctx := context.Background()
			cts := map[string][]byte{}
			withKeyring(t, e, func(kr *kms.Keyring) {
				for i := range 5 {
					id := fmt.Sprintf("customer-%d", i)
					a, err := kr.SubjectKey(ctx, id)
					require.NoError(t, err)
					cts[id], err = a.Encrypt([]byte(id), nil)
					require.NoError(t, err)
				}
			})
			old := record(t, e.store, "subjects").Versions[0].ID
			e.ok("keys", "rotate", "subjects")

			_, errOut := e.fail(exitFailed, "keys", "destroy", "-yes", "subjects", fmt.Sprint(old))
			assert.Contains(t, errOut, "still wraps 5 subject keys")
			assert.NotContains(t, errOut, "customer-")

			out := e.ok("keys", "rewrap-subjects")
			assert.Contains(t, out, "subject keys: 5 checked, 5 rewrapped, 0 skipped")
			out = e.ok("keys", "rewrap-subjects")
			assert.Contains(t, out, "subject keys: 5 checked, 0 rewrapped, 0 skipped", "a second run has nothing to do")

			e.ok("keys", "destroy", "-yes", "subjects", fmt.Sprint(old))
			withKeyring(t, e, func(kr *kms.Keyring) {
				for id, ct := range cts {
					a, err := kr.SubjectKey(ctx, id)
					require.NoError(t, err)
					pt, err := a.Decrypt(ct, nil)
					require.NoError(t, err)
					assert.Equal(t, id, string(pt))
				}
			})
		})
	}
}

// assertNoDoubledWords fails when a word follows itself in msg.
func assertNoDoubledWords(t *testing.T, msg string) {
	t.Helper()
	words := strings.FieldsFunc(strings.ToLower(msg), func(r rune) bool {
		return !('a' <= r && r <= 'z' || '0' <= r && r <= '9' || r == '-' || r == '_')
	})
	for i := 1; i < len(words); i++ {
		assert.NotEqual(t, words[i-1], words[i], "%q writes %q twice", msg, words[i])
	}
}

func TestAMissingStoreSaysHowToCreateOrRestoreOne(t *testing.T) {
	for _, kind := range storeKinds {
		t.Run(kind, func(t *testing.T) {
			e := newEnv(t, kind)
			for _, args := range [][]string{
				{"keys", "list"}, {"keys", "verify"}, {"keys", "rotate", "x"},
				{"keys", "backup", filepath.Join(e.dir, "b.json")}, {"keys", "destroy", "x", "1"},
				{"keys", "rewrap-subjects"}, {"audit", "verify", "-mac-keyset", "m", "-sign-keyset", "s", filepath.Join(e.dir, "audit.jsonl")},
			} {
				_, errOut := e.fail(exitFailed, args...)
				assert.Contains(t, errOut, "does not exist", "%q", args)
				assert.Equal(t, 1, strings.Count(errOut, "piiguard keys create NAME PURPOSE"), "%q: %s", args, errOut)
				assert.Equal(t, 1, strings.Count(errOut, "piiguard keys restore BACKUP"), "%q: %s", args, errOut)
				assert.NotContains(t, errOut, "does not exist: not found", "%q says it twice", args)
				assertNoDoubledWords(t, errOut)
			}
		})
	}
	_, err := openStore("file:"+filepath.Join(t.TempDir(), "none"), storeMustExist)
	assert.ErrorIs(t, err, kms.ErrNotFound)
}

func TestRewrapSubjectsWithoutASubjectKeyset(t *testing.T) {
	e := newEnv(t, "sqlite")
	e.ok("keys", "create", "fields", "aead")
	out, errOut, code := e.run("keys", "rewrap-subjects")
	require.Equal(t, exitOK, code, "stdout: %s\nstderr: %s", out, errOut)
	assert.Equal(t, "nothing to re-wrap: the key store has no \"subjects\" keyset, so it holds no subject keys\n", out)
	assert.Empty(t, errOut)
	assert.NotContains(t, out, "checked", "no count of a pass that did not run")

	// Subject keys wrapped by another keyset, and no "subjects" keyset:
	// there is something to re-wrap, and nothing to re-wrap it under.
	ctx := context.Background()
	drv, err := localkey.Open(filepath.Join(e.dir, "root.key"), []byte(passphrase), localkey.Options{})
	require.NoError(t, err)
	root := kms.NewRootKey(drv, kms.RootKeyOptions{Name: "app"})
	defer root.Close()
	st, err := openStore(e.store, storeMustExist)
	require.NoError(t, err)
	kr, err := kms.NewKeyring(root, st.Store, kms.KeyringOptions{SubjectKeyset: "customers"})
	require.NoError(t, err)
	_, err = kr.SubjectKey(ctx, "customer-1")
	require.NoError(t, err)
	require.NoError(t, kr.Close())
	require.NoError(t, st.Close())

	out, errOut = e.fail(exitFailed, "keys", "rewrap-subjects")
	assert.Empty(t, out)
	assert.Contains(t, errOut, "holds subject keys but no \"subjects\" keyset")
	assert.NotContains(t, errOut, "customer-1")
}

func TestVerifyUnderAnotherRootKeySaysTheKeysetCannotBeUnwrapped(t *testing.T) {
	const want = "FAILED   keyset fields: cannot be unwrapped with this root key (made under another root key?)"
	e := newEnv(t, "sqlite")
	e.ok("keys", "create", "fields", "aead")
	backup := filepath.Join(e.dir, "b.json")
	e.ok("keys", "backup", backup)
	t.Setenv(passEnv2, passphrase2)
	root2 := localURI(filepath.Join(e.dir, "root2.key"), passEnv2)
	e.ok("keys", "init", "-root", root2)

	for name, args := range map[string][]string{
		"another key file":       {"keys", "verify", "-root", root2},
		"a backup, another key":  {"keys", "verify-backup", backup, "-root", root2},
		"another key, same path": nil, // below
	} {
		t.Run(name, func(t *testing.T) {
			if args == nil {
				// The key file replaced by a new one at the same path: the
				// store names the same root key.
				require.NoError(t, os.Rename(filepath.Join(e.dir, "root.key"), filepath.Join(e.dir, "root.key.old")))
				defer os.Rename(filepath.Join(e.dir, "root.key.old"), filepath.Join(e.dir, "root.key"))
				e.ok("keys", "init")
				defer os.Remove(filepath.Join(e.dir, "root.key"))
				args = []string{"keys", "verify"}
			}
			out, errOut := e.fail(exitFailed, args...)
			assert.Contains(t, out, want)
			assert.Contains(t, out, "FAILED: 0 keysets opened, 0 versions checked, 0 destroyed skipped, 1 failure\n")
			assert.Contains(t, errOut, "verification failed: 1 failure; first: keyset \"fields\" cannot be unwrapped with this root key")
			assert.NotContains(t, out+errOut, "version 0")
		})
	}
}

func TestActorDefaultsToUserThenTheOSUserThenTheUID(t *testing.T) {
	found := func() (*user.User, error) { return &user.User{Username: "os-carol"}, nil }
	missing := func() (*user.User, error) { return nil, user.UnknownUserIdError(1234) }
	nameless := func() (*user.User, error) { return &user.User{}, nil }
	uid := func() int { return 1234 }
	assert.Equal(t, "ops-alice", actorOf("ops-alice", found, uid))
	assert.Equal(t, "os-carol", actorOf("", found, uid))
	assert.Equal(t, "uid:1234", actorOf("", missing, uid))
	assert.Equal(t, "uid:1234", actorOf("", nameless, uid))

	// Without $USER, key events still name who ran the command.
	e := newEnv(t, "file")
	t.Setenv("USER", "")
	want := "uid:" + strconv.Itoa(os.Getuid())
	if u, err := user.Current(); err == nil && u.Username != "" {
		want = u.Username
	}
	log := filepath.Join(e.dir, "audit.jsonl")
	e.ok("keys", "create", "fields", "aead", "-audit", log)
	events, err := audit.QueryFiles(context.Background(), log, audit.Query{Actions: []audit.Action{audit.ActionKeyCreate}})
	require.NoError(t, err)
	require.NotEmpty(t, events)
	for _, ev := range events {
		assert.Equal(t, want, ev.Actor, "event %s %s", ev.Action, ev.KeyName)
	}

	out, _, code := runCLI(t, testCLI(), "keys", "create", "-h")
	require.Equal(t, exitOK, code)
	assert.Contains(t, out, "default $USER, else the OS user name, else uid:N")
}
