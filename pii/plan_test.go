package pii

import (
	"errors"
	"fmt"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

type (
	badKind struct {
		ID    string `pii:"id"`
		Email string `pii:"emial"`
	}
	badOption struct {
		ID    string `pii:"id"`
		Email string `pii:"email,searh=X"`
	}
	badType struct {
		ID  string `pii:"id"`
		Age int    `pii:"dob"`
	}
	missingSibling struct {
		ID    string `pii:"id"`
		Email string `pii:"email,search=EmailIdx"`
	}
	siblingWrongType struct {
		ID         string `pii:"id"`
		Email      string `pii:"email,search=EmailIndex"`
		EmailIndex []byte
	}
	siblingTagged struct {
		ID         string `pii:"id"`
		Email      string `pii:"email,search=EmailIndex"`
		EmailIndex string `pii:"text"`
	}
	siblingShared struct {
		ID    string `pii:"id"`
		A     string `pii:"email,search=Index"`
		B     string `pii:"email,search=Index"`
		Index string
	}
	twoIDs struct {
		ID  string `pii:"id"`
		Key string `pii:"id"`
	}
	unexportedTagged struct {
		ID    string `pii:"id"`
		email string `pii:"email"`
	}
	hiddenNested struct {
		ID   string `pii:"id"`
		addr Address
	}
	noID struct {
		Email string `pii:"email"`
	}
	badIDType struct {
		ID    []int  `pii:"id"`
		Email string `pii:"email"`
	}
	untaggedValue struct {
		ID  string `pii:"id"`
		DOB Value[time.Time]
	}
	badValue struct {
		ID  string                 `pii:"id"`
		Set Value[map[string]bool] `pii:"text"`
	}
	nestedBad struct {
		ID   string `pii:"id"`
		Home struct {
			Street int `pii:"street"`
		}
	}
	bindCollision struct {
		ID string `pii:"id"`
		A  string `pii:"name,bind=B"`
		B  string `pii:"name"`
	}
	tokenOnValue struct {
		ID   string        `pii:"id"`
		Card Value[string] `pii:"card,token=fpe"`
	}
	searchOnValue struct {
		ID    string        `pii:"id"`
		Email Value[string] `pii:"email,search=I"`
		I     string
	}
	indexIsString struct {
		ID    string `pii:"id"`
		Email string `pii:"email,search=I"`
		I     String
	}
)

type Address struct {
	Street   string `pii:"street"`
	City     string `pii:"city"`
	Postcode string `pii:"postcode,search=PostcodeIndex"`

	PostcodeIndex string
}

func TestPlanErrorsNameTheField(t *testing.T) {
	for _, tc := range []struct {
		v    any
		err  error
		path string
		msg  string
	}{
		{badKind{}, ErrInvalidTag, "Email", `unknown kind "emial"`},
		{badOption{}, ErrInvalidTag, "Email", `unknown option "searh"`},
		{badType{}, ErrUnsupportedType, "Age", "use pii.Value[int]"},
		{missingSibling{}, ErrInvalidTag, "Email", "search=EmailIdx names no field"},
		{siblingWrongType{}, ErrInvalidTag, "Email", "must be a plain string"},
		{siblingTagged{}, ErrInvalidTag, "Email", "must be untagged"},
		{siblingShared{}, ErrInvalidTag, "B", "already the index of A"},
		{twoIDs{}, ErrInvalidTag, "Key", "second id field"},
		{unexportedTagged{}, ErrUnexportedField, "email", "unexported"},
		{hiddenNested{}, ErrUnexportedField, "addr", "unexported"},
		{noID{}, ErrMissingID, "", "no `pii:\"id\"` field"},
		{badIDType{}, ErrUnsupportedType, "ID", "id field must be"},
		{untaggedValue{}, ErrInvalidTag, "DOB", "must be tagged"},
		{badValue{}, ErrUnsupportedType, "Set", "map[string]bool"},
		{nestedBad{}, ErrUnsupportedType, "Home.Street", "int"},
		{bindCollision{}, ErrInvalidTag, "B", `two fields bound as "B"`},
		{tokenOnValue{}, ErrUnsupportedType, "Card", "token="},
		{searchOnValue{}, ErrUnsupportedType, "Email", "search="},
		{indexIsString{}, ErrInvalidTag, "Email", "plain string"},
	} {
		name := reflect.TypeOf(tc.v).Name()
		t.Run(name, func(t *testing.T) {
			env := newEnv(t, Options{})
			ptr := reflect.New(reflect.TypeOf(tc.v)).Interface()
			err := env.p.Seal(ctx, ptr)
			require.ErrorIs(t, err, tc.err)
			var fe *FieldError
			require.True(t, errors.As(err, &fe), "a *FieldError")
			assert.Equal(t, name, fe.RecordType)
			assert.Equal(t, tc.path, fe.Path)
			assert.Contains(t, err.Error(), tc.msg)
			// Open refuses the same way.
			assert.ErrorIs(t, env.p.Open(ctx, ptr), tc.err)
		})
	}
}

func TestPlanIsBuiltOncePerType(t *testing.T) {
	type once struct {
		ID   string `pii:"id"`
		Name string `pii:"name"`
	}
	typ := reflect.TypeFor[once]()
	var wg sync.WaitGroup
	got := make([]*rootPlan, 8)
	for i := range got {
		wg.Add(1)
		go func() { defer wg.Done(); got[i] = planFor(typ) }()
	}
	wg.Wait()
	for _, p := range got {
		assert.Same(t, got[0], p)
	}
	assert.Equal(t, "Name:name/identity", got[0].st.describe())
}

func TestPlanCarriesKindsAndClasses(t *testing.T) {
	rp := planFor(reflect.TypeFor[Customer]())
	require.NoError(t, rp.err)
	assert.Equal(t, "Name:name/identity Email:email/contact Phone:phone/contact NationalID:national_id/government_id", rp.st.describe())
	assert.False(t, rp.indirect, "a flat record needs no reference tracking")
}

func TestPlanSkipsDashAndUntaggedLeaves(t *testing.T) {
	type skip struct {
		ID       string   `pii:"id"`
		Name     string   `pii:"name"`
		Ignored  *Address `pii:"-"`
		internal Address  `pii:"-"`
		Created  time.Time
		Note     string
	}
	rp := planFor(reflect.TypeFor[skip]())
	require.NoError(t, rp.err)
	assert.Empty(t, rp.st.children, "time.Time and '-' fields are not walked")
	assert.False(t, rp.indirect)
	_ = skip{}.internal
}

// describe lists a struct plan for tests and debugging.
func (st *structPlan) describe() string {
	var b strings.Builder
	for _, lf := range st.leaves {
		fmt.Fprintf(&b, "%s:%s/%s ", lf.seg, lf.kind, lf.class)
	}
	return strings.TrimSpace(b.String())
}

type Entity struct {
	ID string `pii:"id"`
}

type Named struct {
	Key string `pii:"id,record=named"`
}

func TestIDPromotedFromAnEmbeddedStruct(t *testing.T) {
	type Patient struct {
		Entity
		Name string `pii:"name"`
	}
	type Deep struct {
		Patient
		Note string `pii:"text"`
	}
	env := newEnv(t, Options{})
	p := Patient{Entity: Entity{ID: "pat_1"}, Name: "Lucy"}
	require.NoError(t, env.p.Seal(ctx, &p))
	moved := Patient{Entity: Entity{ID: "pat_2"}, Name: p.Name}
	assert.ErrorIs(t, env.p.Open(ctx, &moved), ErrInvalidCiphertext, "the promoted ID binds")
	require.NoError(t, env.p.Open(ctx, &p))
	assert.Equal(t, "Lucy", p.Name)

	d := Deep{Note: "x"}
	err := env.p.Seal(ctx, &d)
	require.ErrorIs(t, err, ErrMissingID)
	assert.Contains(t, err.Error(), "Deep.Patient.Entity.ID")
	d.ID = "deep_1"
	require.NoError(t, env.p.Seal(ctx, &d))

	type Two struct {
		Entity
		Named
		Name string `pii:"name"`
	}
	assert.ErrorIs(t, env.p.Seal(ctx, &Two{}), ErrInvalidTag)
	type Own struct {
		Entity
		Own  string `pii:"id"`
		Name string `pii:"name"`
	}
	o := Own{Own: "own", Name: "x"}
	require.NoError(t, env.p.Seal(ctx, &o), "a declared id wins over a promoted one")
	type Renamed struct {
		Named
		Name string `pii:"name"`
	}
	assert.ErrorIs(t, env.p.Seal(ctx, &Renamed{}), ErrInvalidTag)
}
