package multi

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/binary"
	"fmt"

	"github.com/piiguard/piiguard/kms"
)

// The container format, version 1 (see the package documentation):
//
//	0x01                      version
//	n (1 byte, 1–16)          number of entries
//	n × entry:
//	  name length (1 byte, 1–255) || name
//	  blob length (4 bytes, big-endian, 1–1 MiB) || blob
//	tag (32 bytes)            HMAC-SHA256 under the commitment key
//
// Each blob is a backend's wrap of commitKey (32 bytes) || plaintext with
// associated data entryAD(associatedData). The tag is computed over
// tagInput(associatedData, everything before the tag).
const (
	formatV1      byte = 0x01
	maxEntries         = 16
	maxNameLen         = 255
	maxBlobLen         = 1 << 20
	commitKeySize      = 32
	tagSize            = sha256.Size
	minContainer       = 2 + 1 + 1 + 4 + 1 + tagSize
)

// domain separates what this package feeds its backends and its MAC from
// any other use of the same keys.
const (
	entryDomain = "piiguard/kms/multi v1 entry\x00"
	tagDomain   = "piiguard/kms/multi v1 tag\x00"
)

// entry is one backend's wrap in a container.
type entry struct {
	name string
	blob []byte
}

// container is a parsed version 1 container. Slices alias the input.
type container struct {
	entries []entry
	body    []byte // everything before the tag
	tag     []byte
}

func invalid(reason string) error {
	return fmt.Errorf("multi: container %s: %w", reason, kms.ErrInvalidCiphertext)
}

// parseContainer checks the structure of a container: version, counts and
// lengths, names unique. Every error wraps kms.ErrInvalidCiphertext.
func parseContainer(b []byte) (*container, error) {
	switch {
	case len(b) == 0:
		return nil, invalid("is empty")
	case b[0] != formatV1:
		return nil, invalid(fmt.Sprintf("has unknown format version byte 0x%02x", b[0]))
	case len(b) < minContainer:
		return nil, invalid("is too short")
	}
	n := int(b[1])
	if n < 1 || n > maxEntries {
		return nil, invalid(fmt.Sprintf("has %d entries (1 to %d allowed)", n, maxEntries))
	}
	body := b[:len(b)-tagSize]
	rest := body[2:]
	c := &container{body: body, tag: b[len(b)-tagSize:], entries: make([]entry, 0, n)}
	seen := make(map[string]bool, n)
	for i := range n {
		if len(rest) < 1 {
			return nil, invalid(fmt.Sprintf("is truncated in entry %d", i))
		}
		nl := int(rest[0])
		if nl == 0 || len(rest) < 1+nl+4 {
			return nil, invalid(fmt.Sprintf("has a bad name length in entry %d", i))
		}
		name := string(rest[1 : 1+nl])
		if err := validName(name); err != nil || seen[name] {
			return nil, invalid(fmt.Sprintf("has a bad or repeated backend name in entry %d", i))
		}
		seen[name] = true
		rest = rest[1+nl:]
		bl := binary.BigEndian.Uint32(rest)
		if bl == 0 || bl > maxBlobLen || uint64(len(rest)-4) < uint64(bl) {
			return nil, invalid(fmt.Sprintf("has a bad blob length in entry %d", i))
		}
		c.entries = append(c.entries, entry{name: name, blob: rest[4 : 4+bl : 4+bl]})
		rest = rest[4+bl:]
	}
	if len(rest) != 0 {
		return nil, invalid("has trailing bytes before its tag")
	}
	return c, nil
}

// marshalBody encodes entries without the tag.
func marshalBody(entries []entry) []byte {
	size := 2
	for _, e := range entries {
		size += 1 + len(e.name) + 4 + len(e.blob)
	}
	out := make([]byte, 0, size+tagSize)
	out = append(out, formatV1, byte(len(entries)))
	for _, e := range entries {
		out = append(out, byte(len(e.name)))
		out = append(out, e.name...)
		out = binary.BigEndian.AppendUint32(out, uint32(len(e.blob)))
		out = append(out, e.blob...)
	}
	return out
}

// computeTag returns the container's tag: HMAC-SHA256 under commitKey of
// the domain, the associated data (length-prefixed) and the body.
func computeTag(commitKey, associatedData, body []byte) []byte {
	m := hmac.New(sha256.New, commitKey)
	m.Write([]byte(tagDomain))
	var n [8]byte
	binary.BigEndian.PutUint64(n[:], uint64(len(associatedData)))
	m.Write(n[:])
	m.Write(associatedData)
	m.Write(body)
	return m.Sum(nil)
}

// entryAD is the associated data a backend wraps an entry with.
func entryAD(associatedData []byte) []byte {
	out := make([]byte, 0, len(entryDomain)+len(associatedData))
	out = append(out, entryDomain...)
	return append(out, associatedData...)
}

// validName checks a backend name: 1–255 bytes of [A-Za-z0-9._:/-].
func validName(name string) error {
	if name == "" || len(name) > maxNameLen {
		return fmt.Errorf("backend name must be 1 to %d bytes", maxNameLen)
	}
	for i := 0; i < len(name); i++ {
		c := name[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '.' || c == '_' || c == '-' || c == ':' || c == '/') {
			return fmt.Errorf("backend name has a character outside [A-Za-z0-9._:/-] at byte %d", i)
		}
	}
	return nil
}
