package audit

import (
	"bytes"
	"unicode/utf16"
	"unicode/utf8"
)

// This file holds the small, strict JSON reader behind every decoder of the
// package. Audit lines are flat objects of strings and unsigned integers with
// at most one nested object, so a full JSON decoder is not needed, and a
// hand-written one is several times faster on the Verify path. It accepts a
// subset of JSON: keys must not contain escapes, strings must be valid UTF-8,
// and integers must be plain decimal. Its errors give byte offsets, never
// input bytes. FuzzDecodeLine checks it against encoding/json.

const maxJSONDepth = 16

func isSpace(c byte) bool { return c == ' ' || c == '\t' || c == '\n' || c == '\r' }

func skipSpace(d []byte, i int) int {
	for i < len(d) && isSpace(d[i]) {
		i++
	}
	return i
}

// scanObject calls fn for each member of the JSON object that is all of d
// (surrounding white space allowed), in order, with the raw key (no quotes)
// and the raw value.
func scanObject(d []byte, fn func(key, val []byte) error) error {
	i := skipSpace(d, 0)
	if i >= len(d) || d[i] != '{' {
		return corruptf("not a JSON object")
	}
	i = skipSpace(d, i+1)
	if i < len(d) && d[i] == '}' {
		return expectEnd(d, i+1)
	}
	for {
		if i >= len(d) || d[i] != '"' {
			return corruptf("expected a key at offset %d", i)
		}
		end, err := skipString(d, i)
		if err != nil {
			return err
		}
		key := d[i+1 : end-1]
		if bytes.IndexByte(key, '\\') >= 0 {
			return corruptf("escaped key at offset %d", i)
		}
		i = skipSpace(d, end)
		if i >= len(d) || d[i] != ':' {
			return corruptf("expected ':' at offset %d", i)
		}
		i = skipSpace(d, i+1)
		vend, err := skipValue(d, i, 1)
		if err != nil {
			return err
		}
		if err := fn(key, d[i:vend]); err != nil {
			return err
		}
		i = skipSpace(d, vend)
		if i >= len(d) {
			return corruptf("unterminated object")
		}
		switch d[i] {
		case ',':
			i = skipSpace(d, i+1)
		case '}':
			return expectEnd(d, i+1)
		default:
			return corruptf("expected ',' or '}' at offset %d", i)
		}
	}
}

func expectEnd(d []byte, i int) error {
	if skipSpace(d, i) != len(d) {
		return corruptf("data after object at offset %d", i)
	}
	return nil
}

// skipString returns the offset just past the string starting at d[i].
func skipString(d []byte, i int) (int, error) {
	start := i
	i++
	for i < len(d) {
		for i < len(d) && plainStringByte[d[i]] {
			i++
		}
		if i >= len(d) {
			break
		}
		switch c := d[i]; {
		case c == '"':
			return i + 1, nil
		case c == '\\':
			if i+1 >= len(d) {
				return 0, corruptf("unterminated string at offset %d", start)
			}
			switch d[i+1] {
			case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
				i += 2
			case 'u':
				if i+6 > len(d) || !isHex4(d[i+2:i+6]) {
					return 0, corruptf("bad \\u escape at offset %d", i)
				}
				i += 6
			default:
				return 0, corruptf("bad escape at offset %d", i)
			}
		case c < 0x20:
			return 0, corruptf("control character in string at offset %d", i)
		default:
			i++
		}
	}
	return 0, corruptf("unterminated string at offset %d", start)
}

// plainStringByte tells the bytes that stand for themselves inside a JSON
// string: all but the quote, the backslash and control characters. It is
// never written after initialization.
var plainStringByte = func() (t [256]bool) {
	for c := 0x20; c < 256; c++ {
		t[c] = c != '"' && c != '\\'
	}
	return t
}()

func isHex4(b []byte) bool {
	for _, c := range b {
		if hexVal(c) < 0 {
			return false
		}
	}
	return true
}

func hexVal(c byte) int {
	switch {
	case c >= '0' && c <= '9':
		return int(c - '0')
	case c >= 'a' && c <= 'f':
		return int(c-'a') + 10
	case c >= 'A' && c <= 'F':
		return int(c-'A') + 10
	}
	return -1
}

// skipValue returns the offset just past the JSON value starting at d[i].
func skipValue(d []byte, i, depth int) (int, error) {
	if i >= len(d) {
		return 0, corruptf("missing value at offset %d", i)
	}
	switch c := d[i]; {
	case c == '"':
		return skipString(d, i)
	case c == '{' || c == '[':
		return skipComposite(d, i, depth)
	case c == 't':
		return skipLiteral(d, i, "true")
	case c == 'f':
		return skipLiteral(d, i, "false")
	case c == 'n':
		return skipLiteral(d, i, "null")
	case c == '-' || (c >= '0' && c <= '9'):
		return skipNumber(d, i)
	}
	return 0, corruptf("unexpected character at offset %d", i)
}

func skipComposite(d []byte, i, depth int) (int, error) {
	if depth > maxJSONDepth {
		return 0, corruptf("nesting too deep at offset %d", i)
	}
	open := d[i]
	closer := byte('}')
	if open == '[' {
		closer = ']'
	}
	i = skipSpace(d, i+1)
	if i < len(d) && d[i] == closer {
		return i + 1, nil
	}
	for {
		if open == '{' {
			if i >= len(d) || d[i] != '"' {
				return 0, corruptf("expected a key at offset %d", i)
			}
			end, err := skipString(d, i)
			if err != nil {
				return 0, err
			}
			i = skipSpace(d, end)
			if i >= len(d) || d[i] != ':' {
				return 0, corruptf("expected ':' at offset %d", i)
			}
			i = skipSpace(d, i+1)
		}
		end, err := skipValue(d, i, depth+1)
		if err != nil {
			return 0, err
		}
		i = skipSpace(d, end)
		if i >= len(d) {
			return 0, corruptf("unterminated value")
		}
		switch d[i] {
		case ',':
			i = skipSpace(d, i+1)
		case closer:
			return i + 1, nil
		default:
			return 0, corruptf("expected ',' at offset %d", i)
		}
	}
}

func skipLiteral(d []byte, i int, lit string) (int, error) {
	if !bytes.HasPrefix(d[i:], []byte(lit)) {
		return 0, corruptf("bad literal at offset %d", i)
	}
	return i + len(lit), nil
}

func skipNumber(d []byte, i int) (int, error) {
	start := i
	if d[i] == '-' {
		i++
	}
	digits := func() int {
		n := 0
		for i < len(d) && d[i] >= '0' && d[i] <= '9' {
			i++
			n++
		}
		return n
	}
	switch {
	case i < len(d) && d[i] == '0':
		i++
	case digits() == 0:
		return 0, corruptf("bad number at offset %d", start)
	}
	if i < len(d) && d[i] == '.' {
		i++
		if digits() == 0 {
			return 0, corruptf("bad number at offset %d", start)
		}
	}
	if i < len(d) && (d[i] == 'e' || d[i] == 'E') {
		i++
		if i < len(d) && (d[i] == '+' || d[i] == '-') {
			i++
		}
		if digits() == 0 {
			return 0, corruptf("bad number at offset %d", start)
		}
	}
	return i, nil
}

// parseString decodes a raw JSON string value (with its quotes).
func parseString(raw []byte) (string, error) {
	if len(raw) < 2 || raw[0] != '"' || raw[len(raw)-1] != '"' {
		return "", corruptf("expected a string")
	}
	s := raw[1 : len(raw)-1]
	if bytes.IndexByte(s, '\\') < 0 {
		if !utf8.Valid(s) {
			return "", corruptf("invalid UTF-8 in string")
		}
		return string(s), nil
	}
	out := make([]byte, 0, len(s))
	for i := 0; i < len(s); {
		c := s[i]
		if c != '\\' {
			j := i
			for j < len(s) && s[j] != '\\' {
				j++
			}
			if !utf8.Valid(s[i:j]) {
				return "", corruptf("invalid UTF-8 in string")
			}
			out = append(out, s[i:j]...)
			i = j
			continue
		}
		// skipString has validated every escape.
		switch e := s[i+1]; e {
		case 'u':
			r := rune(hex4(s[i+2 : i+6]))
			i += 6
			if utf16.IsSurrogate(r) {
				r2 := rune(-1)
				if i+6 <= len(s) && s[i] == '\\' && s[i+1] == 'u' {
					r2 = rune(hex4(s[i+2 : i+6]))
				}
				if dec := utf16.DecodeRune(r, r2); dec != utf8.RuneError {
					r = dec
					i += 6
				} else {
					r = utf8.RuneError
				}
			}
			out = utf8.AppendRune(out, r)
		default:
			out = append(out, unescapeByte(e))
			i += 2
		}
	}
	return string(out), nil
}

func hex4(b []byte) int {
	return hexVal(b[0])<<12 | hexVal(b[1])<<8 | hexVal(b[2])<<4 | hexVal(b[3])
}

func unescapeByte(e byte) byte {
	switch e {
	case 'b':
		return '\b'
	case 'f':
		return '\f'
	case 'n':
		return '\n'
	case 'r':
		return '\r'
	case 't':
		return '\t'
	}
	return e // '"', '\\', '/'
}

// parseUint decodes a plain decimal integer no larger than max.
func parseUint(raw []byte, max uint64) (uint64, error) {
	if len(raw) == 0 || len(raw) > 20 || (raw[0] == '0' && len(raw) > 1) {
		return 0, corruptf("expected an unsigned integer")
	}
	var n uint64
	for _, c := range raw {
		if c < '0' || c > '9' {
			return 0, corruptf("expected an unsigned integer")
		}
		d := uint64(c - '0')
		if n > (max-d)/10 {
			return 0, corruptf("integer out of range")
		}
		n = n*10 + d
	}
	return n, nil
}

// appendString appends s as a JSON string. Invalid UTF-8 becomes U+FFFD, as
// in encoding/json, so that decoding and re-encoding is stable.
func appendString(dst []byte, s string) []byte {
	dst = append(dst, '"')
	start := 0
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			if c >= 0x20 && c != '"' && c != '\\' {
				i++
				continue
			}
			dst = append(dst, s[start:i]...)
			switch c {
			case '"', '\\':
				dst = append(dst, '\\', c)
			case '\n':
				dst = append(dst, '\\', 'n')
			case '\r':
				dst = append(dst, '\\', 'r')
			case '\t':
				dst = append(dst, '\\', 't')
			default:
				const hexDigits = "0123456789abcdef"
				dst = append(dst, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xf])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			dst = append(dst, s[start:i]...)
			dst = append(dst, `\ufffd`...)
			i += size
			start = i
			continue
		}
		i += size
	}
	dst = append(dst, s[start:]...)
	return append(dst, '"')
}
