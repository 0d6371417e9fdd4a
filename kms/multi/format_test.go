package multi

import (
	"bytes"
	"encoding/hex"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/piiguard/piiguard"
	"github.com/piiguard/piiguard/kms"
)

func goldenContainers(t testing.TB) [][]byte {
	b, err := os.ReadFile(filepath.Join("testdata", "container-v1-vectors.json"))
	require.NoError(t, err)
	var v struct {
		Wraps []struct {
			ContainerHex string `json:"container_hex"`
		} `json:"wraps"`
	}
	require.NoError(t, json.Unmarshal(b, &v))
	var out [][]byte
	for _, w := range v.Wraps {
		c, err := hex.DecodeString(w.ContainerHex)
		require.NoError(t, err)
		out = append(out, c)
	}
	return out
}

func TestGoldenContainersParse(t *testing.T) {
	for i, ct := range goldenContainers(t) {
		c, err := parseContainer(ct)
		require.NoError(t, err, "vector %d", i)
		require.Len(t, c.entries, 2)
		assert.Equal(t, "hsm-primary", c.entries[0].name)
		assert.Equal(t, "aws:eu-west-1", c.entries[1].name)
		assert.Len(t, c.tag, 32)
		assert.Equal(t, ct, append(marshalBody(c.entries), c.tag...), "vector %d: parse and marshal", i)
	}
}

func TestParseContainerRefuses(t *testing.T) {
	good := append(marshalBody([]entry{{"a", []byte{1, 2, 3}}, {"b", []byte{4}}}), make([]byte, 32)...)
	_, err := parseContainer(good)
	require.NoError(t, err)
	for name, b := range map[string][]byte{
		"empty":             nil,
		"version 2":         append([]byte{2}, good[1:]...),
		"no entries":        append([]byte{1, 0}, good[2:]...),
		"17 entries":        append([]byte{1, 17}, good[2:]...),
		"too short":         good[:40],
		"trailing bytes":    append(append(bytes.Clone(good[:len(good)-32]), 0), make([]byte, 32)...),
		"repeated name":     append(marshalBody([]entry{{"a", []byte{1}}, {"a", []byte{2}}}), make([]byte, 32)...),
		"bad name":          append(marshalBody([]entry{{"a b", []byte{1}}}), make([]byte, 32)...),
		"empty blob":        append(marshalBody([]entry{{"a", nil}}), make([]byte, 32)...),
		"blob past the end": append([]byte{1, 1, 1, 'a', 0, 0, 0, 200, 9}, make([]byte, 32)...),
		"blob too large":    append([]byte{1, 1, 1, 'a', 0, 0x10, 0, 1, 9}, make([]byte, 32)...),
	} {
		_, err := parseContainer(b)
		assert.ErrorIs(t, err, kms.ErrInvalidCiphertext, name)
	}
}

// FuzzParseContainer checks that the parser never panics, fails only with
// ErrInvalidCiphertext, and that what it accepts is within bounds and
// marshals back to the input.
//
//	go test -run '^$' -fuzz FuzzParseContainer -fuzztime 20s ./kms/multi/
func FuzzParseContainer(f *testing.F) {
	for _, c := range goldenContainers(f) {
		f.Add(c)
		f.Add(c[:len(c)/2])
	}
	f.Add([]byte{1, 1, 1, 'a', 0, 0, 0, 1, 9})
	f.Fuzz(func(t *testing.T, data []byte) {
		c, err := parseContainer(data)
		if err != nil {
			if !errors.Is(err, kms.ErrInvalidCiphertext) || piiguard.ErrorCode(err) != piiguard.CodeInvalidCiphertext {
				t.Fatalf("error is not ErrInvalidCiphertext: %v", err)
			}
			return
		}
		if len(c.entries) < 1 || len(c.entries) > maxEntries || len(c.tag) != tagSize {
			t.Fatalf("accepted %d entries, tag %d", len(c.entries), len(c.tag))
		}
		seen := map[string]bool{}
		for _, e := range c.entries {
			if validName(e.name) != nil || seen[e.name] || len(e.blob) == 0 || len(e.blob) > maxBlobLen {
				t.Fatalf("accepted a bad entry (name %q, blob %d)", e.name, len(e.blob))
			}
			seen[e.name] = true
		}
		if !bytes.Equal(append(marshalBody(c.entries), c.tag...), data) || !bytes.Equal(c.body, data[:len(data)-tagSize]) {
			t.Fatal("marshal does not give back the input")
		}
	})
}
