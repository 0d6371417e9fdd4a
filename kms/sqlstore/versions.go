package sqlstore

import (
	"encoding/json"
	"fmt"

	"github.com/piiguard/piiguard/kms"
)

// versionJSON is one element of the versions column (schema version 1):
//
//	{"id":4000000000,"number":2,"status":"enabled","primary":true,
//	 "created":"2024-03-14T15:09:26.535897Z","updated":"…","canary":"base64"}
//
// Times are UTC with six fractional digits ("" for the zero time); canary
// is standard base64 with padding. The format is pinned by
// testdata/versions-v1.json.
type versionJSON struct {
	ID      uint32     `json:"id"`
	Number  int        `json:"number"`
	Status  kms.Status `json:"status"`
	Primary bool       `json:"primary"`
	Created string     `json:"created"`
	Updated string     `json:"updated"`
	Canary  []byte     `json:"canary"`
}

func encodeVersions(vs []kms.VersionRecord) (string, error) {
	out := make([]versionJSON, len(vs))
	for i, v := range vs {
		if err := checkTime("version created", v.Created); err != nil {
			return "", err
		}
		if err := checkTime("version updated", v.Updated); err != nil {
			return "", err
		}
		out[i] = versionJSON{
			ID:      v.ID,
			Number:  v.Number,
			Status:  v.Status,
			Primary: v.Primary,
			Created: formatTime(v.Created),
			Updated: formatTime(v.Updated),
			Canary:  bytesArg(v.Canary),
		}
	}
	b, err := json.Marshal(out)
	if err != nil {
		return "", fmt.Errorf("encode versions: %w", kms.ErrInvalidArgument)
	}
	return string(b), nil
}

func decodeVersions(b []byte) ([]kms.VersionRecord, error) {
	var in []versionJSON
	if err := json.Unmarshal(b, &in); err != nil {
		return nil, fmt.Errorf("decode versions: %w", kms.ErrCorrupt)
	}
	if len(in) == 0 {
		return nil, nil
	}
	out := make([]kms.VersionRecord, len(in))
	for i, v := range in {
		created, err := parseTime(v.Created)
		if err != nil {
			return nil, fmt.Errorf("decode versions: %w", err)
		}
		updated, err := parseTime(v.Updated)
		if err != nil {
			return nil, fmt.Errorf("decode versions: %w", err)
		}
		out[i] = kms.VersionRecord{
			ID:      v.ID,
			Number:  v.Number,
			Status:  v.Status,
			Primary: v.Primary,
			Created: created,
			Updated: updated,
			Canary:  v.Canary,
		}
	}
	return out, nil
}
