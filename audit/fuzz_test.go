package audit

import (
	"bytes"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/tink-crypto/tink-go/v2/keyset"
	"github.com/tink-crypto/tink-go/v2/mac"
	"github.com/tink-crypto/tink-go/v2/signature"
)

// addSeeds adds every line of the golden files to f.
func addSeeds(f *testing.F) {
	for _, name := range []string{"events_v1.jsonl", "chain_v1.jsonl"} {
		data, err := os.ReadFile(filepath.Join("testdata", name))
		if err != nil {
			f.Fatal(err)
		}
		for line := range bytes.SplitSeq(bytes.TrimSpace(data), []byte("\n")) {
			f.Add(line)
		}
	}
	f.Add([]byte(`{"v":1,"time":"2024-01-01T00:00:00Z","actor":"\ud83d\ude42\u0000\"","key_id":0}`))
	f.Add([]byte(`{"v":1,"time":"2024-01-01T00:00:00+14:00","reason":"\ud800"}`))
	f.Add([]byte(` { "v" : 1 , "time" : "0000-01-01T00:00:00-01:00" } `))
	f.Add([]byte(`{"v":1,"x":[1,{"a":[true,false,null,-0.5e+3]}]}`))
}

// FuzzDecodeEvent checks the event decoder against encoding/json: whatever it
// accepts is valid JSON with the same string values, and decoding what it
// encodes gives the same event and the same bytes again.
func FuzzDecodeEvent(f *testing.F) {
	addSeeds(f)
	f.Fuzz(func(t *testing.T, data []byte) {
		var e Event
		err := decodeEvent(data, &e)
		if err != nil {
			if !errors.Is(err, ErrCorrupt) {
				t.Fatalf("error does not wrap ErrCorrupt: %v", err)
			}
			return
		}
		if !json.Valid(data) {
			t.Fatalf("accepted invalid JSON %q", data)
		}
		var m map[string]any
		if err := json.Unmarshal(data, &m); err != nil {
			t.Fatal(err)
		}
		if s, ok := m["actor"].(string); ok && s != e.Actor {
			t.Fatalf("actor %q, encoding/json says %q", e.Actor, s)
		}
		if s, ok := m["reason"].(string); ok && s != e.Reason {
			t.Fatalf("reason %q, encoding/json says %q", e.Reason, s)
		}
		checkEventRoundTrip(t, e)
	})
}

func checkEventRoundTrip(t *testing.T, e Event) {
	t.Helper()
	enc, err := appendEvent(nil, &e)
	if errors.Is(err, ErrInvalidEvent) {
		return // a time whose UTC year leaves 0..9999
	}
	if err != nil {
		t.Fatal(err)
	}
	var back Event
	if err := decodeEvent(enc, &back); err != nil {
		t.Fatalf("cannot decode own encoding %q: %v", enc, err)
	}
	if !back.Time.Equal(e.Time) || back.Actor != e.Actor || back.Reason != e.Reason || back.KeyID != e.KeyID {
		t.Fatalf("round trip changed the event: %+v != %+v", back, e)
	}
	again, err := appendEvent(nil, &back)
	if err != nil || !bytes.Equal(again, enc) {
		t.Fatalf("encoding not stable: %q then %q", enc, again)
	}
}

// FuzzParseLine checks the line decoder (events, records, checkpoints): it
// never panics, fails only with ErrCorrupt, accepts only valid JSON, and
// never quotes its input in an error.
func FuzzParseLine(f *testing.F) {
	addSeeds(f)
	f.Fuzz(func(t *testing.T, data []byte) {
		var p parsedLine
		err := parseLine(data, &p)
		if err != nil {
			if !errors.Is(err, ErrCorrupt) {
				t.Fatalf("error does not wrap ErrCorrupt: %v", err)
			}
			msg := strings.TrimPrefix(err.Error(), ErrCorrupt.Error())
			if len(data) >= 8 && strings.Contains(msg, string(data)) {
				t.Fatalf("error quotes the input: %v", err)
			}
			return
		}
		if !json.Valid(data) {
			t.Fatalf("accepted invalid JSON %q", data)
		}
		if p.kind == kindEvent || p.kind == kindRecord {
			checkEventRoundTrip(t, p.event)
		}
	})
}

// FuzzVerify feeds arbitrary streams to Verify: it must not panic, and must
// fail with a *VerifyError on anything but a log written with its keys.
func FuzzVerify(f *testing.F) {
	mh, err := keyset.NewHandle(mac.HMACSHA256Tag256KeyTemplate())
	if err != nil {
		f.Fatal(err)
	}
	m, err := mac.New(mh)
	if err != nil {
		f.Fatal(err)
	}
	sh, err := keyset.NewHandle(signature.ED25519KeyTemplate())
	if err != nil {
		f.Fatal(err)
	}
	pub, err := sh.Public()
	if err != nil {
		f.Fatal(err)
	}
	v, err := signature.NewVerifier(pub)
	if err != nil {
		f.Fatal(err)
	}
	data, err := os.ReadFile(filepath.Join("testdata", "chain_v1.jsonl"))
	if err != nil {
		f.Fatal(err)
	}
	f.Add(data)
	f.Add(data[:len(data)/2])
	f.Add([]byte("\n\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		rep, err := Verify(bytes.NewReader(data), m, v, VerifyOptions{CheckpointEvery: 3})
		if err == nil {
			if rep.Records != 0 || rep.Checkpoints != 0 {
				t.Fatalf("verified %d records and %d checkpoints made with other keys", rep.Records, rep.Checkpoints)
			}
			return
		}
		var ve *VerifyError
		if !errors.As(err, &ve) {
			t.Fatalf("not a *VerifyError: %v", err)
		}
	})
}
