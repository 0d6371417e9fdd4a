// Package tokenize is a stand-in with a type that reveals.
package tokenize

type Entry struct{ value string }

func (e *Entry) Reveal() string { return e.value }
