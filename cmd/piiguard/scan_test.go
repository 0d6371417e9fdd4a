package main

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"flag"
	"io"
	"net"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"testing/iotest"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/piiguard/piiguard/access"
	"github.com/piiguard/piiguard/detect"
	"github.com/piiguard/piiguard/kms"
	"github.com/piiguard/piiguard/kms/insecuremem"
	"github.com/piiguard/piiguard/pii"
)

var updateGolden = flag.Bool("update", false, "rewrite the golden files in testdata")

// The personal data of the scan tests: none of it may appear in any
// output, only its masks.
var scanValues = []string{
	"lucy@example.com", "mina.harker@example.org", "jonathan@example.net",
	"4111 1111 1111 1111", "4111111111111111", "+44 20 7946 0958", "7946 0958",
	"11010519491231002X", "1985-03-12", "1990-01-02", "203.0.113.7",
}

// scanCLI runs piiguard with args and checks that no personal value of the
// test data, and no test secret, reached stdout or stderr.
func scanCLI(t *testing.T, args ...string) (stdout, stderr string, code int) {
	t.Helper()
	out, errOut, code := runCLI(t, testCLI(), args...)
	for _, v := range scanValues {
		require.NotContains(t, out, v, "stdout of %q holds a value in the clear", args)
		require.NotContains(t, errOut, v, "stderr of %q holds a value in the clear", args)
	}
	return out, errOut, code
}

// writeFiles writes files (path: content) under dir.
func writeFiles(t *testing.T, dir string, files map[string]string) {
	t.Helper()
	for name, content := range files {
		p := filepath.Join(dir, name)
		require.NoError(t, os.MkdirAll(filepath.Dir(p), 0o755))
		require.NoError(t, os.WriteFile(p, []byte(content), 0o600))
	}
}

// scanFixture is the folder the golden report is made of: logs, CSV, JSON
// Lines, clean text, a binary file and an SQLite database with plaintext,
// sealed, partly sealed and unreadable tables.
func scanFixture(t *testing.T, dir string) {
	t.Helper()
	writeFiles(t, dir, map[string]string{
		"logs/app.log": "2024-05-01T10:00:00Z INFO login user=lucy@example.com ip=203.0.113.7\n" +
			"2024-05-01T10:00:01Z INFO order 123456 shipped, tracking 1Z999AA10123456784\n" +
			"2024-05-01T10:00:02Z WARN payment failed card=4111 1111 1111 1111 phone +44 20 7946 0958\n",
		"logs/clean.log": "2024-05-01T10:00:00Z INFO started in 12ms, version 1.2.3.4\n",
		"export/customers.csv": "name,email,dob,national_id\n" +
			"Lucy,lucy@example.com,1985-03-12,11010519491231002X\n" +
			"Mina,mina.harker@example.org,1990-01-02,\n",
		"export/events.jsonl": `{"event":"signup","email":"jonathan@example.net"}` + "\n" +
			`{"event":"ping","latency_ms":12}` + "\n",
		"notes/readme.txt": "Nothing personal in here.\n",
		"bin/blob.bin":     "\x00\x01\x02\x03 lucy@example.com \x00",
	})
	makeScanDB(t, filepath.Join(dir, "app.db"))
}

type sealedCustomer struct {
	ID         string `pii:"id"`
	Email      string `pii:"email,search=EmailIndex"`
	EmailIndex string
	Phone      string `pii:"phone"`
}

// newTestProtector returns a Protector over an in-memory key ring, as the
// examples of package pii make one.
func newTestProtector(t *testing.T) *pii.Protector {
	t.Helper()
	ctx := context.Background()
	root := kms.NewRootKey(insecuremem.NewDriver(), kms.RootKeyOptions{})
	kr, err := kms.NewKeyring(root, insecuremem.NewStore(), kms.KeyringOptions{})
	require.NoError(t, err)
	require.NoError(t, kms.NewAdmin(kr).Ensure(ctx, pii.DefaultFieldKeyset, kms.PurposeAEAD))
	require.NoError(t, kms.NewAdmin(kr).Ensure(ctx, pii.DefaultSearchKeyset, kms.PurposePRF))
	p, err := pii.New(kr, pii.Options{Checker: access.InsecureAllowAll})
	require.NoError(t, err)
	return p
}

// makeScanDB makes an SQLite database with a plaintext table, a table
// sealed with package pii, a table half migrated and a table whose pages
// cannot be read.
func makeScanDB(t *testing.T, path string) {
	t.Helper()
	ctx := context.Background()
	db, err := sql.Open("sqlite", path)
	require.NoError(t, err)
	defer db.Close()
	exec := func(q string, args ...any) {
		t.Helper()
		_, err := db.ExecContext(ctx, q, args...)
		require.NoError(t, err, q)
	}
	exec(`CREATE TABLE customers (id INTEGER PRIMARY KEY, email TEXT, phone VARCHAR(32), dob TEXT, city TEXT, note BLOB, score REAL)`)
	exec(`INSERT INTO customers VALUES (1, 'lucy@example.com', '+44 20 7946 0958', '1985-03-12', 'Whitby', 'called back', 1.5)`)
	exec(`INSERT INTO customers VALUES (2, 'mina.harker@example.org', NULL, '1990-01-02', 'Exeter', NULL, 2)`)
	exec(`INSERT INTO customers VALUES (3, '', '', '', 'London', X'00FF', 3)`)

	p := newTestProtector(t)
	exec(`CREATE TABLE sealed_customers (id TEXT PRIMARY KEY, email TEXT, email_index TEXT, phone TEXT)`)
	exec(`CREATE TABLE migrating (id TEXT PRIMARY KEY, email TEXT)`)
	for i, c := range []sealedCustomer{
		{ID: "cus_1", Email: "lucy@example.com", Phone: "+44 20 7946 0958"},
		{ID: "cus_2", Email: "mina.harker@example.org", Phone: "+44 20 7946 0958"},
	} {
		plain := c.Email
		require.NoError(t, p.Seal(ctx, &c))
		require.True(t, strings.HasPrefix(c.Email, "pg1."))
		exec(`INSERT INTO sealed_customers VALUES (?, ?, ?, ?)`, c.ID, c.Email, c.EmailIndex, c.Phone)
		if i == 0 {
			exec(`INSERT INTO migrating VALUES (?, ?)`, c.ID, c.Email)
		} else {
			exec(`INSERT INTO migrating VALUES (?, ?)`, c.ID, plain)
		}
	}

	// A table whose schema names no page: reading it fails, as reading a
	// damaged table does; the other tables stay readable.
	exec(`PRAGMA writable_schema = ON`)
	exec(`INSERT INTO sqlite_schema (type, name, tbl_name, rootpage, sql) VALUES ('table', 'damaged', 'damaged', 0, 'CREATE TABLE damaged (a TEXT)')`)
}

func TestScanReportMatchesTheGoldenJSON(t *testing.T) {
	dir := t.TempDir()
	scanFixture(t, dir)
	t.Chdir(dir)
	out, errOut, code := scanCLI(t, "scan", "-json", ".", "sqlite:app.db")
	require.Equal(t, exitFound, code, errOut)
	assert.Contains(t, errOut, "personal data found unsealed in 3 files and 4 columns")

	var rep scanReport
	require.NoError(t, json.Unmarshal([]byte(out), &rep), out)
	assert.Equal(t, scanSchema, rep.Schema)

	golden := filepath.Join(packageDir, "testdata", "scan", "report.json")
	if *updateGolden {
		require.NoError(t, os.MkdirAll(filepath.Dir(golden), 0o755))
		require.NoError(t, os.WriteFile(golden, []byte(out), 0o644))
	}
	want, err := os.ReadFile(golden)
	require.NoError(t, err, "run go test -run TestScanReportMatchesTheGoldenJSON -update ./cmd/piiguard to write it")
	assert.Equal(t, string(want), out)
}

// packageDir is the directory the tests started in, the package's: tests
// that change directory find testdata through it.
var packageDir = func() string {
	wd, err := os.Getwd()
	if err != nil {
		panic(err)
	}
	return wd
}()

func TestScanTableOutput(t *testing.T) {
	dir := t.TempDir()
	scanFixture(t, dir)
	t.Chdir(dir)
	out, _, code := scanCLI(t, "scan", ".", "sqlite:app.db")
	require.Equal(t, exitFound, code)

	// Files with personal data, a row per kind, aligned.
	assert.Regexp(t, `(?m)^FILE\s+KIND\s+COUNT\s+FIRST`, out)
	assert.Regexp(t, `(?m)^logs/app\.log\s+email\s+1\s+1: \*\*\*@example\.com$`, out)
	assert.Regexp(t, `(?m)^logs/app\.log\s+card\s+1\s+3: \*\*\*\* \*\*\*\* \*\*\*\* 1111$`, out)
	assert.Regexp(t, `(?m)^export/customers\.csv\s+dob\s+2\s+2: \*\*\*\*-\*\*-\*\*, 3: \*\*\*\*-\*\*-\*\*$`, out)
	assert.NotContains(t, out, "clean.log")
	assert.NotContains(t, out, "tracking")

	// Columns: unsealed, partly sealed and sealed; clean ones left out.
	assert.Regexp(t, `(?m)^sqlite:app\.db\s+customers\s+email\s+unsealed\s+2\s+0\s+2\s+email 2\s+\*\*\*@example\.com, \*\*\*@example\.org$`, out)
	assert.Regexp(t, `(?m)^sqlite:app\.db\s+customers\s+dob\s+unsealed\s+2\s+0\s+2\s+dob 2\s`, out)
	assert.Regexp(t, `(?m)^sqlite:app\.db\s+customers\s+phone\s+unsealed\s+1\s+0\s+1\s+phone 1\s+\+\*\* \*\* \*\*\*\* \*\*58$`, out)
	assert.Regexp(t, `(?m)^sqlite:app\.db\s+migrating\s+email\s+partly-sealed\s+2\s+1\s+1\s`, out)
	assert.Regexp(t, `(?m)^sqlite:app\.db\s+sealed_customers\s+email\s+sealed\s+2\s+2\s+0\s+-\s+-$`, out)
	assert.Regexp(t, `(?m)^sqlite:app\.db\s+sealed_customers\s+email_index\s+sealed\s`, out)
	assert.NotRegexp(t, `(?m)\s+city\s+`, out)

	// Notes: the binary file, the damaged table.
	assert.Contains(t, out, "bin/blob.bin: skipped: binary (application/octet-stream)")
	assert.Contains(t, out, "app.db: skipped: an SQLite database: scan it as sqlite:PATH")
	assert.Regexp(t, `sqlite:app\.db: table damaged: error: .*malformed`, out)
	assert.Contains(t, out, "5 files scanned, 3 with personal data, 2 skipped; 1 database, 3 tables sampled: 3 columns unsealed, 1 partly sealed, 3 sealed; 1 error. Personal data found unsealed.")
	assert.NotRegexp(t, oneInThePluralRE, out)
}

func TestScanExitCodes(t *testing.T) {
	dir := t.TempDir()
	writeFiles(t, dir, map[string]string{
		"clean.log": "nothing to see\n",
		"pii.log":   "mail lucy@example.com\n",
	})
	clean, pii := filepath.Join(dir, "clean.log"), filepath.Join(dir, "pii.log")

	out, errOut, code := scanCLI(t, "scan", clean)
	assert.Equal(t, exitOK, code, errOut)
	assert.Contains(t, out, "1 file scanned, 0 with personal data, 0 skipped. No personal data found unsealed.")
	assert.Empty(t, errOut)

	_, errOut, code = scanCLI(t, "scan", clean, pii)
	assert.Equal(t, exitFound, code)
	assert.Equal(t, "piiguard: scan: personal data found unsealed in 1 file\n", errOut)

	_, errOut, code = scanCLI(t, "scan", clean, filepath.Join(dir, "missing.log"))
	assert.Equal(t, exitFailed, code)
	assert.Contains(t, errOut, "1 error while scanning (the report says where)")

	// Personal data found wins over an error elsewhere: it is certain.
	_, _, code = scanCLI(t, "scan", pii, filepath.Join(dir, "missing.log"))
	assert.Equal(t, exitFound, code)

	for _, args := range [][]string{
		{"scan"},
		{"scan", "-sample", "0", dir},
		{"scan", "-sample", "2000000", dir},
		{"scan", "-hits", "-1", dir},
		{"scan", "-max-bytes", "-5", dir},
		{"scan", "-min-confidence", "1.5", dir},
		{"scan", "-kinds", "email,shoe-size", dir},
		{"scan", "-progress", "sometimes", dir},
		{"scan", "sqlite:"},
	} {
		_, errOut, code := scanCLI(t, args...)
		assert.Equal(t, exitUsage, code, "%q: %s", args, errOut)
		assert.Contains(t, errOut, "piiguard help", "%q", args)
	}

	out, _, code = scanCLI(t, "scan", "-h")
	assert.Equal(t, exitOK, code)
	for _, f := range []string{"-json", "-max-bytes", "-max-files", "-sample", "-hits", "-tables", "-kinds", "-progress"} {
		assert.Contains(t, out, f)
	}
}

func TestScanBadInput(t *testing.T) {
	dir := t.TempDir()
	huge := strings.Repeat("x", 5<<20) + " tail lucy@example.com\nnext line +44 20 7946 0958\n"
	writeFiles(t, dir, map[string]string{
		"binary.dat":  "PK\x03\x04\x14\x00\x00\x00lucy@example.com",
		"gzip.gz":     "\x1f\x8b\x08\x00\x00\x00\x00\x00\x00\x03lucy@example.com",
		"latin1.txt":  "caf\xe9 au lait\nclient: lucy@example.com\n\xff\xfe\xfd\n",
		"cut.txt":     "ends in the middle of a rune \xe4\xb8",
		"huge.log":    huge,
		"utf16.txt":   "\xff\xfel\x00u\x00c\x00y\x00",
		"weird.csv":   "a,b\n\"unterminated,lucy@example.com\n",
		"empty.txt":   "",
		"chinese.log": "用户手机 13812345678，身份证 11010519491231002X\n",
	})
	out, errOut, code := scanCLI(t, "scan", "-json", dir)
	require.Equal(t, exitFound, code, errOut)
	var rep scanReport
	require.NoError(t, json.Unmarshal([]byte(out), &rep))
	files := map[string]fileReport{}
	for _, f := range rep.Files {
		files[filepath.Base(f.Path)] = f
	}

	assert.Equal(t, statusSkipped, files["binary.dat"].Status)
	assert.Equal(t, []string{"skipped: binary (application/zip)"}, files["binary.dat"].Notes)
	assert.Equal(t, []string{"skipped: binary (application/x-gzip)"}, files["gzip.gz"].Notes)
	assert.Equal(t, []string{"skipped: UTF-16 text (convert it to UTF-8 to scan it)"}, files["utf16.txt"].Notes)

	latin := files["latin1.txt"]
	assert.Equal(t, statusPII, latin.Status)
	assert.Equal(t, []string{"invalid UTF-8: 4 bytes, the first on line 1 (scanned as bytes)"}, latin.Notes)
	require.Len(t, latin.Findings, 1)
	assert.Equal(t, 2, latin.Findings[0].First[0].Line)
	assert.Equal(t, []string{"invalid UTF-8: 2 bytes, the first on line 1 (scanned as bytes)"}, files["cut.txt"].Notes)

	h := files["huge.log"]
	assert.Equal(t, statusPII, h.Status)
	assert.Equal(t, int64(len(huge)), h.Bytes)
	assert.Equal(t, []string{"long lines: line 1 is 5242902 bytes (scanned in bounded memory)"}, h.Notes)
	require.Len(t, h.Findings, 2)
	assert.Equal(t, finding{Kind: "email", Count: 1, First: []hit{{Line: 1, Masked: "***@example.com", Recognizer: "email", Confidence: h.Findings[0].First[0].Confidence}}}, h.Findings[0])
	assert.Equal(t, 2, h.Findings[1].First[0].Line)

	assert.Equal(t, statusClean, files["empty.txt"].Status)
	assert.Equal(t, statusPII, files["weird.csv"].Status)

	zh := files["chinese.log"]
	require.Len(t, zh.Findings, 2)
	assert.Equal(t, "phone", zh.Findings[0].Kind)
	assert.Equal(t, "cnid", zh.Findings[1].Kind)
	assert.Equal(t, "**************002X", zh.Findings[1].First[0].Masked)
}

func TestScanUnreadableFile(t *testing.T) {
	if os.Geteuid() == 0 {
		t.Skip("root reads files whatever their mode")
	}
	dir := t.TempDir()
	writeFiles(t, dir, map[string]string{"locked.log": "lucy@example.com\n", "ok.log": "fine\n"})
	require.NoError(t, os.Chmod(filepath.Join(dir, "locked.log"), 0))
	out, _, code := scanCLI(t, "scan", dir)
	assert.Equal(t, exitFailed, code)
	assert.Contains(t, out, "locked.log: error: open: permission denied")
}

// TestScanReadErrorIsReported: a file whose reading fails part way is an
// error in the report, with the offset, not a crash.
func TestScanReadErrorIsReported(t *testing.T) {
	d := detect.Default()
	s := &scanner{d: d, opts: scanOptions{hits: 3}, progress: noProgress{}}
	r := io.MultiReader(strings.NewReader("lucy@example.com\n"), iotest.ErrReader(errors.New("input/output error")))
	tr := newTracker(context.Background(), r, noProgress{})
	fc := newFindings(3)
	err := s.scanStream(tr, fc)
	require.Error(t, err)
	assert.Equal(t, "input/output error", err.Error())
	assert.Equal(t, int64(17), tr.n)
}

func TestScanMaxBytesAndMaxFiles(t *testing.T) {
	dir := t.TempDir()
	writeFiles(t, dir, map[string]string{
		"a.log": strings.Repeat("padding line\n", 100) + "lucy@example.com\n",
		"b.log": "mina.harker@example.org\n",
		"c.log": "jonathan@example.net\n",
	})
	out, _, code := scanCLI(t, "scan", "-json", "-max-bytes", "100", "-max-files", "2", dir)
	require.Equal(t, exitFound, code)
	var rep scanReport
	require.NoError(t, json.Unmarshal([]byte(out), &rep))
	require.Len(t, rep.Files, 2)
	a := rep.Files[0]
	assert.True(t, a.Truncated)
	assert.Equal(t, int64(100), a.Bytes)
	assert.Equal(t, statusClean, a.Status) // the value is past the limit
	assert.Equal(t, []string{"read the first 100 of 1317 bytes (-max-bytes)"}, a.Notes)
	assert.Equal(t, statusPII, rep.Files[1].Status)
	assert.Equal(t, []string{"stopped after 2 files (-max-files)"}, rep.Notes)
}

func TestScanKindsAndHits(t *testing.T) {
	dir := t.TempDir()
	writeFiles(t, dir, map[string]string{"a.log": strings.Repeat("lucy@example.com +44 20 7946 0958\n", 10)})
	out, _, code := scanCLI(t, "scan", "-json", "-kinds", "phone", "-hits", "1", dir)
	require.Equal(t, exitFound, code)
	var rep scanReport
	require.NoError(t, json.Unmarshal([]byte(out), &rep))
	require.Len(t, rep.Files[0].Findings, 1)
	f := rep.Files[0].Findings[0]
	assert.Equal(t, "phone", f.Kind)
	assert.Equal(t, 10, f.Count)
	assert.Len(t, f.First, 1)
}

// TestTrackerLinesAcrossBuffers: lines and values are right however the
// reads fall, for a file many times the tracker's buffer.
func TestTrackerLinesAcrossBuffers(t *testing.T) {
	var b strings.Builder
	want := map[int]bool{}
	for i := 1; i <= 40000; i++ {
		if i%997 == 0 {
			b.WriteString("contact lucy@example.com now\n")
			want[i] = true
		} else {
			b.WriteString("2024-05-01 INFO nothing here at all, request served in 12 ms\n")
		}
	}
	require.Greater(t, b.Len(), 4*trackerKeep)
	for _, r := range []io.Reader{strings.NewReader(b.String()), iotest.OneByteReader(strings.NewReader(b.String())), iotest.HalfReader(strings.NewReader(b.String()))} {
		tr := newTracker(context.Background(), r, noProgress{})
		sc := detect.Default().NewScanner(tr)
		got := map[int]bool{}
		for sc.Scan() {
			line, v, ok := tr.at(sc.Span())
			require.True(t, ok)
			assert.Equal(t, "lucy@example.com", string(v))
			got[line] = true
		}
		require.NoError(t, sc.Err())
		assert.Equal(t, want, got)
	}
}

func TestScanPostgresErrorsNeverShowThePassword(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	addr := l.Addr().String()
	require.NoError(t, l.Close())
	for _, dsn := range []string{
		"postgres://app:" + pgPassword + "@" + addr + "/crm?sslmode=disable&connect_timeout=2",
		"postgresql://app@" + addr + "/crm?sslmode=disable&connect_timeout=2&password=" + pgPassword,
		"postgres://app:" + pgPassword + "@[::1",
	} {
		out, errOut, code := scanCLI(t, "scan", dsn)
		assert.Equal(t, exitFailed, code, errOut)
		assert.Contains(t, out, "postgres:")
		assert.NotContains(t, out+errOut, "app:")
		assert.NotContains(t, out+errOut, "user=app", "the report names the database without its user")
	}
	out, _, _ := scanCLI(t, "scan", "postgres://app:"+pgPassword+"@"+addr+"/crm?sslmode=disable&connect_timeout=2")
	assert.Regexp(t, `(?m)^  postgres:`+regexp.QuoteMeta(addr)+`/crm: error: connect: .*connection refused$`, out)
	assert.Equal(t, 1, strings.Count(out, "connection refused"), "one line, each attempt once:\n%s", out)
}

func TestScanSQLiteIsOpenedReadOnly(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "app.db")
	makeScanDB(t, path)
	before, err := os.ReadFile(path)
	require.NoError(t, err)
	db, err := openSQLiteReadOnly(path)
	require.NoError(t, err)
	defer db.Close()
	_, err = db.Exec(`INSERT INTO customers (id) VALUES (9)`)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "readonly")
	after, err := os.ReadFile(path)
	require.NoError(t, err)
	assert.True(t, bytes.Equal(before, after))

	// A missing file is not created, and a file that is not SQLite is
	// said to be so.
	_, _, code := scanCLI(t, "scan", "sqlite:"+filepath.Join(dir, "missing.db"))
	assert.Equal(t, exitFailed, code)
	assert.NoFileExists(t, filepath.Join(dir, "missing.db"))
	writeFiles(t, dir, map[string]string{"notes.txt": "hello"})
	out, _, code := scanCLI(t, "scan", "sqlite:"+filepath.Join(dir, "notes.txt"))
	assert.Equal(t, exitFailed, code)
	assert.Contains(t, out, "error: not an SQLite database")
}

func TestScanTablesFlag(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "app.db")
	makeScanDB(t, path)
	out, _, code := scanCLI(t, "scan", "-json", "-tables", "sealed_customers,nope", "sqlite:"+path)
	assert.Equal(t, exitFailed, code) // nothing unsealed; one table missing
	var rep scanReport
	require.NoError(t, json.Unmarshal([]byte(out), &rep))
	require.Len(t, rep.Databases, 1)
	tables := rep.Databases[0].Tables
	require.Len(t, tables, 2)
	assert.Equal(t, "nope", tables[0].Table)
	assert.Equal(t, "no such table", tables[0].Error)
	assert.Equal(t, "sealed_customers", tables[1].Table)
	assert.Equal(t, 2, tables[1].RowsSampled)
	for _, c := range tables[1].Columns {
		if c.Name != "id" {
			assert.Equal(t, columnSealed, c.Status, c.Name)
		}
	}
}

func TestScanSampleBoundsTheRowsRead(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "app.db")
	makeScanDB(t, path)
	out, _, _ := scanCLI(t, "scan", "-json", "-sample", "1", "-tables", "customers", "sqlite:"+path)
	var rep scanReport
	require.NoError(t, json.Unmarshal([]byte(out), &rep))
	assert.Equal(t, 1, rep.Databases[0].Tables[0].RowsSampled)
}

func TestScanProgressGoesToStderrOnly(t *testing.T) {
	dir := t.TempDir()
	scanFixture(t, dir)
	out, errOut, code := scanCLI(t, "scan", "-json", "-progress", "always", dir, "sqlite:"+filepath.Join(dir, "app.db"))
	require.Equal(t, exitFound, code)
	var rep scanReport
	require.NoError(t, json.Unmarshal([]byte(out), &rep), "stdout is the report alone")
	assert.Contains(t, errOut, "scanning files")
	assert.Contains(t, errOut, "sampling sqlite:")

	// A buffer is not a terminal: auto shows nothing.
	_, errOut, _ = scanCLI(t, "scan", "-json", dir)
	assert.Equal(t, "piiguard: scan: personal data found unsealed in 3 files\n", errOut)
}

func TestSealedValuesAreRecognised(t *testing.T) {
	for _, v := range []string{
		"pg1.AQAAAAEAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
		"pg2.AQAAAAE",
		"bi1.0a1b2c3d.AbC-_",
		"th1_0a1b2c3d_abcd_mfrggzdfmztwq2lk",
		"tv1_abcd_mfrggzdfmztwq2lknnwg23tpobyxe",
	} {
		assert.True(t, sealedRE.MatchString(v), v)
	}
	for _, v := range []string{"pg1.", "pg1.has space", "lucy@example.com", "bi1.xyz.abc", "PG1.ABC", "th1_ABC"} {
		assert.False(t, sealedRE.MatchString(v), v)
	}
}

func TestUsageDescribesScan(t *testing.T) {
	assert.Contains(t, usageText, "piiguard scan [-json] ")
	for _, f := range []string{"-max-bytes", "-max-files", "-sample", "-hits", "-tables", "-kinds", "-min-confidence", "-progress"} {
		assert.Contains(t, usageText, f, "usage does not mention scan %s", f)
	}
	assert.Contains(t, usageText, "3 scan found")
	assert.Contains(t, docSection(t, "Scanning for personal data"), `schema "piiguard.scan/v1"`)
}
