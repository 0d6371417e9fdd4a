package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/piiguard/piiguard/audit"
)

// TestProgram runs the program as `go run` would, keeping its audit log, and
// checks what it prints and what the log holds.
func TestProgram(t *testing.T) {
	dir := t.TempDir()
	var stdout, stderr bytes.Buffer
	code := realMain([]string{"-dir", dir}, &stdout, &stderr)
	require.Equal(t, 0, code, stderr.String())
	out := stdout.String()
	for _, want := range []string{
		"keys: in-memory root key and key store (demo only",
		// The sales rep: her own customer, a colleague's (masked), another tenant's.
		`cus_1001: Name="Lucy Westenra" Email="lucy.westenra@example.com" Phone="+44 20 7946 8000" NationalID=""`,
		`cus_1002: Name="A. H." Email="a***@example.com" Phone="*** **** 8001" NationalID=""`,
		`cus_1003: Name="" Email="" Phone="" NationalID=""`,
		// MFA-gated national ID.
		`"show national ID" (strict): pii: Customer.NationalID: access: denied: no rule allows this request; rule "support-national-id-after-mfa" requires MFA within 10m0s`,
		`cus_1001: Name="Lucy Westenra" Email="lucy.westenra@example.com" Phone="+44 20 7946 8000" NationalID="11010519491231002X"`,
		// A denial without a principal.
		"pii: Customer.Name: access: no principal",
		// Break-glass with an alert.
		`ALERT (paging security): van.helsing broke glass on cus_1001, fields Name,Email,Phone,NationalID: break-glass: allowed by rule "oncall-break-glass"`,
		`stated reason: "INC-4711 suspected account takeover"`,
		// The chain verifies; the incident query answers.
		"intact: 12 records, 3 signed checkpoints",
		"saw the national ID in the clear: 2 principals (seward after MFA, van.helsing by break-glass): true",
		// Tampering is caught.
		"verify: audit: log tampered at line ",
		"MAC mismatch: record modified",
	} {
		assert.Contains(t, out, want)
	}
	for _, re := range []string{
		`(?m)^mina +req-1 +allow Name,Email,Phone +allowed by rule "sales-rep-own-customers"$`,
		`(?m)^seward +req-5 +deny +NationalID +no rule allows this request; rule "support-national-id-after-mfa" requires MFA within 10m0s$`,
		`(?m)^seward +req-6 +allow Name,Email,Phone,NationalID +allowed by rule "support-contact" \| allowed by rule "support-national-id-after-mfa"$`,
		`(?m)^ +req-7 +deny +Name +no principal$`,
		`(?m)^van\.helsing +req-8 +allow Name,Email,Phone,NationalID +break-glass`,
	} {
		assert.Regexp(t, regexp.MustCompile(re), out)
	}
	assert.NotContains(t, out, "cus_1002 allow", "the incident query is about cus_1001 only")
	m := regexp.MustCompile(`first bad record: line (\d+), seq (\d+) \(the (\d+) records before it verify\)`).FindStringSubmatch(out)
	require.NotNil(t, m, out)
	assert.NotEqual(t, "1", m[1], "the tampered record is not the first")

	// The log holds every decision and no personal data.
	log, err := os.ReadFile(filepath.Join(dir, "audit.jsonl"))
	require.NoError(t, err)
	for _, s := range []string{"Westenra", "lucy.westenra", "Holmwood", "arthur@", "Quincey", "7946", "11010519491231002X", "AB123456C", "078-05-1120", "Whitby"} {
		assert.NotContains(t, string(log), s)
	}
	events, err := audit.QueryFiles(context.Background(), filepath.Join(dir, "audit.jsonl"), audit.Query{})
	require.NoError(t, err)
	require.Len(t, events, 12, "11 decision events (7 Opens) and one search")
	var search int
	for _, e := range events {
		if e.Action == audit.ActionSearch {
			search++
			assert.Equal(t, "mina", e.Actor)
			assert.Equal(t, "Email", e.Field)
		}
	}
	assert.Equal(t, 1, search)
	tampered, err := os.ReadFile(filepath.Join(dir, "audit-tampered.jsonl"))
	require.NoError(t, err)
	assert.Equal(t, 1, strings.Count(string(tampered), `"actor":"renfield"`))
}

// TestProgramWithPolicyFile loads the policy from this folder's file rather
// than the built-in copy, in a temporary folder removed at exit.
func TestProgramWithPolicyFile(t *testing.T) {
	var stdout, stderr bytes.Buffer
	require.Equal(t, 0, realMain([]string{"-policy", "policy.yaml"}, &stdout, &stderr), stderr.String())
	assert.Contains(t, stdout.String(), "intact: 12 records")
}

func TestProgramErrors(t *testing.T) {
	var stdout, stderr bytes.Buffer
	assert.Equal(t, 2, realMain([]string{"-nope"}, &stdout, &stderr))

	bad := filepath.Join(t.TempDir(), "bad.yaml")
	require.NoError(t, os.WriteFile(bad, []byte("version: 1\nroles: [a]\nrules:\n  - name: r\n    effect: allow\n    roles: [b]\n    actions: [reveal]\n"), 0o600))
	stderr.Reset()
	assert.Equal(t, 1, realMain([]string{"-policy", bad}, &stdout, &stderr))
	assert.Contains(t, stderr.String(), `crm-access: access: invalid policy: rule "r" (line 6)`)
}

// TestPolicyFileMatchesTheBuiltInCopy: the program embeds policy.yaml.
func TestPolicyFileMatchesTheBuiltInCopy(t *testing.T) {
	b, err := os.ReadFile("policy.yaml")
	require.NoError(t, err)
	assert.Equal(t, string(b), string(defaultPolicy))
}

// TestProgramRefusesALogOfAnEarlierRun: a second run in the same folder
// cannot continue a chain made under keys that lived in memory; it stops
// and leaves the log as it was.
func TestProgramRefusesALogOfAnEarlierRun(t *testing.T) {
	dir := t.TempDir()
	var stdout, stderr bytes.Buffer
	require.Equal(t, 0, realMain([]string{"-dir", dir}, &stdout, &stderr), stderr.String())
	entries, err := os.ReadDir(dir)
	require.NoError(t, err)
	snap := map[string][]byte{}
	for _, e := range entries {
		b, err := os.ReadFile(filepath.Join(dir, e.Name()))
		require.NoError(t, err)
		snap[e.Name()] = b
	}
	stderr.Reset()
	assert.Equal(t, 1, realMain([]string{"-dir", dir}, &stdout, &stderr))
	assert.Contains(t, stderr.String(), "use an empty -dir")
	for name, b := range snap {
		got, err := os.ReadFile(filepath.Join(dir, name))
		require.NoError(t, err)
		assert.Equal(t, b, got, name)
	}
}
