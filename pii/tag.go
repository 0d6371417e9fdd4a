package pii

import (
	"fmt"
	"strings"
)

// tagKey is the struct tag key read by this package.
const tagKey = "pii"

// tagSpec is one parsed `pii:"…"` tag. The grammar is documented in doc.go.
type tagSpec struct {
	skip   bool   // "-": the field and whatever it reaches are not walked
	id     bool   // "id": the field holds the record's ID
	record string // id only: the record name bound into associated data
	owner  string // id only: the sibling field holding the record owner's principal ID
	tenant string // id only: the sibling field holding the record's tenant
	kind   Kind   // the kind of a protected field
	class  Class  // the class; the kind's default when not given
	search string // the sibling field that receives the blind index
	token  string // the tokenizer scheme; "" for encryption
	bind   string // the name bound into associated data; the Go name if ""
}

// parseTag parses a tag value. Its errors describe the tag, which holds no
// secret, and are wrapped by the caller with the field path and
// ErrInvalidTag.
func parseTag(tag string) (tagSpec, error) {
	var s tagSpec
	if tag == "-" {
		s.skip = true
		return s, nil
	}
	parts := strings.Split(tag, ",")
	head := parts[0]
	switch {
	case head == "":
		return s, fmt.Errorf("empty kind in tag %q", tag)
	case head == "id":
		s.id = true
	default:
		k := Kind(head)
		c, ok := kinds[k]
		if !ok {
			return s, fmt.Errorf("unknown kind %q", head)
		}
		s.kind, s.class = k, c
	}
	seen := map[string]bool{}
	for _, opt := range parts[1:] {
		name, val, hasVal := strings.Cut(opt, "=")
		if opt == "" {
			return s, fmt.Errorf("empty option in tag %q", tag)
		}
		if !hasVal || val == "" {
			return s, fmt.Errorf("option %q needs a value (%s=…)", name, name)
		}
		if seen[name] {
			return s, fmt.Errorf("option %q given twice", name)
		}
		seen[name] = true
		if s.id && name != "record" && name != "owner" && name != "tenant" {
			return s, fmt.Errorf("option %q is not allowed on an id field (only record=, owner= and tenant=)", name)
		}
		switch name {
		case "record":
			if !s.id {
				return s, fmt.Errorf("option record= is only allowed on the id field")
			}
			if !isName(val, true) {
				return s, fmt.Errorf("record=%q: want letters, digits, '_', '.' or '-'", val)
			}
			s.record = val
		case "owner", "tenant":
			if !s.id {
				return s, fmt.Errorf("option %s= is only allowed on the id field", name)
			}
			if !isName(val, false) {
				return s, fmt.Errorf("%s=%q: want the name of a sibling field", name, val)
			}
			if name == "owner" {
				s.owner = val
			} else {
				s.tenant = val
			}
		case "class":
			c := Class(val)
			if !classes[c] {
				return s, fmt.Errorf("unknown class %q", val)
			}
			s.class = c
		case "search":
			if !isName(val, false) {
				return s, fmt.Errorf("search=%q: want the name of a sibling field", val)
			}
			s.search = val
		case "token":
			if !isName(val, true) {
				return s, fmt.Errorf("token=%q: want a tokenizer name", val)
			}
			s.token = val
		case "bind":
			if !isName(val, false) {
				return s, fmt.Errorf("bind=%q: want a Go identifier", val)
			}
			s.bind = val
		default:
			return s, fmt.Errorf("unknown option %q", name)
		}
	}
	return s, nil
}

// String formats a tag spec back into its canonical tag text.
func (s tagSpec) String() string {
	if s.skip {
		return "-"
	}
	var b strings.Builder
	if s.id {
		b.WriteString("id")
		if s.record != "" {
			b.WriteString(",record=" + s.record)
		}
		if s.owner != "" {
			b.WriteString(",owner=" + s.owner)
		}
		if s.tenant != "" {
			b.WriteString(",tenant=" + s.tenant)
		}
		return b.String()
	}
	b.WriteString(string(s.kind))
	if def := kinds[s.kind]; s.class != def {
		b.WriteString(",class=" + string(s.class))
	}
	if s.search != "" {
		b.WriteString(",search=" + s.search)
	}
	if s.token != "" {
		b.WriteString(",token=" + s.token)
	}
	if s.bind != "" {
		b.WriteString(",bind=" + s.bind)
	}
	return b.String()
}

// isName reports whether v is a Go identifier (ASCII) or, with loose, a
// name of ASCII letters, digits, '_', '.' and '-', at most 128 bytes.
func isName(v string, loose bool) bool {
	if v == "" || len(v) > 128 {
		return false
	}
	for i := 0; i < len(v); i++ {
		c := v[i]
		switch {
		case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', c == '_':
		case '0' <= c && c <= '9':
			if i == 0 && !loose {
				return false
			}
		case c == '.' || c == '-':
			if !loose {
				return false
			}
		default:
			return false
		}
	}
	return true
}
