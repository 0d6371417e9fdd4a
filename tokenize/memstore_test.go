package tokenize

import (
	"context"
	"slices"
	"sync"
	"time"
)

// memStore is a TokenStore in memory, for the tests of this package
// (package tokenize/sqlvault tests the Vault over SQLite and PostgreSQL).
type memStore struct {
	mu   sync.Mutex
	rows map[string]TokenRecord // by token
}

var _ TokenStore = (*memStore)(nil)

func newMemStore() *memStore { return &memStore{rows: map[string]TokenRecord{}} }

func (m *memStore) FindByIndex(_ context.Context, domain string, indexes [][]byte) ([]TokenRecord, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	var out []TokenRecord
	for _, r := range m.rows {
		if r.Domain == domain && slices.ContainsFunc(indexes, func(ix []byte) bool { return string(ix) == string(r.BlindIndex) }) {
			out = append(out, r)
		}
	}
	return out, nil
}

func (m *memStore) Insert(_ context.Context, r *TokenRecord) (bool, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	for _, o := range m.rows {
		if o.Domain == r.Domain && string(o.BlindIndex) == string(r.BlindIndex) {
			return false, nil
		}
	}
	m.rows[r.Token] = *r
	return true, nil
}

func (m *memStore) Get(_ context.Context, tokens []string) (map[string]TokenRecord, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	out := map[string]TokenRecord{}
	for _, t := range tokens {
		if r, ok := m.rows[t]; ok {
			out[t] = r
		}
	}
	return out, nil
}

func (m *memStore) Delete(_ context.Context, domain, token string, expiredBy time.Time) (bool, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	r, ok := m.rows[token]
	if !ok || r.Domain != domain || !expiredBy.IsZero() && (r.Expires.IsZero() || r.Expires.After(expiredBy)) {
		return false, nil
	}
	delete(m.rows, token)
	return true, nil
}

func (m *memStore) DeleteByIndex(_ context.Context, domain string, indexes [][]byte) (int, error) {
	rows, _ := m.FindByIndex(context.Background(), domain, indexes)
	m.mu.Lock()
	defer m.mu.Unlock()
	for _, r := range rows {
		delete(m.rows, r.Token)
	}
	return len(rows), nil
}

func (m *memStore) PurgeExpired(_ context.Context, now time.Time) (int64, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	var n int64
	for t, r := range m.rows {
		if !r.Expires.IsZero() && !r.Expires.After(now) {
			delete(m.rows, t)
			n++
		}
	}
	return n, nil
}

func (m *memStore) List(_ context.Context, after string, limit int) ([]TokenRecord, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	var toks []string
	for t := range m.rows {
		if t > after {
			toks = append(toks, t)
		}
	}
	slices.Sort(toks)
	out := make([]TokenRecord, 0, min(limit, len(toks)))
	for _, t := range toks[:min(limit, len(toks))] {
		out = append(out, m.rows[t])
	}
	return out, nil
}

func (m *memStore) Rekey(_ context.Context, r *TokenRecord) (bool, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	cur, ok := m.rows[r.Token]
	if !ok {
		return false, nil
	}
	for t, o := range m.rows {
		if t != r.Token && o.Domain == r.Domain && string(o.BlindIndex) == string(r.BlindIndex) {
			return false, nil
		}
	}
	cur.BlindIndex, cur.IndexKeyID, cur.Value, cur.Metadata = r.BlindIndex, r.IndexKeyID, r.Value, r.Metadata
	m.rows[r.Token] = cur
	return true, nil
}
