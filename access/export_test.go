package access

// MemoLen returns the number of decisions m remembers.
func MemoLen(m *Memo) int {
	m.mu.Lock()
	defer m.mu.Unlock()
	return len(m.m)
}
