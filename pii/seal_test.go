package pii

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/piiguard/piiguard/access"
)

var ctx = context.Background()

func TestSealOpenRoundTrip(t *testing.T) {
	env := newEnv(t, Options{})
	c := lucy()
	require.NoError(t, env.p.Seal(ctx, &c))
	assert.Equal(t, "cus_1001", c.ID)
	assert.Equal(t, "Whitby", c.City)
	for _, v := range []string{c.Name, c.Email, c.Phone, c.NationalID} {
		assert.True(t, strings.HasPrefix(v, "pg1."), "sealed value has the format prefix")
	}
	assert.True(t, strings.HasPrefix(c.EmailIndex, "bi1."))
	require.NoError(t, env.p.Open(ctx, &c))
	want := lucy()
	want.EmailIndex = c.EmailIndex
	assert.Equal(t, want, c)
}

type Contact struct {
	Email      string `pii:"email,search=EmailIndex"`
	EmailIndex string
}

type Account struct {
	ID        int64 `pii:"id"`
	Owner     *Customer
	Home      Address
	Addresses []Address
	Contacts  []*Contact
	ByLabel   map[string]Address
	Byref     map[string]*Contact
	Grid      [2]Address
	Notes     *string          `pii:"text"`
	Photo     []byte           `pii:"text,class=sensitive"`
	BirthDate Value[time.Time] `pii:"dob"`
	Income    Value[int64]     `pii:"text,class=financial"`
	Nick      String           `pii:"name"`
	Meta      any
	Created   time.Time
}

func fullAccount() Account {
	note := "prefers calls after 6pm"
	owner := lucy()
	return Account{
		ID:        42,
		Owner:     &owner,
		Home:      Address{Street: "1 Crescent", City: "Whitby", Postcode: "YO21 3EJ"},
		Addresses: []Address{{Street: "2 Abbey Steps", City: "Whitby", Postcode: "YO22 4DE"}, {Street: "3 Pier Rd", City: "Whitby"}},
		Contacts:  []*Contact{{Email: "mina@example.com"}, nil},
		ByLabel:   map[string]Address{"work": {Street: "4 Bridge St", City: "London", Postcode: "SW1A 2AA"}},
		Byref:     map[string]*Contact{"arthur": {Email: "arthur@example.com"}},
		Grid:      [2]Address{{Street: "5 Grid Ln"}, {}},
		Notes:     &note,
		Photo:     []byte{0xff, 0xd8, 0xff, 0xe0},
		BirthDate: ValueOf(time.Date(1987, 4, 12, 0, 0, 0, 0, time.UTC)),
		Income:    ValueOf(int64(85000)),
		Nick:      "Lu",
		Meta:      "untouched",
		Created:   time.Date(2024, 1, 2, 3, 4, 5, 0, time.UTC),
	}
}

func TestSealOpenWalksNestedStructsPointersSlicesAndMaps(t *testing.T) {
	env := newEnv(t, Options{})
	a := fullAccount()
	orig := fullAccount()
	noteBefore := a.Notes
	require.NoError(t, env.p.Seal(ctx, &a))

	sealed := []string{a.Owner.Name, a.Owner.Email, a.Home.Street, a.Home.City, a.Home.Postcode,
		a.Addresses[0].Street, a.Addresses[1].Street, a.Contacts[0].Email, a.ByLabel["work"].Street,
		a.Byref["arthur"].Email, a.Grid[0].Street, *a.Notes, string(a.Photo), a.Nick.Reveal()}
	for i, v := range sealed {
		assert.True(t, strings.HasPrefix(v, "pg1."), "value %d is sealed", i)
	}
	assert.True(t, a.BirthDate.IsSealed())
	assert.True(t, a.Income.IsSealed())
	assert.Equal(t, "", a.Grid[1].Street, "empty values stay empty")
	assert.Nil(t, a.Contacts[1])
	assert.NotEmpty(t, a.Home.PostcodeIndex)
	assert.NotEmpty(t, a.Contacts[0].EmailIndex)
	assert.Equal(t, "prefers calls after 6pm", *noteBefore, "the caller's *string is not written through")
	assert.Equal(t, "untouched", a.Meta)

	require.NoError(t, env.p.Open(ctx, &a))
	assert.Equal(t, orig.Owner.Name, a.Owner.Name)
	assert.Equal(t, orig.Home.Street, a.Home.Street)
	assert.Equal(t, orig.Addresses[1].Street, a.Addresses[1].Street)
	assert.Equal(t, orig.Contacts[0].Email, a.Contacts[0].Email)
	assert.Equal(t, orig.ByLabel["work"].Postcode, a.ByLabel["work"].Postcode)
	assert.Equal(t, orig.Byref["arthur"].Email, a.Byref["arthur"].Email)
	assert.Equal(t, orig.Grid[0].Street, a.Grid[0].Street)
	assert.Equal(t, *orig.Notes, *a.Notes)
	assert.Equal(t, orig.Photo, a.Photo)
	assert.Equal(t, orig.Nick, a.Nick)
	dob, err := a.BirthDate.Reveal()
	require.NoError(t, err)
	assert.True(t, dob.Equal(time.Date(1987, 4, 12, 0, 0, 0, 0, time.UTC)))
	income, err := a.Income.Reveal()
	require.NoError(t, err)
	assert.Equal(t, int64(85000), income)
}

func TestSealIsIdempotent(t *testing.T) {
	env := newEnv(t, Options{})
	c := lucy()
	require.NoError(t, env.p.Seal(ctx, &c))
	once := c
	require.NoError(t, env.p.Seal(ctx, &c))
	assert.Equal(t, once, c, "a sealed record is not sealed twice")

	// A sealed field whose index was lost gets it back.
	c.EmailIndex = ""
	require.NoError(t, env.p.Seal(ctx, &c))
	assert.Equal(t, once.EmailIndex, c.EmailIndex)

	// Changing one field re-seals that field only.
	c.Phone = "+44 20 7946 0000"
	require.NoError(t, env.p.Seal(ctx, &c))
	assert.Equal(t, once.Name, c.Name)
	assert.NotEqual(t, once.Phone, c.Phone)
	require.NoError(t, env.p.Open(ctx, &c))
	assert.Equal(t, "+44 20 7946 0000", c.Phone)
}

func TestCiphertextIsBoundToFieldRowAndType(t *testing.T) {
	env := newEnv(t, Options{})
	a, b := lucy(), lucy()
	b.ID = "cus_1002"
	require.NoError(t, env.p.Seal(ctx, &a))
	require.NoError(t, env.p.Seal(ctx, &b))

	t.Run("another field", func(t *testing.T) {
		c := a
		c.Phone = a.Name
		before := c
		err := env.p.Open(ctx, &c)
		require.ErrorIs(t, err, ErrInvalidCiphertext)
		var fe *FieldError
		require.ErrorAs(t, err, &fe)
		assert.Equal(t, "Phone", fe.Path)
		assert.Equal(t, before, c, "the record is unchanged")
	})
	t.Run("another row", func(t *testing.T) {
		c := a
		c.Email = b.Email
		assert.ErrorIs(t, env.p.Open(ctx, &c), ErrInvalidCiphertext)
	})
	t.Run("another ID", func(t *testing.T) {
		c := a
		c.ID = "cus_9999"
		assert.ErrorIs(t, env.p.Open(ctx, &c), ErrInvalidCiphertext)
	})
	t.Run("another record type", func(t *testing.T) {
		type Lead struct {
			ID   string `pii:"id"`
			Name string `pii:"name"`
		}
		l := Lead{ID: a.ID, Name: a.Name}
		assert.ErrorIs(t, env.p.Open(ctx, &l), ErrInvalidCiphertext)
	})
	t.Run("seal refuses a copied ciphertext", func(t *testing.T) {
		c := lucy()
		c.Name = b.Name // sealed for another row
		assert.ErrorIs(t, env.p.Seal(ctx, &c), ErrInvalidCiphertext)
		assert.Equal(t, "Lucy.Westenra@example.com", c.Email, "nothing was sealed")
	})
	t.Run("same ID and path in a renamed type opens with record=", func(t *testing.T) {
		type CustomerV2 struct {
			Key      string `pii:"id,record=Customer"`
			FullName string `pii:"name,bind=Name"`
		}
		c := CustomerV2{Key: a.ID, FullName: a.Name}
		require.NoError(t, env.p.Open(ctx, &c))
		assert.Equal(t, "Lucy Westenra", c.FullName)
	})
}

func TestSealBindsSliceElementsToTheirPath(t *testing.T) {
	env := newEnv(t, Options{})
	a := Account{ID: 7, Addresses: []Address{{Street: "A"}}, Home: Address{Street: "H"}}
	require.NoError(t, env.p.Seal(ctx, &a))
	a.Home.Street, a.Addresses[0].Street = a.Addresses[0].Street, a.Home.Street
	assert.ErrorIs(t, env.p.Open(ctx, &a), ErrInvalidCiphertext)
}

func TestOpenRefusesPlaintextUnlessMigrating(t *testing.T) {
	env := newEnv(t, Options{})
	c := lucy()
	err := env.p.Open(ctx, &c)
	require.ErrorIs(t, err, ErrPlaintext)
	assert.Equal(t, lucy(), c)

	mig, err := newProtector(env.kr, Options{Checker: access.InsecureAllowAll, MigrationModeAllowPlaintext: true})
	require.NoError(t, err)
	require.NoError(t, mig.Open(ctx, &c), "plaintext is left as it is")
	assert.Equal(t, lucy(), c)

	// A half-migrated record: some fields sealed, some not.
	half := lucy()
	require.NoError(t, env.p.Seal(ctx, &half))
	half.Phone = "+44 20 7946 8000"
	require.NoError(t, mig.Open(ctx, &half))
	assert.Equal(t, "Lucy Westenra", half.Name)

	// Tampered ciphertext is an error even while migrating.
	sealed := lucy()
	require.NoError(t, env.p.Seal(ctx, &sealed))
	sealed.Name = sealed.Name[:len(sealed.Name)-3]
	assert.ErrorIs(t, mig.Open(ctx, &sealed), ErrInvalidCiphertext)
}

func TestSealIsAllOrNothing(t *testing.T) {
	env := newEnv(t, Options{})
	c := lucy()
	c.NationalID = strings.Repeat("X", MaxValueSize+1) // the last field fails
	before := c
	err := env.p.Seal(ctx, &c)
	require.ErrorIs(t, err, ErrTooLarge)
	assert.Equal(t, before, c)

	batch := []Customer{lucy(), lucy(), lucy()}
	batch[1].ID = "b"
	batch[2].ID = ""
	err = env.p.SealAll(ctx, batch)
	require.ErrorIs(t, err, ErrMissingID)
	assert.Contains(t, err.Error(), "pii: SealAll: record 2: Customer.ID: missing record ID")
	assert.Equal(t, lucy(), batch[0], "no record of a failed batch is changed")

	a := fullAccount()
	a.Byref["arthur"].Email = strings.Repeat("y", MaxValueSize+1)
	err = env.p.Seal(ctx, &a)
	require.ErrorIs(t, err, ErrTooLarge)
	var fe *FieldError
	require.ErrorAs(t, err, &fe)
	assert.Equal(t, "Account", fe.RecordType)
	assert.Equal(t, "Byref[].Email", fe.Path)
	assert.Equal(t, "Lucy Westenra", a.Owner.Name)
	assert.Equal(t, "4 Bridge St", a.ByLabel["work"].Street)
}

func TestMaxValueSizeIsAccepted(t *testing.T) {
	env := newEnv(t, Options{})
	c := lucy()
	c.Name = strings.Repeat("n", MaxValueSize)
	require.NoError(t, env.p.Seal(ctx, &c))
	require.NoError(t, env.p.Open(ctx, &c))
	assert.Len(t, c.Name, MaxValueSize)
}

func TestBatchForms(t *testing.T) {
	env := newEnv(t, Options{})
	vals := []Customer{lucy(), lucy()}
	vals[1].ID = "cus_2"
	require.NoError(t, env.p.SealAll(ctx, vals))
	assert.True(t, strings.HasPrefix(vals[1].Name, "pg1."))
	ptrs := []*Customer{&vals[0], &vals[1]}
	require.NoError(t, env.p.OpenAll(ctx, ptrs))
	assert.Equal(t, "Lucy Westenra", vals[1].Name)

	arr := [2]Customer{lucy(), lucy()}
	require.NoError(t, env.p.SealAll(ctx, &arr))
	require.NoError(t, env.p.OpenAll(ctx, &arr))
	assert.Equal(t, "Lucy Westenra", arr[0].Name)

	require.NoError(t, env.p.SealAll(ctx, []Customer{}))
	assert.ErrorIs(t, env.p.SealAll(ctx, []*Customer{nil}), ErrInvalidRecord)
	assert.ErrorIs(t, env.p.SealAll(ctx, ptrs[:1:1][0]), ErrInvalidRecord)
	assert.ErrorIs(t, env.p.SealAll(ctx, []string{"x"}), ErrInvalidRecord)
	assert.ErrorIs(t, env.p.SealAll(ctx, arr), ErrInvalidRecord, "an array by value cannot be changed")
	c := lucy()
	assert.ErrorIs(t, env.p.SealAll(ctx, []*Customer{&c, &c}), ErrCycle, "the same record twice")
}

func TestInvalidRecords(t *testing.T) {
	env := newEnv(t, Options{})
	var nilCustomer *Customer
	for _, v := range []any{nil, lucy(), nilCustomer, "string", new(int), &[]Customer{}} {
		assert.ErrorIs(t, env.p.Seal(ctx, v), ErrInvalidRecord, "%T", v)
		assert.ErrorIs(t, env.p.Open(ctx, v), ErrInvalidRecord, "%T", v)
		assert.ErrorIs(t, Redact(v), ErrInvalidRecord, "%T", v)
	}
}

type Node struct {
	ID    string `pii:"id"`
	Name  string `pii:"name"`
	Next  *Node
	Kids  []Node
	Other *Node
}

func TestCyclesAndSharedReferencesAreErrors(t *testing.T) {
	env := newEnv(t, Options{})
	n := &Node{ID: "n1", Name: "Jonathan Harker"}
	n.Next = n
	err := env.p.Seal(ctx, n)
	require.ErrorIs(t, err, ErrCycle)
	var fe *FieldError
	require.ErrorAs(t, err, &fe)
	assert.Equal(t, "Next", fe.Path)
	assert.Equal(t, "Jonathan Harker", n.Name)

	shared := &Node{Name: "Mina"}
	m := &Node{ID: "n2", Next: shared, Other: shared}
	assert.ErrorIs(t, env.p.Seal(ctx, m), ErrCycle)

	// A long acyclic chain is fine, and each level is bound to its path.
	chain := &Node{ID: "n3", Name: "a", Next: &Node{Name: "b", Next: &Node{Name: "c"}}, Kids: []Node{{Name: "k"}}}
	require.NoError(t, env.p.Seal(ctx, chain))
	require.NoError(t, env.p.Open(ctx, chain))
	assert.Equal(t, "c", chain.Next.Next.Name)
	assert.Equal(t, "k", chain.Kids[0].Name)

	kids := []Node{{Name: "x"}}
	self := &Node{ID: "n4", Kids: kids}
	self.Kids[0].Kids = kids // the slice contains itself
	assert.ErrorIs(t, env.p.Seal(ctx, self), ErrCycle)
}

func TestInterfaceHoldingATaggedRecordIsAnError(t *testing.T) {
	env := newEnv(t, Options{})
	a := Account{ID: 1, Meta: &Contact{Email: "x@example.com"}}
	err := env.p.Seal(ctx, &a)
	require.ErrorIs(t, err, ErrUnsupportedType)
	assert.Contains(t, err.Error(), "Meta")
	a.Meta = map[string]any{"k": 1}
	require.NoError(t, env.p.Seal(ctx, &a))
}

func TestMissingIDIsAnError(t *testing.T) {
	env := newEnv(t, Options{})
	c := lucy()
	c.ID = ""
	err := env.p.Seal(ctx, &c)
	require.ErrorIs(t, err, ErrMissingID)
	assert.Contains(t, err.Error(), "Customer.ID")

	a := Account{Home: Address{Street: "x"}} // int64 ID 0 is missing
	assert.ErrorIs(t, env.p.Seal(ctx, &a), ErrMissingID)

	empty := Customer{} // nothing to bind: fine
	require.NoError(t, env.p.Seal(ctx, &empty))
}

type uuidLike [4]byte

func (u uuidLike) MarshalText() ([]byte, error) { return []byte(fmt.Sprintf("%x", u[:])), nil }

func TestIDTypes(t *testing.T) {
	env := newEnv(t, Options{})
	type byText struct {
		ID   uuidLike `pii:"id"`
		Name string   `pii:"name"`
	}
	type byUint struct {
		ID   uint16 `pii:"id"`
		Name string `pii:"name"`
	}
	a := byText{ID: uuidLike{1, 2, 3, 4}, Name: "Quincey"}
	require.NoError(t, env.p.Seal(ctx, &a))
	require.NoError(t, env.p.Open(ctx, &a))
	assert.Equal(t, "Quincey", a.Name)
	assert.ErrorIs(t, env.p.Seal(ctx, &byText{Name: "x"}), ErrMissingID)
	b := byUint{ID: 9, Name: "Quincey"}
	require.NoError(t, env.p.Seal(ctx, &b))
	require.NoError(t, env.p.Open(ctx, &b))
}

func TestConcurrentUse(t *testing.T) {
	env := newEnv(t, Options{})
	var wg sync.WaitGroup
	errs := make(chan error, 64)
	for g := 0; g < 8; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < 25; i++ {
				a := fullAccount()
				a.ID = int64(g*100 + i + 1)
				if err := env.p.Seal(ctx, &a); err != nil {
					errs <- err
					return
				}
				if _, err := env.p.SearchTerms(ctx, a, "Contacts[].Email", "mina@example.com"); err != nil {
					errs <- err
					return
				}
				if err := env.p.Open(ctx, &a); err != nil {
					errs <- err
					return
				}
				if a.Owner.Name != "Lucy Westenra" {
					errs <- fmt.Errorf("round trip changed a value")
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
}

func TestResealingTypedValuesIsIdempotentAndChecked(t *testing.T) {
	env := newEnv(t, Options{})
	a := fullAccount()
	require.NoError(t, env.p.Seal(ctx, &a))
	dob := a.BirthDate
	require.NoError(t, env.p.Seal(ctx, &a))
	assert.Equal(t, dob, a.BirthDate)

	b := fullAccount()
	b.ID = 43
	b.BirthDate = dob // sealed for account 42
	assert.ErrorIs(t, env.p.Seal(ctx, &b), ErrInvalidCiphertext)
	assert.ErrorIs(t, env.p.Open(ctx, &b), ErrPlaintext, "the other fields are plaintext")

	c := fullAccount()
	c.Income = ValueOf(int64(1))
	c.BirthDate = Value[time.Time]{}
	require.NoError(t, Redact(&c))
	assert.ErrorIs(t, env.p.Open(ctx, &c), ErrPlaintext, "a masked Value is not a ciphertext")
}
