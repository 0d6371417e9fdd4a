package main

import (
	"bytes"
	"context"
	"go/parser"
	"go/token"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/piiguard/piiguard/kms"
	"github.com/piiguard/piiguard/kms/localkey"
)

// Test passphrases: strong enough for localkey.CheckPassphrase, and distinctive
// enough that finding one in any output is a leak, not a coincidence.
const (
	passEnv      = "PIIGUARD_TEST_PASSPHRASE"
	passphrase   = "Quartz-Wizard-7-Jumps-Vexed-Fog"
	passEnv2     = "PIIGUARD_TEST_PASSPHRASE_2"
	passphrase2  = "Plaid-Oyster-42-Hums-Bright-Cove"
	weakPassword = "aaaaaaaaaaaaaaaa"
	pgPassword   = "Pg-S3cret-Walrus-99"
)

// secrets are the strings no output of any command may contain.
var secrets = []string{passphrase, passphrase2, weakPassword, pgPassword}

// testEnv is a temporary directory with a root key file and a store spec.
type testEnv struct {
	t     *testing.T
	c     *cli
	dir   string
	root  string // -root URI of the key file
	store string // -store spec
}

// newEnv makes a root key file in a temporary directory and sets the
// environment for it: the passphrase variable, PIIGUARD_ROOT and
// PIIGUARD_STORE (storeKind is "sqlite" or "file"), and USER.
func newEnv(t *testing.T, storeKind string) *testEnv {
	t.Helper()
	dir := t.TempDir()
	e := &testEnv{t: t, c: testCLI(), dir: dir}
	t.Setenv(passEnv, passphrase)
	t.Setenv("USER", "ops-alice")
	e.root = localURI(filepath.Join(dir, "root.key"), passEnv)
	e.store = storeSpec(storeKind, dir, "keys")
	t.Setenv(envRoot, e.root)
	t.Setenv(envStore, e.store)
	out := e.ok("keys", "init")
	require.Contains(t, out, "created root key file")
	return e
}

// testCLI returns a cli whose key files are cheap to make: the default
// argon2id cost is slow under -race.
func testCLI() *cli {
	return &cli{localOptions: localkey.Options{InsecureFastKDFForTests: true}}
}

func localURI(path, env string) string {
	return "local://" + filepath.ToSlash(path) + "?passphrase_env=" + env
}

func storeSpec(kind, dir, name string) string {
	switch kind {
	case "sqlite":
		return "sqlite:" + filepath.Join(dir, name+".db")
	case "file":
		return "file:" + filepath.Join(dir, name)
	}
	panic("unknown store kind " + kind)
}

// run runs a command line and returns its outputs and exit code. Every run
// checks that no test secret appears in either output.
func (e *testEnv) run(args ...string) (stdout, stderr string, code int) {
	e.t.Helper()
	return runCLI(e.t, e.c, args...)
}

func runCLI(t *testing.T, c *cli, args ...string) (stdout, stderr string, code int) {
	t.Helper()
	var out, errOut bytes.Buffer
	code = c.exec(context.Background(), args, &out, &errOut)
	// Case-insensitively: a URI scheme, for one, is lowercased when parsed.
	for _, s := range secrets {
		s = strings.ToLower(s)
		require.NotContains(t, strings.ToLower(out.String()), s, "stdout of %q leaks a secret", args)
		require.NotContains(t, strings.ToLower(errOut.String()), s, "stderr of %q leaks a secret", args)
	}
	return out.String(), errOut.String(), code
}

// ok runs a command line that must succeed and returns its stdout.
func (e *testEnv) ok(args ...string) string {
	e.t.Helper()
	out, errOut, code := e.run(args...)
	require.Equal(e.t, exitOK, code, "%q failed:\nstdout: %s\nstderr: %s", args, out, errOut)
	return out
}

// fail runs a command line that must exit with code and returns stdout and
// stderr.
func (e *testEnv) fail(code int, args ...string) (string, string) {
	e.t.Helper()
	out, errOut, got := e.run(args...)
	require.Equal(e.t, code, got, "%q: want exit %d\nstdout: %s\nstderr: %s", args, code, out, errOut)
	return out, errOut
}

// record returns the stored keyset name of the store spec.
func record(t *testing.T, spec, name string) *kms.KeysetRecord {
	t.Helper()
	st, err := openStore(spec, storeMustExist)
	require.NoError(t, err)
	defer st.Close()
	rec, err := st.GetKeyset(context.Background(), name)
	require.NoError(t, err)
	return rec
}

var keyIDRE = regexp.MustCompile(`key ID (\d+)`)

// keyID returns the first key ID a command printed.
func keyID(t *testing.T, out string) string {
	t.Helper()
	m := keyIDRE.FindStringSubmatch(out)
	require.NotNil(t, m, "no key ID in %q", out)
	return m[1]
}

func TestHelpPrintsTheUsageOfTheDocComment(t *testing.T) {
	f, err := parser.ParseFile(token.NewFileSet(), "doc.go", nil, parser.ParseComments|parser.PackageClauseOnly)
	require.NoError(t, err)
	doc := f.Doc.Text()
	_, usage, found := strings.Cut(doc, "# Usage\n")
	require.True(t, found, "doc.go has no Usage section")
	// The doc comment indents code blocks with a tab; usageText too.
	assert.Equal(t, strings.TrimSpace(usageText), "Usage:\n\n"+strings.TrimRight(strings.TrimLeft(usage, "\n"), "\n"))

	out, _, code := runCLI(t, testCLI(), "help")
	assert.Equal(t, exitOK, code)
	assert.Equal(t, usageText, out)
	for name := range keysCommands {
		assert.Contains(t, usageText, "piiguard keys "+name+" ", "usage does not mention keys %s", name)
	}
	for name := range auditCommands {
		assert.Contains(t, usageText, "piiguard audit "+name+" ", "usage does not mention audit %s", name)
	}
}

func TestExitCodes(t *testing.T) {
	t.Setenv(envRoot, "")
	t.Setenv(envStore, "")
	c := testCLI()
	cases := map[string]struct {
		args []string
		code int
		msg  string
	}{
		"no command":          {nil, exitUsage, "no command"},
		"unknown command":     {[]string{"frobnicate"}, exitUsage, "unknown command"},
		"unknown subcommand":  {[]string{"keys", "frobnicate"}, exitUsage, "unknown command keys"},
		"no subcommand":       {[]string{"keys"}, exitUsage, "no subcommand"},
		"unknown flag":        {[]string{"keys", "list", "-frob"}, exitUsage, "unknown flag (flags of keys list: -actor, -audit, -root, -store)"},
		"bad flag value":      {[]string{"audit", "query", "-limit", "x", "a"}, exitUsage, "invalid value for -limit: parse error"},
		"flag needs a value":  {[]string{"keys", "rewrap", "-to"}, exitUsage, "flag -to needs a value"},
		"bad bool":            {[]string{"keys", "destroy", "-yes=maybe"}, exitUsage, "invalid value for -yes"},
		"missing argument":    {[]string{"keys", "rotate"}, exitUsage, "wants NAME"},
		"extra argument":      {[]string{"keys", "verify", "x"}, exitUsage, "takes no arguments"},
		"bad purpose":         {[]string{"keys", "create", "k", "rsa"}, exitUsage, "PURPOSE must be one of"},
		"bad key ID":          {[]string{"keys", "promote", "k", "0x12"}, exitUsage, "KEYID must be"},
		"no store":            {[]string{"keys", "list"}, exitUsage, "no key store"},
		"no root":             {[]string{"keys", "rotate", "k", "-store", "file:/nonexistent"}, exitUsage, "no root key"},
		"bad store spec":      {[]string{"keys", "list", "-store", "mysql://x"}, exitUsage, "-store must be"},
		"missing file store":  {[]string{"keys", "list", "-store", "file:/nonexistent/piiguard"}, exitFailed, "does not exist"},
		"rewrap without -to":  {[]string{"keys", "rewrap"}, exitUsage, "needs -to"},
		"audit query no logs": {[]string{"audit", "query"}, exitUsage, "at least one LOG"},
		"audit query bad T":   {[]string{"audit", "query", "-since", "yesterday", "x.jsonl"}, exitUsage, "RFC 3339"},
		"help":                {[]string{"help"}, exitOK, ""},
		"keys help":           {[]string{"keys", "help"}, exitOK, ""},
		"command -h":          {[]string{"keys", "create", "-h"}, exitOK, ""},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			out, errOut, code := runCLI(t, c, tc.args...)
			assert.Equal(t, tc.code, code, "stdout: %s\nstderr: %s", out, errOut)
			assert.Contains(t, errOut, tc.msg)
			if tc.code == exitUsage {
				assert.Contains(t, errOut, "piiguard help")
			}
		})
	}
}

func TestCommandHelpListsFlags(t *testing.T) {
	out, _, code := runCLI(t, testCLI(), "keys", "destroy", "-h")
	require.Equal(t, exitOK, code)
	for _, f := range []string{"-root", "-store", "-actor", "-audit", "-yes"} {
		assert.Contains(t, out, f)
	}
	assert.Contains(t, out, "NAME KEYID")
}

func TestFlagsMayFollowArguments(t *testing.T) {
	fs := newFlagSet("x")
	yes := fs.Bool("yes", false, "")
	s := fs.String("s", "", "")
	pos, ok, err := parseArgs(fs, []string{"a", "-yes", "b", "-s", "v", "--", "-c"}, &bytes.Buffer{}, "")
	require.NoError(t, err)
	require.True(t, ok)
	assert.Equal(t, []string{"a", "b", "-c"}, pos)
	assert.True(t, *yes)
	assert.Equal(t, "v", *s)
}

func TestParseKeyIDIsDecimalOnly(t *testing.T) {
	id, err := parseKeyID("4294967295")
	require.NoError(t, err)
	assert.Equal(t, uint32(4294967295), id)
	for _, bad := range []string{"", "0", "-1", "0x10", "4294967296", "1e3"} {
		_, err := parseKeyID(bad)
		assert.Equal(t, exitUsage, exitCode(err), "%q", bad)
	}
}

func fileMode(t *testing.T, path string) os.FileMode {
	t.Helper()
	fi, err := os.Stat(path)
	require.NoError(t, err)
	return fi.Mode().Perm()
}

func atoi(t *testing.T, s string) uint32 {
	t.Helper()
	n, err := strconv.ParseUint(s, 10, 32)
	require.NoError(t, err)
	return uint32(n)
}

// docSection returns the text of a section of the doc comment, up to the
// next section, without the blank lines around it.
func docSection(t *testing.T, title string) string {
	t.Helper()
	f, err := parser.ParseFile(token.NewFileSet(), "doc.go", nil, parser.ParseComments|parser.PackageClauseOnly)
	require.NoError(t, err)
	_, sec, found := strings.Cut(f.Doc.Text(), "# "+title+"\n")
	require.True(t, found, "doc.go has no %s section", title)
	sec, _, _ = strings.Cut(sec, "\n# ")
	return strings.Trim(sec, "\n")
}

// firstSteps returns the block of commands under "First steps:" in a help
// text, and false if there is none.
func firstSteps(help string) (string, bool) {
	_, steps, found := strings.Cut(help, "\nFirst steps:\n\n")
	// The block ends at the first line that is not indented or blank.
	var b strings.Builder
	for line := range strings.Lines(steps) {
		if line != "\n" && !strings.HasPrefix(line, "\t") {
			break
		}
		b.WriteString(line)
	}
	return strings.Trim(b.String(), "\n"), found
}

func TestHelpShowsTheFirstStepsOfTheQuickStart(t *testing.T) {
	for _, args := range [][]string{{"help"}, {"-h"}, {"keys", "help"}} {
		out, _, code := runCLI(t, testCLI(), args...)
		require.Equal(t, exitOK, code)
		steps, found := firstSteps(out)
		require.True(t, found, "%q prints no First steps section:\n%s", args, out)
		for _, env := range []string{"PIIGUARD_PASSPHRASE", "PIIGUARD_ROOT", "PIIGUARD_STORE"} {
			assert.Contains(t, steps, "export "+env+"=", "%q: the first steps do not set %s", args, env)
		}
		// In this order: init, create, list, rotate, backup.
		rest := steps
		for _, step := range []string{"piiguard keys init", "piiguard keys create ", "piiguard keys list", "piiguard keys rotate ", "piiguard keys backup "} {
			i := strings.Index(rest, step)
			require.GreaterOrEqual(t, i, 0, "%q: the first steps lack %q after the steps before it:\n%s", args, step, steps)
			rest = rest[i+len(step):]
		}
	}
	// doc.go's Quick start is the same block.
	steps, _ := firstSteps(usageText)
	assert.Equal(t, docSection(t, "Quick start"), steps)
}

// oneInThePluralRE finds a count of one followed by a plural noun.
var oneInThePluralRE = regexp.MustCompile(`\b1 (lines|keysets|versions|failures|records|checkpoints|logs|keys|arguments)\b`)

func TestMessagesPutOneInTheSingular(t *testing.T) {
	e := newEnv(t, "sqlite")
	var all strings.Builder
	check := func(wantCode int, want string, args ...string) {
		t.Helper()
		out, errOut, code := e.run(args...)
		require.Equal(t, wantCode, code, "%q\nstdout: %s\nstderr: %s", args, out, errOut)
		assert.Contains(t, out+errOut, want, "%q", args)
		all.WriteString(out + errOut)
	}
	check(exitUsage, "wants NAME (1 argument), got 0", "keys", "rotate")
	check(exitOK, "created keyset fields", "keys", "create", "fields", "aead")
	check(exitOK, "OK: 1 keyset opened, 1 version checked, 0 destroyed skipped, 0 failures", "keys", "verify")
	backup := filepath.Join(e.dir, "b.json")
	check(exitOK, "backed up 1 keyset to", "keys", "backup", backup)
	check(exitOK, "OK: 1 keyset opened, 1 version checked", "keys", "verify-backup", backup)
	check(exitOK, "restored 1 keyset from", "keys", "restore", backup, "-store", storeSpec("file", e.dir, "restored"))
	t.Setenv(passEnv2, passphrase2)
	root2 := localURI(filepath.Join(e.dir, "root2.key"), passEnv2)
	e.ok("keys", "init", "-root", root2)
	check(exitOK, "rewrapped 1 keyset to", "keys", "rewrap", "-to", root2)
	check(exitFailed, "1 failure", "keys", "verify") // under the old root key

	e.ok("keys", "create", "audit-mac", "mac", "-root", root2)
	e.ok("keys", "create", "audit-sign", "signature", "-root", root2)
	t.Setenv(envRoot, root2)
	e.root = root2
	log, _ := chainLog(t, e, 1)
	check(exitOK, "1 record, 1 checkpoint, last checkpoint at seq 1, 0 records after it",
		"audit", "verify", log)
	data, err := os.ReadFile(log)
	require.NoError(t, err)
	bad := filepath.Join(e.dir, "bad.jsonl")
	require.NoError(t, os.WriteFile(bad, []byte(strings.Replace(string(data), `"actor":"u-1"`, `"actor":"u-9"`, 1)), 0o600))
	check(exitFailed, "1 of 1 log failed verification", "audit", "verify", bad)

	corrupt := filepath.Join(e.dir, "corrupt.jsonl")
	require.NoError(t, os.WriteFile(corrupt, []byte("{\"v\":1,\"time\":\"not a time\"}\n"), 0o600))
	check(exitFailed, "1 line could not be read", "audit", "query", corrupt)

	assert.NotRegexp(t, oneInThePluralRE, all.String())
}
