package vaulttransit

import (
	"context"
	"encoding/json"
	"fmt"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/piiguard/piiguard/kms"
)

// Admin manages Transit keys: create, read, rotate, and raise the minimum
// decryption version. It is for operators, tools and tests; a Driver needs
// none of it. Its token needs the matching capabilities on
// <mount>/keys/<name>, <mount>/keys/<name>/rotate and
// <mount>/keys/<name>/config — which an application's token should not
// have. An Admin is safe for concurrent use.
type Admin struct {
	c     *client
	mount string
}

// KeyInfo is what Vault says about a Transit key (GET <mount>/keys/<name>).
type KeyInfo struct {
	Name string
	Type string // "aes256-gcm96", …
	// LatestVersion is the version Wrap encrypts with.
	LatestVersion int
	// MinDecryptionVersion is the oldest version Unwrap may use; older
	// ones fail with kms.ErrDisabled.
	MinDecryptionVersion int
	// MinEncryptionVersion is 0 (the latest) or the oldest version
	// encryption may use.
	MinEncryptionVersion int
	// Versions maps each version still in the key's working set to its
	// creation time.
	Versions map[int]time.Time
	Derived  bool
	// SupportsEncryption and SupportsDecryption follow from Type.
	SupportsEncryption bool
	SupportsDecryption bool
}

// NewAdmin returns an Admin for the Transit engine mounted at mount
// ("transit" when empty) on the Vault server at address.
func NewAdmin(address, mount string, opts Options) (*Admin, error) {
	if mount == "" {
		mount = "transit"
	}
	mount = strings.Trim(mount, "/")
	if err := checkMount(mount); err != nil {
		return nil, err
	}
	c, err := newClient(address, opts)
	if err != nil {
		return nil, err
	}
	return &Admin{c: c, mount: mount}, nil
}

// String names the server and mount; it holds no secret.
func (a *Admin) String() string { return fmt.Sprintf("vaulttransit.Admin(%s, %s)", a.c.base, a.mount) }

// Close drops the Admin's idle connections.
func (a *Admin) Close() error {
	a.c.close()
	return nil
}

// CreateKey creates the Transit key name of keyType ("" for aes256-gcm96,
// Vault's default; Wrap and Unwrap need an AEAD type: aes256-gcm96,
// aes128-gcm96 or chacha20-poly1305). Creating a key that exists changes
// nothing.
func (a *Admin) CreateKey(ctx context.Context, name, keyType string) error {
	if err := checkName(name); err != nil {
		return err
	}
	body := map[string]any{}
	if keyType != "" {
		body["type"] = keyType
	}
	return a.post(ctx, "create key", name, a.keyPath(name), body)
}

// Rotate adds a version to the key and makes it the one Wrap encrypts
// with. Older versions keep decrypting down to MinDecryptionVersion.
func (a *Admin) Rotate(ctx context.Context, name string) error {
	if err := checkName(name); err != nil {
		return err
	}
	return a.post(ctx, "rotate key", name, a.keyPath(name)+"/rotate", nil)
}

// SetMinDecryptionVersion stops versions below version from decrypting:
// Unwrap of a key wrapped under them fails with kms.ErrDisabled. Lowering
// it again makes them decrypt again (Vault keeps the key material; it is
// not erasure). Rewrap what KeyVersion reports as older first.
func (a *Admin) SetMinDecryptionVersion(ctx context.Context, name string, version int) error {
	if err := checkName(name); err != nil {
		return err
	}
	if version < 1 {
		return fmt.Errorf("vaulttransit: min_decryption_version %d: %w", version, kms.ErrInvalidArgument)
	}
	return a.post(ctx, "configure key", name, a.keyPath(name)+"/config", map[string]any{"min_decryption_version": version})
}

// Key reads the key's versions and settings.
func (a *Admin) Key(ctx context.Context, name string) (KeyInfo, error) {
	if err := checkName(name); err != nil {
		return KeyInfo{}, err
	}
	resp, err := a.c.do(ctx, "read key", "GET", a.keyPath(name), nil)
	if err != nil {
		return KeyInfo{}, a.errorf(ctx, "read key", name, err)
	}
	var data struct {
		Name                 string                     `json:"name"`
		Type                 string                     `json:"type"`
		LatestVersion        int                        `json:"latest_version"`
		MinDecryptionVersion int                        `json:"min_decryption_version"`
		MinEncryptionVersion int                        `json:"min_encryption_version"`
		Keys                 map[string]json.RawMessage `json:"keys"`
		Derived              bool                       `json:"derived"`
		SupportsEncryption   bool                       `json:"supports_encryption"`
		SupportsDecryption   bool                       `json:"supports_decryption"`
	}
	if err := json.Unmarshal(resp.Data, &data); err != nil {
		return KeyInfo{}, a.errorf(ctx, "read key", name, fmt.Errorf("the answer is not a key: %w", kms.ErrBackend))
	}
	info := KeyInfo{
		Name: data.Name, Type: data.Type,
		LatestVersion:        data.LatestVersion,
		MinDecryptionVersion: data.MinDecryptionVersion,
		MinEncryptionVersion: data.MinEncryptionVersion,
		Versions:             map[int]time.Time{},
		Derived:              data.Derived,
		SupportsEncryption:   data.SupportsEncryption,
		SupportsDecryption:   data.SupportsDecryption,
	}
	for k, raw := range data.Keys {
		v, err := strconv.Atoi(k)
		if err != nil {
			continue
		}
		var created int64 // symmetric keys: creation time in Unix seconds
		_ = json.Unmarshal(raw, &created)
		info.Versions[v] = time.Unix(created, 0).UTC()
		info.LatestVersion = max(info.LatestVersion, v)
	}
	return info, nil
}

func (a *Admin) keyPath(name string) string { return a.mount + "/keys/" + url.PathEscape(name) }

func (a *Admin) post(ctx context.Context, op, name, path string, body map[string]any) error {
	var b []byte
	if body != nil {
		b, _ = json.Marshal(body)
	}
	if _, err := a.c.do(ctx, op, "POST", path, b); err != nil {
		return a.errorf(ctx, op, name, err)
	}
	return nil
}

func (a *Admin) errorf(ctx context.Context, op, name string, err error) error {
	if cerr := ctx.Err(); cerr != nil {
		err = cerr
	}
	return fmt.Errorf("vaulttransit: %s %q at %s: %w", op, a.mount+"/keys/"+name, a.c.base, err)
}
