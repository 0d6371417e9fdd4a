package access

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"regexp"
	"sort"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"
)

// node is a format-neutral parse tree with line numbers.
type node struct {
	kind  nodeKind
	tag   string // for scalars: "str", "bool", "int", "float" or "null"
	value string
	line  int
	items []*node // sequence
	keys  []*node // mapping keys (scalars), in order
	vals  []*node // mapping values
}

type nodeKind uint8

const (
	scalarNode nodeKind = iota + 1
	seqNode
	mapNode
)

func (n *node) isNull() bool { return n == nil || n.kind == scalarNode && n.tag == "null" }

func (n *node) describe() string {
	switch n.kind {
	case seqNode:
		return "a list"
	case mapNode:
		return "a mapping"
	}
	if n.tag == "str" {
		return "a string"
	}
	return "a " + n.tag
}

var yamlLine = regexp.MustCompile(`^yaml: line (\d+): `)

// yamlError turns a YAML syntax error into a PolicyError with its line.
func yamlError(err error) error {
	msg := err.Error()
	line := 0
	if m := yamlLine.FindStringSubmatch(msg); m != nil {
		line, _ = strconv.Atoi(m[1])
		msg = msg[len(m[0]):]
	} else {
		msg = strings.TrimPrefix(msg, "yaml: ")
	}
	return &PolicyError{Line: line, Msg: "YAML: " + msg}
}

func fromYAML(n *yaml.Node, depth int) (*node, error) {
	if depth > maxDepth {
		return nil, &PolicyError{Line: n.Line, Msg: "nested too deeply"}
	}
	if n.Anchor != "" || n.Kind == yaml.AliasNode {
		return nil, &PolicyError{Line: n.Line, Msg: "YAML anchors and aliases are not supported"}
	}
	switch n.Kind {
	case yaml.DocumentNode:
		if len(n.Content) != 1 {
			return nil, &PolicyError{Line: n.Line, Msg: "empty policy file"}
		}
		return fromYAML(n.Content[0], depth)
	case yaml.ScalarNode:
		out := &node{kind: scalarNode, value: n.Value, line: n.Line}
		switch n.ShortTag() {
		case "!!str":
			out.tag = "str"
		case "!!bool":
			out.tag = "bool"
		case "!!int":
			out.tag = "int"
		case "!!float":
			out.tag = "float"
		case "!!null":
			out.tag = "null"
		case "!!merge":
			return nil, &PolicyError{Line: n.Line, Msg: "YAML merge keys are not supported"}
		default:
			return nil, &PolicyError{Line: n.Line, Msg: fmt.Sprintf("unsupported YAML tag %q", truncate(n.ShortTag()))}
		}
		return out, nil
	case yaml.SequenceNode:
		out := &node{kind: seqNode, line: n.Line}
		for _, c := range n.Content {
			item, err := fromYAML(c, depth+1)
			if err != nil {
				return nil, err
			}
			out.items = append(out.items, item)
		}
		return out, nil
	case yaml.MappingNode:
		out := &node{kind: mapNode, line: n.Line}
		for i := 0; i+1 < len(n.Content); i += 2 {
			k, err := fromYAML(n.Content[i], depth+1)
			if err != nil {
				return nil, err
			}
			if k.kind != scalarNode || k.tag == "null" {
				return nil, &PolicyError{Line: k.line, Msg: "a mapping key must be a name"}
			}
			v, err := fromYAML(n.Content[i+1], depth+1)
			if err != nil {
				return nil, err
			}
			out.keys = append(out.keys, k)
			out.vals = append(out.vals, v)
		}
		return out, nil
	}
	return nil, &PolicyError{Line: n.Line, Msg: "unsupported YAML node"}
}

// lineIndex maps byte offsets to 1-based line numbers.
type lineIndex []int // offsets of '\n'

func newLineIndex(data []byte) lineIndex {
	var li lineIndex
	for i, c := range data {
		if c == '\n' {
			li = append(li, i)
		}
	}
	return li
}

// line returns the line of the byte at offset off.
func (li lineIndex) line(off int64) int {
	return sort.Search(len(li), func(i int) bool { return int64(li[i]) >= off }) + 1
}

type jsonParser struct {
	dec   *json.Decoder
	lines lineIndex
}

// token reads the next token and the line of its last byte.
func (jp *jsonParser) token() (json.Token, int, error) {
	tok, err := jp.dec.Token()
	if err != nil {
		var se *json.SyntaxError
		switch {
		case errors.As(err, &se):
			return nil, 0, &PolicyError{Line: jp.lines.line(se.Offset - 1), Msg: "JSON: " + se.Error()}
		case errors.Is(err, io.EOF):
			return nil, 0, &PolicyError{Line: jp.lines.line(jp.dec.InputOffset()), Msg: "JSON: unexpected end of input"}
		}
		return nil, 0, &PolicyError{Line: jp.lines.line(jp.dec.InputOffset()), Msg: "JSON: " + err.Error()}
	}
	return tok, jp.lines.line(jp.dec.InputOffset() - 1), nil
}

func (jp *jsonParser) value(depth int) (*node, error) {
	tok, line, err := jp.token()
	if err != nil {
		return nil, err
	}
	return jp.valueFrom(tok, line, depth)
}

func (jp *jsonParser) valueFrom(tok json.Token, line, depth int) (*node, error) {
	if depth > maxDepth {
		return nil, &PolicyError{Line: line, Msg: "nested too deeply"}
	}
	switch t := tok.(type) {
	case json.Delim:
		switch t {
		case '{':
			out := &node{kind: mapNode, line: line}
			for jp.dec.More() {
				ktok, kline, err := jp.token()
				if err != nil {
					return nil, err
				}
				k, _ := ktok.(string) // object keys are always strings
				v, err := jp.value(depth + 1)
				if err != nil {
					return nil, err
				}
				out.keys = append(out.keys, &node{kind: scalarNode, tag: "str", value: k, line: kline})
				out.vals = append(out.vals, v)
			}
			_, _, err := jp.token() // '}'
			return out, err
		case '[':
			out := &node{kind: seqNode, line: line}
			for jp.dec.More() {
				v, err := jp.value(depth + 1)
				if err != nil {
					return nil, err
				}
				out.items = append(out.items, v)
			}
			_, _, err := jp.token() // ']'
			return out, err
		}
	case string:
		return &node{kind: scalarNode, tag: "str", value: t, line: line}, nil
	case bool:
		return &node{kind: scalarNode, tag: "bool", value: strconv.FormatBool(t), line: line}, nil
	case json.Number:
		tag := "float"
		if _, err := t.Int64(); err == nil {
			tag = "int"
		}
		return &node{kind: scalarNode, tag: tag, value: t.String(), line: line}, nil
	case nil:
		return &node{kind: scalarNode, tag: "null", line: line}, nil
	}
	return nil, &PolicyError{Line: line, Msg: "JSON: unexpected token"}
}
