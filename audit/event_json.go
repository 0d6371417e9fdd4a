package audit

import (
	"log/slog"
	"math"
	"strconv"
	"time"
)

// EventVersion is the version of the JSON encoding of an Event written by
// this package (the "v" member). See the package documentation.
const EventVersion = 1

// eventField numbers the members of the v1 encoding, in their canonical
// order; it indexes the bit set that catches duplicate members.
const (
	fV = iota
	fTime
	fAction
	fOutcome
	fActor
	fPurpose
	fRecordType
	fField
	fClass
	fSubjectID
	fDecision
	fReason
	fKeyName
	fKeyID
	fRequestID
	fTraceID
	fError
)

// appendEvent appends the canonical v1 encoding of e: the members in a fixed
// order, empty strings and a zero key ID left out, the time in RFC 3339 with
// nanoseconds in UTC.
func appendEvent(dst []byte, e *Event) ([]byte, error) {
	t := e.Time.UTC()
	if y := t.Year(); y < 0 || y > 9999 {
		return dst, ErrInvalidEvent
	}
	dst = append(dst, `{"v":1,"time":"`...)
	dst = t.AppendFormat(dst, time.RFC3339Nano)
	dst = append(dst, '"')
	dst = appendMember(dst, `,"action":`, string(e.Action))
	dst = appendMember(dst, `,"outcome":`, string(e.Outcome))
	dst = appendMember(dst, `,"actor":`, e.Actor)
	dst = appendMember(dst, `,"purpose":`, e.Purpose)
	dst = appendMember(dst, `,"record_type":`, e.RecordType)
	dst = appendMember(dst, `,"field":`, e.Field)
	dst = appendMember(dst, `,"class":`, e.Class)
	dst = appendMember(dst, `,"subject_id":`, e.SubjectID)
	dst = appendMember(dst, `,"decision":`, e.Decision)
	dst = appendMember(dst, `,"reason":`, e.Reason)
	dst = appendMember(dst, `,"key_name":`, e.KeyName)
	if e.KeyID != 0 {
		dst = append(dst, `,"key_id":`...)
		dst = strconv.AppendUint(dst, uint64(e.KeyID), 10)
	}
	dst = appendMember(dst, `,"request_id":`, e.RequestID)
	dst = appendMember(dst, `,"trace_id":`, e.TraceID)
	dst = appendMember(dst, `,"error":`, e.Error)
	return append(dst, '}'), nil
}

func appendMember(dst []byte, prefix, s string) []byte {
	if s == "" {
		return dst
	}
	dst = append(dst, prefix...)
	return appendString(dst, s)
}

// MarshalJSON returns the canonical v1 encoding of e (see the package
// documentation). It fails only for a time outside the years 0 to 9999.
func (e Event) MarshalJSON() ([]byte, error) {
	return appendEvent(make([]byte, 0, 256), &e)
}

// UnmarshalJSON decodes the v1 encoding of an event. It is strict: the
// version must be 1, the time must be present, and an unknown or repeated
// member is an error wrapping ErrCorrupt. The decoded time is in UTC.
func (e *Event) UnmarshalJSON(data []byte) error {
	var out Event
	if err := decodeEvent(data, &out); err != nil {
		return err
	}
	*e = out
	return nil
}

// decodeEvent decodes the v1 encoding of an event into e.
func decodeEvent(data []byte, e *Event) error {
	var seen uint32
	err := scanObject(data, func(key, val []byte) error {
		return decodeEventMember(e, &seen, key, val)
	})
	if err != nil {
		return err
	}
	return checkEventMembers(seen)
}

func checkEventMembers(seen uint32) error {
	if seen&(1<<fV) == 0 {
		return corruptf("missing version")
	}
	if seen&(1<<fTime) == 0 {
		return corruptf("missing time")
	}
	return nil
}

// decodeEventMember decodes one member of an event object.
func decodeEventMember(e *Event, seen *uint32, key, val []byte) error {
	var (
		f   int
		dst *string
	)
	switch string(key) {
	case "v":
		f = fV
	case "time":
		f = fTime
	case "action":
		f, dst = fAction, (*string)(&e.Action)
	case "outcome":
		f, dst = fOutcome, (*string)(&e.Outcome)
	case "actor":
		f, dst = fActor, &e.Actor
	case "purpose":
		f, dst = fPurpose, &e.Purpose
	case "record_type":
		f, dst = fRecordType, &e.RecordType
	case "field":
		f, dst = fField, &e.Field
	case "class":
		f, dst = fClass, &e.Class
	case "subject_id":
		f, dst = fSubjectID, &e.SubjectID
	case "decision":
		f, dst = fDecision, &e.Decision
	case "reason":
		f, dst = fReason, &e.Reason
	case "key_name":
		f, dst = fKeyName, &e.KeyName
	case "key_id":
		f = fKeyID
	case "request_id":
		f, dst = fRequestID, &e.RequestID
	case "trace_id":
		f, dst = fTraceID, &e.TraceID
	case "error":
		f, dst = fError, &e.Error
	default:
		return corruptf("unknown event member")
	}
	if *seen&(1<<f) != 0 {
		return corruptf("repeated event member")
	}
	*seen |= 1 << f
	switch f {
	case fV:
		return checkVersion(val)
	case fTime:
		s, err := parseString(val)
		if err != nil {
			return err
		}
		t, err := time.Parse(time.RFC3339Nano, s)
		if err != nil {
			return corruptf("bad time")
		}
		e.Time = t.UTC()
		return nil
	case fKeyID:
		n, err := parseUint(val, math.MaxUint32)
		e.KeyID = uint32(n)
		return err
	}
	s, err := parseString(val)
	*dst = s
	return err
}

func checkVersion(val []byte) error {
	v, err := parseUint(val, math.MaxInt32)
	if err != nil {
		return err
	}
	if v != EventVersion {
		return corruptf("unsupported version %d", v)
	}
	return nil
}

// LogValue implements slog.LogValuer: the event as a group of its non-empty
// members, under the names of the JSON encoding.
func (e Event) LogValue() slog.Value {
	attrs := make([]slog.Attr, 0, 8)
	attrs = append(attrs, slog.Time("time", e.Time.UTC()))
	add := func(k, v string) {
		if v != "" {
			attrs = append(attrs, slog.String(k, v))
		}
	}
	add("action", string(e.Action))
	add("outcome", string(e.Outcome))
	add("actor", e.Actor)
	add("purpose", e.Purpose)
	add("record_type", e.RecordType)
	add("field", e.Field)
	add("class", e.Class)
	add("subject_id", e.SubjectID)
	add("decision", e.Decision)
	add("reason", e.Reason)
	add("key_name", e.KeyName)
	if e.KeyID != 0 {
		attrs = append(attrs, slog.Uint64("key_id", uint64(e.KeyID)))
	}
	add("request_id", e.RequestID)
	add("trace_id", e.TraceID)
	add("error", e.Error)
	return slog.GroupValue(attrs...)
}
