package access

import (
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"
)

// validationEnv holds what rules may name.
type validationEnv struct {
	roles    map[string]bool // nil: any role name
	purposes map[Purpose]bool
}

func newValidationEnv(roles []string, purposes []Purpose) *validationEnv {
	env := &validationEnv{purposes: make(map[Purpose]bool)}
	if roles != nil {
		env.roles = make(map[string]bool, len(roles))
		for _, r := range roles {
			env.roles[r] = true
		}
	}
	for _, p := range builtinPurposes {
		env.purposes[p] = true
	}
	for _, p := range purposes {
		env.purposes[p] = true
	}
	return env
}

// ruleError builds the error for rule number i (0-based) named name, about
// the rule member key ("" for the whole rule) and its item (-1 for none).
func ruleError(i int, name, key string, item int, sentinel error, format string, args ...any) *PolicyError {
	if name == "" {
		name = "#" + strconv.Itoa(i+1)
	}
	return &PolicyError{Rule: name, Msg: fmt.Sprintf(format, args...), Err: sentinel, key: key, item: item, index: i}
}

func (env *validationEnv) validateRules(rules []Rule) error {
	seen := make(map[string]int, len(rules))
	for i, r := range rules {
		if err := env.validateRule(i, r); err != nil {
			return err
		}
		if j, dup := seen[r.Name]; dup {
			return ruleError(i, r.Name, "name", -1, nil, "duplicate rule name (also rule #%d)", j+1)
		}
		seen[r.Name] = i
	}
	return nil
}

func (env *validationEnv) validateRule(i int, r Rule) error {
	switch {
	case r.Name == "":
		return ruleError(i, "", "", -1, nil, "missing name")
	case !validName(r.Name):
		return ruleError(i, "", "name", -1, nil, "name %q: use 1 to 128 letters, digits and _.:-", truncate(r.Name))
	case r.Effect > Allow:
		return ruleError(i, r.Name, "effect", -1, nil, "invalid effect %d", r.Effect)
	case len(r.Roles) == 0:
		return ruleError(i, r.Name, "roles", -1, nil, `missing roles (use "*" for every principal)`)
	case len(r.Actions) == 0:
		return ruleError(i, r.Name, "actions", -1, nil, `missing actions (use "*" for every action)`)
	case r.BreakGlass && r.Effect != Allow:
		return ruleError(i, r.Name, "break_glass", -1, nil, "break_glass is only allowed on an allow rule")
	case r.MFAWithin < 0:
		return ruleError(i, r.Name, "mfa_within", -1, nil, "mfa_within must be positive")
	case r.MFAWithin > 0 && r.Effect == Deny:
		return ruleError(i, r.Name, "mfa_within", -1, nil, "mfa_within is not allowed on a deny rule")
	}
	for j, role := range r.Roles {
		switch {
		case role == "":
			return ruleError(i, r.Name, "roles", j, nil, "empty role")
		case role == Wildcard:
		case env.roles != nil && !env.roles[role]:
			return ruleError(i, r.Name, "roles", j, ErrUnknownRole, "unknown role %q", truncate(role))
		}
	}
	for j, a := range r.Actions {
		if a == Wildcard {
			continue
		}
		if !a.Valid() {
			return ruleError(i, r.Name, "actions", j, ErrUnknownAction, "unknown action %q", truncate(string(a)))
		}
		if r.Effect == Mask && a != ActionReveal && a != ActionExport {
			return ruleError(i, r.Name, "actions", j, nil, "a mask rule applies to reveal and export only, not %q", a)
		}
	}
	for _, sel := range []struct {
		key   string
		names []string
	}{{"record_types", r.RecordTypes}, {"fields", r.Fields}, {"kinds", r.Kinds}, {"classes", r.Classes}} {
		for j, n := range sel.names {
			switch {
			case n == "":
				return ruleError(i, r.Name, sel.key, j, nil, "empty name")
			case strings.Contains(strings.TrimSuffix(n, Wildcard), Wildcard):
				return ruleError(i, r.Name, sel.key, j, nil, "%q: only a trailing * is supported", truncate(n))
			}
		}
	}
	for j, p := range r.Purposes {
		if !env.purposes[p] {
			return ruleError(i, r.Name, "purposes", j, ErrUnknownPurpose, "unknown purpose %q", truncate(string(p)))
		}
	}
	keys := slices.Sorted(maps.Keys(r.Attributes))
	if len(keys) > 0 && keys[0] == "" {
		return ruleError(i, r.Name, "attributes", -1, nil, "empty attribute name")
	}
	return nil
}

// validName reports whether s is a usable rule name.
func validName(s string) bool {
	if len(s) == 0 || len(s) > 128 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || strings.IndexByte("_.:-", c) >= 0) {
			return false
		}
	}
	return true
}
