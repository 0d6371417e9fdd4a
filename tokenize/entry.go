package tokenize

import (
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"time"
)

// Entry is what the vault holds for a token. Its value is only revealed by
// an explicit call to Reveal: String, GoString, Format, LogValue and
// MarshalJSON leave it out.
type Entry struct {
	value string
	// Metadata is the metadata stored with the token, or nil.
	Metadata map[string]string
	// Created is when the token was made; Expires when it expires (zero:
	// never).
	Created time.Time
	Expires time.Time
	// KeyID is the version of the AEAD keyset that encrypted the value.
	KeyID uint32
}

// Reveal returns the (normalised) value the token stands for.
func (e *Entry) Reveal() string { return e.value }

// String describes the entry without its value.
func (e *Entry) String() string {
	exp := "never"
	if !e.Expires.IsZero() {
		exp = e.Expires.UTC().Format(time.RFC3339)
	}
	return fmt.Sprintf("tokenize.Entry(value=[redacted], created=%s, expires=%s, key=%d, metadata=%d keys)",
		e.Created.UTC().Format(time.RFC3339), exp, e.KeyID, len(e.Metadata))
}

// GoString is String.
func (e *Entry) GoString() string { return e.String() }

// Format writes String for every verb.
func (e *Entry) Format(f fmt.State, _ rune) { _, _ = io.WriteString(f, e.String()) }

// LogValue logs String.
func (e *Entry) LogValue() slog.Value { return slog.StringValue(e.String()) }

// MarshalJSON writes the entry's metadata and times, never its value.
func (e *Entry) MarshalJSON() ([]byte, error) {
	out := struct {
		Value    string            `json:"value"`
		Metadata map[string]string `json:"metadata,omitempty"`
		Created  time.Time         `json:"created"`
		Expires  *time.Time        `json:"expires,omitempty"`
		KeyID    uint32            `json:"key_id"`
	}{Value: "[redacted]", Metadata: e.Metadata, Created: e.Created, KeyID: e.KeyID}
	if !e.Expires.IsZero() {
		out.Expires = &e.Expires
	}
	return json.Marshal(out)
}
