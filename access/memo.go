package access

import (
	"context"
	"sync"
)

// Bounds of a Memo: past them it stops remembering and passes requests
// through, so a huge export cannot grow it without limit.
const (
	memoMaxEntries    = 4096
	memoMaxPrincipals = 8
)

// Memo wraps a Checker and remembers its decisions for the duration of one
// operation, such as opening every field of a page of records: the same
// question (same principal, action, resource, purpose and break-glass
// reason) is asked of the Checker once.
//
// What is part of the question: every field of the Request, except when the
// wrapped Checker is a *Policy, whose rules say which resource fields they
// read: then the subject ID (never read), the owner ID (unless a rule is
// owner-only), the record's tenant (unless a rule requires the same tenant)
// and the break-glass text (only whether there is one) are left out, so a
// decision is shared across records whose differences cannot change it. For
// any other Checker nothing is left out.
//
// Errors are not remembered: a request that failed is asked again. A Memo is
// meant to be short-lived — create one per operation and drop it — because
// decisions age (an MFA window closes, a policy is replaced). It holds at
// most a few thousand decisions and then passes further requests through.
// A Memo is safe for concurrent use.
type Memo struct {
	c    Checker
	norm memoNormalizer // set when c can say what it reads

	mu         sync.Mutex
	principals []Principal
	m          map[memoKey]Decision
}

var _ Checker = (*Memo)(nil)

// memoNormalizer is implemented by Checkers that know which request fields
// their decisions depend on: memoKey clears the others.
type memoNormalizer interface {
	memoKey(Request) Request
}

type memoKey struct {
	principal  int // index in Memo.principals
	action     Action
	res        Resource
	purpose    Purpose
	breakGlass string
}

// NewMemo returns a Memo over c. It panics if c is nil.
func NewMemo(c Checker) *Memo {
	if c == nil {
		panic("access: NewMemo called with a nil Checker")
	}
	m := &Memo{c: c}
	m.norm, _ = c.(memoNormalizer)
	return m
}

// Check returns the remembered decision for req, or asks the wrapped Checker
// and remembers its answer when it returns no error.
func (m *Memo) Check(ctx context.Context, req Request) (Decision, error) {
	if req.Principal.IsZero() {
		// Not worth remembering; the Checker denies it.
		return m.c.Check(ctx, req)
	}
	kreq := req
	if m.norm != nil {
		kreq = m.norm.memoKey(req)
	}
	m.mu.Lock()
	pi := m.principalIndex(req.Principal)
	key := memoKey{principal: pi, action: kreq.Action, res: kreq.Resource, purpose: kreq.Purpose, breakGlass: kreq.BreakGlass}
	if pi >= 0 {
		if d, ok := m.m[key]; ok {
			m.mu.Unlock()
			return d, nil
		}
	}
	m.mu.Unlock()

	d, err := m.c.Check(ctx, req)
	if err != nil || pi < 0 {
		return d, err
	}
	m.mu.Lock()
	if m.m == nil {
		m.m = make(map[memoKey]Decision)
	}
	if len(m.m) < memoMaxEntries {
		m.m[key] = d
	}
	m.mu.Unlock()
	return d, nil
}

// principalIndex returns p's index in m.principals, adding a copy of it if
// there is room, or -1. m.mu must be held.
func (m *Memo) principalIndex(p Principal) int {
	for i := range m.principals {
		if m.principals[i].equal(p) {
			return i
		}
	}
	if len(m.principals) >= memoMaxPrincipals {
		return -1
	}
	m.principals = append(m.principals, p.clone())
	return len(m.principals) - 1
}
