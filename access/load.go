package access

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"
)

// Format is the syntax of a policy file.
type Format int

// Policy file formats.
const (
	FormatYAML Format = iota + 1
	FormatJSON
)

// String returns "yaml" or "json".
func (f Format) String() string {
	switch f {
	case FormatYAML:
		return "yaml"
	case FormatJSON:
		return "json"
	}
	return "Format(" + strconv.Itoa(int(f)) + ")"
}

// MaxPolicySize is the largest policy file the loaders read, in bytes.
const MaxPolicySize = 1 << 20

// maxDepth bounds the nesting of a policy file; the grammar needs 4.
const maxDepth = 8

// LoadPolicy reads a policy file in format f from r (at most MaxPolicySize
// bytes) and compiles it. See ParsePolicyYAML.
func LoadPolicy(r io.Reader, f Format, opts PolicyOptions) (*Policy, error) {
	data, err := io.ReadAll(io.LimitReader(r, MaxPolicySize+1))
	if err != nil {
		return nil, fmt.Errorf("%w: reading: %w", ErrInvalidPolicy, err)
	}
	switch f {
	case FormatYAML:
		return ParsePolicyYAML(data, opts)
	case FormatJSON:
		return ParsePolicyJSON(data, opts)
	}
	return nil, fmt.Errorf("%w: unknown format %v", ErrInvalidPolicy, f)
}

// LoadPolicyFile reads and compiles the policy file name, in YAML if its
// name ends in ".yaml" or ".yml" and in JSON if it ends in ".json".
func LoadPolicyFile(name string, opts PolicyOptions) (*Policy, error) {
	var f Format
	switch strings.ToLower(filepath.Ext(name)) {
	case ".yaml", ".yml":
		f = FormatYAML
	case ".json":
		f = FormatJSON
	default:
		return nil, fmt.Errorf("%w: %s: unknown file extension (want .yaml, .yml or .json)", ErrInvalidPolicy, filepath.Base(name))
	}
	file, err := os.Open(name)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrInvalidPolicy, err)
	}
	defer file.Close()
	return LoadPolicy(file, f, opts)
}

// ParsePolicyYAML compiles the YAML policy document data. The grammar is in
// the package documentation. Errors are *PolicyError values that name the
// rule and the line at fault and wrap ErrInvalidPolicy. Anchors, aliases and
// merge keys are not supported; only the first document is read and a
// second one is an error.
func ParsePolicyYAML(data []byte, opts PolicyOptions) (*Policy, error) {
	if len(data) > MaxPolicySize {
		return nil, &PolicyError{Msg: "policy file larger than " + strconv.Itoa(MaxPolicySize) + " bytes"}
	}
	dec := yaml.NewDecoder(bytes.NewReader(data))
	var doc yaml.Node
	if err := dec.Decode(&doc); err != nil {
		if errors.Is(err, io.EOF) {
			return nil, &PolicyError{Msg: "empty policy file"}
		}
		return nil, yamlError(err)
	}
	var extra yaml.Node
	if err := dec.Decode(&extra); err == nil {
		return nil, &PolicyError{Line: extra.Line, Msg: "more than one YAML document"}
	} else if !errors.Is(err, io.EOF) {
		return nil, yamlError(err)
	}
	root, err := fromYAML(&doc, 0)
	if err != nil {
		return nil, err
	}
	return parseTree(root, opts)
}

// ParsePolicyJSON compiles the JSON policy document data. It has the same
// grammar as the YAML form (see the package documentation) and its errors
// name the rule and the line at fault like those of ParsePolicyYAML.
func ParsePolicyJSON(data []byte, opts PolicyOptions) (*Policy, error) {
	if len(data) > MaxPolicySize {
		return nil, &PolicyError{Msg: "policy file larger than " + strconv.Itoa(MaxPolicySize) + " bytes"}
	}
	jp := &jsonParser{dec: json.NewDecoder(bytes.NewReader(data)), lines: newLineIndex(data)}
	jp.dec.UseNumber()
	root, err := jp.value(0)
	if err != nil {
		return nil, err
	}
	if _, err := jp.dec.Token(); !errors.Is(err, io.EOF) {
		return nil, &PolicyError{Line: jp.lines.line(jp.dec.InputOffset()), Msg: "data after the policy object"}
	}
	return parseTree(root, opts)
}

// ruleKeys are the members a rule may have.
var ruleKeys = map[string]bool{
	"name": true, "description": true, "effect": true, "roles": true, "actions": true,
	"record_types": true, "fields": true, "kinds": true, "classes": true,
	"owner_only": true, "same_tenant": true, "purposes": true, "mfa_within": true,
	"attributes": true, "break_glass": true,
}

// ruleNodes remembers where a rule's members are, to put lines in errors.
type ruleNodes struct {
	line int
	keys map[string]*node // key node per member
	vals map[string]*node // value node per member
}

// lineOf returns the line for an error about member key, item item.
func (rn *ruleNodes) lineOf(key string, item int) int {
	v, ok := rn.vals[key]
	if !ok {
		return rn.line
	}
	if item >= 0 && v.kind == seqNode && item < len(v.items) {
		return v.items[item].line
	}
	return rn.keys[key].line
}

// parseTree turns a parse tree into a Policy.
func parseTree(root *node, opts PolicyOptions) (*Policy, error) {
	if root.kind != mapNode {
		return nil, &PolicyError{Line: root.line, Msg: "a policy must be a mapping with version, roles and rules"}
	}
	top, err := members(root, "", map[string]bool{"version": true, "roles": true, "purposes": true, "rules": true, "description": true})
	if err != nil {
		return nil, err
	}
	v, ok := top["version"]
	if !ok {
		return nil, &PolicyError{Line: root.line, Msg: "missing version (want version: 1)"}
	}
	if v.kind != scalarNode || v.tag != "int" || v.value != "1" {
		return nil, &PolicyError{Line: v.line, Msg: "unsupported version (want 1)"}
	}
	rolesNode, ok := top["roles"]
	if !ok || rolesNode.isNull() {
		return nil, &PolicyError{Line: root.line, Msg: "missing roles: the policy must declare its roles"}
	}
	declared, err := declaredNames(rolesNode, "", "role")
	if err != nil {
		return nil, err
	}
	if len(declared) == 0 {
		return nil, &PolicyError{Line: rolesNode.line, Msg: "roles: declare at least one role"}
	}
	roles := append(append([]string(nil), opts.Roles...), declared...)
	purposes := append([]Purpose(nil), opts.Purposes...)
	if pn, ok := top["purposes"]; ok && !pn.isNull() {
		ps, err := declaredNames(pn, "", "purpose")
		if err != nil {
			return nil, err
		}
		for _, p := range ps {
			purposes = append(purposes, Purpose(p))
		}
	}
	rulesNode, ok := top["rules"]
	if !ok || rulesNode.isNull() {
		return nil, &PolicyError{Line: root.line, Msg: "missing rules"}
	}
	if rulesNode.kind != seqNode {
		return nil, &PolicyError{Line: rulesNode.line, Msg: "rules must be a list, not " + rulesNode.describe()}
	}
	rules := make([]Rule, 0, len(rulesNode.items))
	where := make([]*ruleNodes, 0, len(rulesNode.items))
	for i, rn := range rulesNode.items {
		r, pos, err := parseRule(i, rn)
		if err != nil {
			return nil, err
		}
		rules = append(rules, r)
		where = append(where, pos)
	}
	env := newValidationEnv(roles, purposes)
	if err := env.validateRules(rules); err != nil {
		var pe *PolicyError
		if errors.As(err, &pe) && pe.index < len(where) {
			pe.Line = where[pe.index].lineOf(pe.key, pe.item)
		}
		return nil, err
	}
	return compile(rules, opts.Now), nil
}

// members checks a mapping's keys against allowed (reporting unknown and
// duplicate keys against rule) and returns its values by key.
func members(m *node, rule string, allowed map[string]bool) (map[string]*node, error) {
	out := make(map[string]*node, len(m.keys))
	for i, k := range m.keys {
		if !allowed[k.value] {
			return nil, &PolicyError{Rule: rule, Line: k.line, Msg: fmt.Sprintf("unknown key %q", truncate(k.value))}
		}
		if _, dup := out[k.value]; dup {
			return nil, &PolicyError{Rule: rule, Line: k.line, Msg: fmt.Sprintf("duplicate key %q", k.value)}
		}
		out[k.value] = m.vals[i]
	}
	return out, nil
}

// declaredNames reads a list of unique, non-empty names other than "*".
func declaredNames(n *node, rule, what string) ([]string, error) {
	names, err := stringList(n, rule, what+"s")
	if err != nil {
		return nil, err
	}
	seen := make(map[string]bool, len(names))
	for i, s := range names {
		switch {
		case s == "" || s == Wildcard:
			return nil, &PolicyError{Rule: rule, Line: n.items[i].line, Msg: fmt.Sprintf("invalid %s name %q", what, s)}
		case seen[s]:
			return nil, &PolicyError{Rule: rule, Line: n.items[i].line, Msg: fmt.Sprintf("%s %q declared twice", what, truncate(s))}
		}
		seen[s] = true
	}
	return names, nil
}

func scalarString(n *node, rule, key string) (string, error) {
	if n.kind != scalarNode || n.tag == "null" {
		return "", &PolicyError{Rule: rule, Line: n.line, Msg: fmt.Sprintf("%s must be a string, not %s", key, n.describe())}
	}
	return n.value, nil
}

func stringList(n *node, rule, key string) ([]string, error) {
	if n.isNull() {
		return nil, nil
	}
	if n.kind != seqNode {
		return nil, &PolicyError{Rule: rule, Line: n.line, Msg: fmt.Sprintf("%s must be a list, not %s", key, n.describe())}
	}
	out := make([]string, len(n.items))
	for i, it := range n.items {
		s, err := scalarString(it, rule, key+" items")
		if err != nil {
			return nil, err
		}
		out[i] = s
	}
	return out, nil
}

func boolValue(n *node, rule, key string) (bool, error) {
	if n.isNull() {
		return false, nil
	}
	if n.kind != scalarNode || n.tag != "bool" {
		return false, &PolicyError{Rule: rule, Line: n.line, Msg: fmt.Sprintf("%s must be true or false, not %s", key, n.describe())}
	}
	return n.value == "true", nil
}

// parseRule reads rule number i (0-based) from n. It checks the rule's shape
// and types; what its names mean is checked by validateRules.
func parseRule(i int, n *node) (Rule, *ruleNodes, error) {
	var r Rule
	label := "#" + strconv.Itoa(i+1)
	if n.kind != mapNode {
		return r, nil, &PolicyError{Rule: label, Line: n.line, Msg: "a rule must be a mapping, not " + n.describe()}
	}
	// Find the name first, so that every later error can use it.
	for j, k := range n.keys {
		if k.value == "name" {
			if s, err := scalarString(n.vals[j], label, "name"); err == nil && validName(s) {
				label = s
			}
			break
		}
	}
	m, err := members(n, label, ruleKeys)
	if err != nil {
		return r, nil, err
	}
	pos := &ruleNodes{line: n.line, keys: make(map[string]*node, len(m)), vals: m}
	for j, k := range n.keys {
		pos.keys[k.value] = n.keys[j]
	}
	for j, k := range n.keys {
		key, v := k.value, n.vals[j]
		var err error
		switch key {
		case "name":
			r.Name, err = scalarString(v, label, key)
		case "description":
			_, err = scalarString(v, label, key)
		case "effect":
			var s string
			if s, err = scalarString(v, label, key); err == nil {
				var ok bool
				if r.Effect, ok = parseEffect(s); !ok {
					err = &PolicyError{Rule: label, Line: v.line, Msg: fmt.Sprintf("effect %q: want allow, mask or deny", truncate(s))}
				}
			}
		case "roles":
			r.Roles, err = stringList(v, label, key)
		case "actions":
			var as []string
			as, err = stringList(v, label, key)
			for _, a := range as {
				r.Actions = append(r.Actions, Action(a))
			}
		case "record_types":
			r.RecordTypes, err = stringList(v, label, key)
		case "fields":
			r.Fields, err = stringList(v, label, key)
		case "kinds":
			r.Kinds, err = stringList(v, label, key)
		case "classes":
			r.Classes, err = stringList(v, label, key)
		case "purposes":
			var ps []string
			ps, err = stringList(v, label, key)
			for _, p := range ps {
				r.Purposes = append(r.Purposes, Purpose(p))
			}
		case "owner_only":
			r.OwnerOnly, err = boolValue(v, label, key)
		case "same_tenant":
			r.SameTenant, err = boolValue(v, label, key)
		case "break_glass":
			r.BreakGlass, err = boolValue(v, label, key)
		case "mfa_within":
			var s string
			if s, err = scalarString(v, label, key); err == nil {
				d, perr := time.ParseDuration(s)
				if perr != nil || d <= 0 {
					err = &PolicyError{Rule: label, Line: v.line, Msg: fmt.Sprintf("mfa_within %q: want a positive duration such as 15m", truncate(s))}
				}
				r.MFAWithin = d
			}
		case "attributes":
			r.Attributes, err = attributes(v, label)
		}
		if err != nil {
			return r, nil, err
		}
	}
	if _, ok := m["effect"]; !ok {
		return r, nil, &PolicyError{Rule: label, Line: n.line, Msg: "missing effect (allow, mask or deny)"}
	}
	return r, pos, nil
}

func attributes(n *node, rule string) (map[string]string, error) {
	if n.isNull() {
		return nil, nil
	}
	if n.kind != mapNode {
		return nil, &PolicyError{Rule: rule, Line: n.line, Msg: "attributes must be a mapping, not " + n.describe()}
	}
	out := make(map[string]string, len(n.keys))
	for i, k := range n.keys {
		if _, dup := out[k.value]; dup {
			return nil, &PolicyError{Rule: rule, Line: k.line, Msg: fmt.Sprintf("duplicate attribute %q", truncate(k.value))}
		}
		v, err := scalarString(n.vals[i], rule, "attribute "+strconv.Quote(truncate(k.value)))
		if err != nil {
			return nil, err
		}
		out[k.value] = v
	}
	return out, nil
}
