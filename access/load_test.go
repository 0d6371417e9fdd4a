package access_test

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/piiguard/piiguard/access"
)

const validYAML = `version: 1
roles: [support]
rules:
  - name: r
    effect: allow
    roles: [support]
    actions: [reveal]
`

func TestParsePolicyYAMLErrorsNameTheRuleAndTheLine(t *testing.T) {
	head := "version: 1\nroles: [support, billing]\npurposes: [sales]\nrules:\n"
	tests := []struct {
		name     string
		doc      string
		rule     string
		line     int
		sentinel error
		msg      string
	}{
		{"unknown role", head + "  - name: r1\n    effect: allow\n    roles: [support]\n    actions: [reveal]\n  - name: r2\n    effect: allow\n    roles:\n      - billing\n      - salse\n    actions: [reveal]\n",
			"r2", 13, access.ErrUnknownRole, `unknown role "salse"`},
		{"unknown action", head + "  - name: r1\n    effect: allow\n    roles: [support]\n    actions: [reveal, read]\n",
			"r1", 8, access.ErrUnknownAction, `unknown action "read"`},
		{"unknown purpose", head + "  - name: r1\n    effect: allow\n    roles: [support]\n    actions: [reveal]\n    purposes: [support, fun]\n",
			"r1", 9, access.ErrUnknownPurpose, `unknown purpose "fun"`},
		{"unknown key", head + "  - name: r1\n    effect: allow\n    role: [support]\n",
			"r1", 7, nil, `unknown key "role"`},
		{"duplicate key", head + "  - name: r1\n    effect: allow\n    effect: deny\n",
			"r1", 7, nil, `duplicate key "effect"`},
		{"bad effect", head + "  - name: r1\n    effect: permit\n",
			"r1", 6, nil, `effect "permit": want allow, mask or deny`},
		{"missing effect", head + "  - name: r1\n    roles: [support]\n",
			"r1", 5, nil, "missing effect"},
		{"missing roles", head + "  - name: r1\n    effect: allow\n    actions: [reveal]\n",
			"r1", 5, nil, "missing roles"},
		{"unnamed rule", head + "  - effect: allow\n    roles: [support]\n    actions: [reveal]\n",
			"#1", 5, nil, "missing name"},
		{"bad name keeps number", head + "  - name: 'a b'\n    effect: allow\n",
			"#1", 5, nil, `name "a b"`},
		{"duplicate name", head + "  - {name: r1, effect: allow, roles: [support], actions: [reveal]}\n  - {name: r1, effect: allow, roles: [support], actions: [reveal]}\n",
			"r1", 6, nil, "duplicate rule name"},
		{"roles not a list", head + "  - name: r1\n    effect: allow\n    roles: support\n",
			"r1", 7, nil, "roles must be a list, not a string"},
		{"role not a string", head + "  - name: r1\n    effect: allow\n    roles: [[support]]\n",
			"r1", 7, nil, "roles items must be a string, not a list"},
		{"bool not a bool", head + "  - name: r1\n    effect: allow\n    owner_only: yes\n",
			"r1", 7, nil, "owner_only must be true or false, not a string"},
		{"bad duration", head + "  - name: r1\n    effect: allow\n    mfa_within: soon\n",
			"r1", 7, nil, `mfa_within "soon"`},
		{"zero duration", head + "  - name: r1\n    effect: allow\n    mfa_within: 0s\n",
			"r1", 7, nil, "want a positive duration"},
		{"attributes not a map", head + "  - name: r1\n    effect: allow\n    attributes: [eu]\n",
			"r1", 7, nil, "attributes must be a mapping"},
		{"attribute not a string", head + "  - name: r1\n    effect: allow\n    attributes: {region: [eu]}\n",
			"r1", 7, nil, `attribute "region" must be a string`},
		{"duplicate attribute", head + "  - name: r1\n    effect: allow\n    attributes: {region: eu, region: us}\n",
			"r1", 7, nil, `duplicate attribute "region"`},
		{"break glass on mask", head + "  - name: r1\n    effect: mask\n    roles: [support]\n    actions: [reveal]\n    break_glass: true\n",
			"r1", 9, nil, "break_glass is only allowed on an allow rule"},
		{"mask for search", head + "  - name: r1\n    effect: mask\n    roles: [support]\n    actions: [search]\n",
			"r1", 8, nil, "reveal and export only"},
		{"empty field", head + "  - name: r1\n    effect: allow\n    roles: [support]\n    actions: [reveal]\n    fields: [Email, '']\n",
			"r1", 9, nil, "empty name"},
		{"rule not a mapping", head + "  - just a string\n",
			"#1", 5, nil, "a rule must be a mapping"},
		{"rules not a list", head[:len(head)-1] + " {}\n",
			"", 4, nil, "rules must be a list, not a mapping"},
		{"missing rules", "version: 1\nroles: [a]\n", "", 1, nil, "missing rules"},
		{"missing version", "roles: [a]\nrules: []\n", "", 1, nil, "missing version"},
		{"bad version", "version: 2\nroles: [a]\nrules: []\n", "", 1, nil, "unsupported version"},
		{"missing roles declaration", "version: 1\nrules: []\n", "", 1, nil, "missing roles"},
		{"empty roles declaration", "version: 1\nroles: []\nrules: []\n", "", 2, nil, "declare at least one role"},
		{"wildcard role declared", "version: 1\nroles: [a, '*']\nrules: []\n", "", 2, nil, `invalid role name "*"`},
		{"role declared twice", "version: 1\nroles:\n  - a\n  - a\nrules: []\n", "", 4, nil, `role "a" declared twice`},
		{"purposes not a list", "version: 1\nroles: [a]\npurposes: x\nrules: []\n", "", 3, nil, "purposes must be a list"},
		{"unknown top key", "version: 1\nroles: [a]\nrulez: []\n", "", 3, nil, `unknown key "rulez"`},
		{"not a mapping", "- a\n- b\n", "", 1, nil, "a policy must be a mapping"},
		{"empty", "", "", 0, nil, "empty policy file"},
		{"comment only", "# nothing\n", "", 0, nil, "empty policy file"},
		{"syntax error", "version: 1\nroles: [a\nrules: []\n", "", 0, nil, "YAML:"},
		{"tab indentation", "version: 1\n\troles: [a]\n", "", 2, nil, "YAML:"},
		{"two documents", validYAML + "---\nversion: 1\n", "", 8, nil, "more than one YAML document"},
		{"anchor", "version: 1\nroles: &r [a]\nrules: []\n", "", 2, nil, "anchors and aliases"},
		{"alias", "version: 1\nroles: [a]\nx: &x 1\n", "", 3, nil, "anchors and aliases"},
		{"merge key", "version: 1\nroles: [a]\nrules:\n  - <<: {name: r}\n", "", 4, nil, "merge keys"},
		{"timestamp tag", "version: 1\nroles: [2001-12-14]\nrules: []\n", "", 2, nil, "unsupported YAML tag"},
		{"null key", "version: 1\nroles: [a]\n~: 1\n", "", 3, nil, "a mapping key must be a name"},
		{"too deep", "version: 1\nroles: [a]\nrules: [[[[[[[[[[a]]]]]]]]]]\n", "", 3, nil, "nested too deeply"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := access.ParsePolicyYAML([]byte(tt.doc), access.PolicyOptions{})
			require.Error(t, err)
			require.ErrorIs(t, err, access.ErrInvalidPolicy)
			if tt.sentinel != nil {
				require.ErrorIs(t, err, tt.sentinel)
			}
			var pe *access.PolicyError
			require.ErrorAs(t, err, &pe)
			assert.Equal(t, tt.rule, pe.Rule, "rule")
			if tt.line > 0 {
				assert.Equal(t, tt.line, pe.Line, "line; error: %v", err)
			}
			assert.Contains(t, pe.Msg, tt.msg)
		})
	}
}

func TestParsePolicyJSONErrorsNameTheRuleAndTheLine(t *testing.T) {
	head := "{\n  \"version\": 1,\n  \"roles\": [\"support\"],\n  \"rules\": [\n"
	tests := []struct {
		name     string
		doc      string
		rule     string
		line     int
		sentinel error
		msg      string
	}{
		{"unknown role", head + "    {\n      \"name\": \"r1\",\n      \"effect\": \"allow\",\n      \"roles\": [\n        \"support\",\n        \"salse\"\n      ],\n      \"actions\": [\"reveal\"]\n    }\n  ]\n}\n",
			"r1", 10, access.ErrUnknownRole, `unknown role "salse"`},
		{"unknown action", head + "    {\"name\": \"r1\", \"effect\": \"allow\", \"roles\": [\"support\"],\n     \"actions\": [\"reveal\", \"read\"]}\n  ]\n}\n",
			"r1", 6, access.ErrUnknownAction, `unknown action "read"`},
		{"unknown key", head + "    {\"name\": \"r1\",\n     \"rolez\": []}\n  ]\n}\n",
			"r1", 6, nil, `unknown key "rolez"`},
		{"number as bool", head + "    {\"name\": \"r1\", \"effect\": \"allow\",\n     \"owner_only\": 1}\n  ]\n}\n",
			"r1", 6, nil, "owner_only must be true or false, not a int"},
		{"null effect", head + "    {\"name\": \"r1\",\n     \"effect\": null}\n  ]\n}\n",
			"r1", 6, nil, "effect must be a string, not a null"},
		{"float version", "{\"version\": 1.5, \"roles\": [\"a\"], \"rules\": []}", "", 1, nil, "unsupported version"},
		{"string version", "{\"version\": \"1\", \"roles\": [\"a\"], \"rules\": []}", "", 1, nil, "unsupported version"},
		{"syntax error", "{\n  \"version\": 1,\n  \"roles\": [\"a\"]\n  \"rules\": []\n}", "", 4, nil, "JSON:"},
		{"truncated", "{\n  \"version\": 1,\n", "", 0, nil, "JSON: unexpected end of input"},
		{"trailing data", validJSON + "\n{}", "", 0, nil, "data after the policy object"},
		{"empty", "", "", 0, nil, "JSON"},
		{"array root", "[]", "", 1, nil, "a policy must be a mapping"},
		{"too deep", "{\"version\": 1, \"roles\": [\"a\"], \"rules\": [[[[[[[[[[[]]]]]]]]]]]}", "", 1, nil, "nested too deeply"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := access.ParsePolicyJSON([]byte(tt.doc), access.PolicyOptions{})
			require.ErrorIs(t, err, access.ErrInvalidPolicy)
			if tt.sentinel != nil {
				require.ErrorIs(t, err, tt.sentinel)
			}
			var pe *access.PolicyError
			require.ErrorAs(t, err, &pe)
			assert.Equal(t, tt.rule, pe.Rule, "rule")
			if tt.line > 0 {
				assert.Equal(t, tt.line, pe.Line, "line; error: %v", err)
			}
			assert.Contains(t, pe.Msg, tt.msg)
		})
	}
}

const validJSON = `{"version": 1, "roles": ["support"], "rules": [{"name": "r", "effect": "allow", "roles": ["support"], "actions": ["reveal"]}]}`

func TestPolicyErrorMessage(t *testing.T) {
	_, err := access.ParsePolicyYAML([]byte("version: 1\nroles: [a]\nrules:\n  - name: x\n    effect: allow\n    roles: [b]\n    actions: [reveal]\n"), access.PolicyOptions{})
	assert.EqualError(t, err, `access: invalid policy: rule "x" (line 6): unknown role "b"`)
	_, err = access.ParsePolicyYAML([]byte("version: 3\nroles: [a]\nrules: []\n"), access.PolicyOptions{})
	assert.EqualError(t, err, `access: invalid policy: line 1: unsupported version (want 1)`)
	assert.EqualError(t, &access.PolicyError{Msg: "m"}, "access: invalid policy: m")
}

func TestLoadPolicyReadsBothFormats(t *testing.T) {
	p, err := access.LoadPolicy(strings.NewReader(validYAML), access.FormatYAML, access.PolicyOptions{})
	require.NoError(t, err)
	assert.Len(t, p.Rules(), 1)
	p, err = access.LoadPolicy(strings.NewReader(validJSON), access.FormatJSON, access.PolicyOptions{})
	require.NoError(t, err)
	assert.Len(t, p.Rules(), 1)
	_, err = access.LoadPolicy(strings.NewReader(validJSON), access.Format(9), access.PolicyOptions{})
	require.ErrorIs(t, err, access.ErrInvalidPolicy)
	_, err = access.LoadPolicy(iotestErrReader{}, access.FormatJSON, access.PolicyOptions{})
	require.ErrorIs(t, err, access.ErrInvalidPolicy)
}

type iotestErrReader struct{}

func (iotestErrReader) Read([]byte) (int, error) { return 0, errors.New("disk on fire") }

func TestLoadPolicyRejectsOversizedInput(t *testing.T) {
	big := bytes.Repeat([]byte("#"), access.MaxPolicySize+1)
	_, err := access.LoadPolicy(bytes.NewReader(big), access.FormatYAML, access.PolicyOptions{})
	require.ErrorIs(t, err, access.ErrInvalidPolicy)
	assert.Contains(t, err.Error(), "larger than")
	_, err = access.ParsePolicyJSON(big, access.PolicyOptions{})
	require.ErrorIs(t, err, access.ErrInvalidPolicy)
}

func TestLoadPolicyFile(t *testing.T) {
	dir := t.TempDir()
	yml := filepath.Join(dir, "p.yml")
	require.NoError(t, os.WriteFile(yml, []byte(validYAML), 0o600))
	_, err := access.LoadPolicyFile(yml, access.PolicyOptions{})
	require.NoError(t, err)
	_, err = access.LoadPolicyFile(filepath.Join(dir, "p.toml"), access.PolicyOptions{})
	require.ErrorIs(t, err, access.ErrInvalidPolicy)
	_, err = access.LoadPolicyFile(filepath.Join(dir, "missing.json"), access.PolicyOptions{})
	require.ErrorIs(t, err, access.ErrInvalidPolicy)
	require.ErrorIs(t, err, os.ErrNotExist)
}

func TestPolicyFileRolesAddToOptionRoles(t *testing.T) {
	doc := "version: 1\nroles: [a]\nrules:\n  - {name: r, effect: allow, roles: [a, extra], actions: [reveal]}\n"
	_, err := access.ParsePolicyYAML([]byte(doc), access.PolicyOptions{})
	require.ErrorIs(t, err, access.ErrUnknownRole)
	_, err = access.ParsePolicyYAML([]byte(doc), access.PolicyOptions{Roles: []string{"extra"}})
	require.NoError(t, err)
}

func TestNullMembersAreAbsent(t *testing.T) {
	doc := "version: 1\nroles: [a]\npurposes:\nrules:\n  - name: r\n    description: all\n    effect: allow\n    roles: [a]\n    actions: [reveal]\n    fields:\n    owner_only:\n    attributes:\n"
	p, err := access.ParsePolicyYAML([]byte(doc), access.PolicyOptions{})
	require.NoError(t, err)
	r := p.Rules()[0]
	assert.Nil(t, r.Fields)
	assert.False(t, r.OwnerOnly)
	assert.Nil(t, r.Attributes)
}

func TestFormatString(t *testing.T) {
	assert.Equal(t, "yaml", access.FormatYAML.String())
	assert.Equal(t, "json", access.FormatJSON.String())
	assert.Equal(t, "Format(0)", access.Format(0).String())
}
