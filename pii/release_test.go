package pii

import (
	"context"
	"fmt"
	"reflect"
	"strings"
	"testing"
	"unsafe"

	"github.com/stretchr/testify/assert"

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

// TestReleaseResetsWalkers fills every field of a sealer, an opener and a
// redactor and checks that release leaves nothing of the call behind but
// emptied buffers — so that a field added to one of them without a reset
// fails here.
func TestReleaseResetsWalkers(t *testing.T) {
	// Buffers that release empties but keeps: slices may keep their
	// capacity, a chunk list its first (cleared) chunk, the gate its
	// Prepared; and the events' last lists (field paths, classes, key
	// names and reasons, no values), which the next call may share.
	kept := map[string]bool{"gate.prep": true, "events.lastLists": true}
	for _, v := range []interface{ release() }{new(sealer), new(opener), new(redactor)} {
		rv := reflect.ValueOf(v).Elem()
		fill(t, rv, 6)
		v.release()
		assertReleased(t, rv, reflect.TypeOf(v).Elem().Name(), kept)
	}
}

// assertReleased checks that v, at path, holds nothing but emptied
// buffers.
func assertReleased(t *testing.T, v reflect.Value, path string, kept map[string]bool) {
	t.Helper()
	short := path[strings.IndexByte(path, '.')+1:]
	switch {
	case kept[short]:
	case v.Kind() == reflect.Struct && v.Type() != reflect.TypeFor[reflect.Value]():
		for i := range v.NumField() {
			f := v.Field(i)
			f = reflect.NewAt(f.Type(), unsafe.Pointer(f.UnsafeAddr())).Elem()
			assertReleased(t, f, path+"."+v.Type().Field(i).Name, kept)
		}
	case v.Kind() == reflect.Slice && strings.HasSuffix(path, ".chunks"):
		assert.LessOrEqual(t, v.Len(), 1, "%s keeps one chunk at most", path)
		for i := range v.Len() {
			assert.True(t, v.Index(i).Elem().IsZero(), "%s: the kept chunk is cleared", path)
		}
	case v.Kind() == reflect.Slice, v.Kind() == reflect.Map:
		assert.Zero(t, v.Len(), "%s is emptied", path)
	case v.Kind() == reflect.Array:
		for i := range v.Len() {
			assertReleased(t, v.Index(i), fmt.Sprintf("%s[%d]", path, i), kept)
		}
	default:
		assert.True(t, v.IsZero(), "release resets %s", path)
	}
}
