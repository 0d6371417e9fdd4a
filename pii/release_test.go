package pii

import (
	"context"
	"reflect"
	"testing"
	"unsafe"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/piiguard/piiguard/access"
)

// nopAEAD stands in for a tink.AEAD in a walker filled with garbage.
type nopAEAD struct{}

func (nopAEAD) Encrypt(p, _ []byte) ([]byte, error) { return p, nil }
func (nopAEAD) Decrypt(c, _ []byte) ([]byte, error) { return c, nil }

// fill sets every field of the value v points into to something other
// than its zero value, to depth levels of nested structs and arrays.
func fill(t *testing.T, v reflect.Value, depth int) {
	t.Helper()
	candidates := []any{context.Background(), access.InsecureAllowAll, nopAEAD{}}
	switch v.Kind() {
	case reflect.String:
		v.SetString("x")
	case reflect.Bool:
		v.SetBool(true)
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		v.SetInt(1)
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		v.SetUint(1)
	case reflect.Pointer:
		v.Set(reflect.New(v.Type().Elem()))
	case reflect.Slice:
		v.Set(reflect.MakeSlice(v.Type(), 1, 4))
		if depth > 0 {
			fill(t, v.Index(0), depth-1)
		}
	case reflect.Map:
		v.Set(reflect.MakeMap(v.Type()))
	case reflect.Interface:
		for _, c := range candidates {
			if reflect.TypeOf(c).Implements(v.Type()) {
				v.Set(reflect.ValueOf(c))
				return
			}
		}
		t.Fatalf("no stand-in for interface %s", v.Type())
	case reflect.Array:
		for i := range v.Len() {
			if depth > 0 {
				fill(t, v.Index(i), depth-1)
			}
		}
	case reflect.Struct:
		if v.Type() == reflect.TypeFor[reflect.Value]() {
			v.Set(reflect.ValueOf(reflect.ValueOf(1)))
			return
		}
		for i := range v.NumField() {
			if depth > 0 {
				f := v.Field(i)
				fill(t, reflect.NewAt(f.Type(), unsafe.Pointer(f.UnsafeAddr())).Elem(), depth-1)
			}
		}
	}
}

// TestReleaseResetsWalker fills every field of a walker and checks that
// release leaves nothing of the call behind but emptied buffers — so that a
// field added to walker without a reset in release fails here.
func TestReleaseResetsWalker(t *testing.T) {
	w := new(walker)
	fill(t, reflect.ValueOf(w).Elem(), 3)
	require.NotNil(t, w.gate.checker)
	w.release()

	kept := map[string]bool{"path": true, "scratch": true, "key": true, "raw": true, "pending": true, "events": true}
	v := reflect.ValueOf(w).Elem()
	for i := range v.NumField() {
		name, f := v.Type().Field(i).Name, v.Field(i)
		switch {
		case kept[name]:
			assert.Zero(t, f.Len(), "%s is emptied", name)
		case name == "groups":
			for _, g := range w.groups {
				assert.Empty(t, g.fields)
				assert.Empty(t, g.classes)
				assert.Empty(t, g.decisions)
				assert.Empty(t, g.keyNames)
				g.fields, g.classes, g.decisions, g.keyNames = nil, nil, nil, nil
				assert.Zero(t, g, "an event group holds nothing but buffers")
			}
		case name == "gate":
			g := w.gate
			assert.Empty(t, g.slots)
			assert.Empty(t, g.memo)
			g.prep, g.slots, g.memo = nil, nil, nil
			assert.Zero(t, g, "the gate holds nothing but buffers")
		default:
			assert.True(t, f.IsZero(), "release resets walker.%s", name)
		}
	}
}
