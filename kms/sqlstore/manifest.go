package sqlstore

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"

	"github.com/piiguard/piiguard/kms"
)

// The manifest table (schema version 2) holds one row, id 1: the store's
// kms.Manifest. keysets is a JSON array of the keyset names, sorted.

// GetManifest returns the store's manifest, or an error wrapping
// kms.ErrNotFound when it has none.
func (s *Store) GetManifest(ctx context.Context) (*kms.Manifest, error) {
	const op = "get manifest"
	if err := s.begin(ctx, op); err != nil {
		return nil, err
	}
	var (
		m                kms.Manifest
		keysets          []byte
		created, updated = nullTime{}, nullTime{}
	)
	err := s.db.QueryRowContext(ctx, s.q.getManifest).Scan(&m.Revision, &m.RootKey, &m.RootCheck, &keysets, &created, &updated)
	if err != nil {
		return nil, s.wrapErr(ctx, op, err)
	}
	if err := json.Unmarshal(keysets, &m.Keysets); err != nil {
		return nil, fmt.Errorf("sqlstore: %s: keysets column: %w", op, kms.ErrCorrupt)
	}
	m.Created, m.Updated = created.t, updated.t
	return &m, nil
}

// PutManifest writes m if the stored revision equals m.Revision (0: no
// manifest yet), in one statement (INSERT … ON CONFLICT DO NOTHING, or
// UPDATE … WHERE revision = ?), and sets m.Revision to the new revision.
// It fails with kms.ErrAlreadyExists or kms.ErrConflict, writing nothing,
// otherwise.
func (s *Store) PutManifest(ctx context.Context, m *kms.Manifest) error {
	const op = "put manifest"
	if m == nil {
		return fmt.Errorf("sqlstore: %s: nil manifest: %w", op, kms.ErrInvalidArgument)
	}
	if err := s.begin(ctx, op); err != nil {
		return err
	}
	for _, c := range []error{
		checkText("root key name", m.RootKey),
		checkTime("created", m.Created),
		checkTime("updated", m.Updated),
	} {
		if c != nil {
			return fmt.Errorf("sqlstore: %s: %w", op, c)
		}
	}
	if m.Revision < 0 {
		return fmt.Errorf("sqlstore: %s: negative revision %d: %w", op, m.Revision, kms.ErrInvalidArgument)
	}
	names := m.Keysets
	if names == nil {
		names = []string{}
	}
	keysets, err := json.Marshal(names)
	if err != nil {
		return fmt.Errorf("sqlstore: %s: %w", op, kms.ErrInvalidArgument)
	}
	next := m.Revision + 1
	args := []any{next, m.RootKey, bytesArg(m.RootCheck), string(keysets), timeArg(s.dialect, m.Created), timeArg(s.dialect, m.Updated)}
	var res sql.Result
	if m.Revision == 0 {
		res, err = s.db.ExecContext(ctx, s.q.insertManifest, args...)
	} else {
		res, err = s.db.ExecContext(ctx, s.q.updateManifest, append(args, m.Revision)...)
	}
	if err != nil {
		return s.wrapErr(ctx, op, err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return s.wrapErr(ctx, op, err)
	}
	switch {
	case n == 1:
		m.Revision = next
		return nil
	case m.Revision == 0:
		return fmt.Errorf("sqlstore: %s: %w", op, kms.ErrAlreadyExists)
	default:
		return fmt.Errorf("sqlstore: %s: revision %d is not the stored one: %w", op, m.Revision, kms.ErrConflict)
	}
}
