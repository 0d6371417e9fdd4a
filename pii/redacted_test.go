package pii

import (
	"bytes"
	"encoding/json"
	"fmt"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

type Profile struct {
	ID    string           `pii:"id"`
	Name  String           `pii:"name"`
	Email String           `pii:"email"`
	DOB   Value[time.Time] `pii:"dob"`
}

const secretName, secretEmail = "Lucy Westenra", "lucy@example.com"

func profile() Profile {
	return Profile{ID: "p1", Name: secretName, Email: secretEmail, DOB: ValueOf(time.Date(1987, 4, 12, 0, 0, 0, 0, time.UTC))}
}

func assertClean(t *testing.T, out, how string) {
	t.Helper()
	for _, s := range []string{secretName, "Lucy", "Westenra", secretEmail, "1987"} {
		assert.NotContains(t, out, s, how)
	}
}

func TestRedactingTypesNeverPrint(t *testing.T) {
	p := profile()
	for _, verb := range []string{"%v", "%+v", "%#v", "%s", "%q", "%x", "%X", "%d", "%10s", "%-8v", "%T"} {
		assertClean(t, fmt.Sprintf(verb, p), verb+" of the record")
		assertClean(t, fmt.Sprintf(verb, p.Name), verb+" of a String")
		assertClean(t, fmt.Sprintf(verb, p.DOB), verb+" of a Value")
		assertClean(t, fmt.Sprintf(verb, &p), verb+" of a pointer")
	}
	assert.Equal(t, "[redacted]", fmt.Sprint(p.Name))
	assert.Equal(t, `"[redacted]"`, fmt.Sprintf("%q", p.Name))
	assert.Equal(t, `pii.String("[redacted]")`, p.Name.GoString())
	assert.Equal(t, "pii.Value[[redacted]]", p.DOB.GoString())
	assert.Equal(t, "[redacted]", p.Name.String()+"")
	assert.Equal(t, "[redacted]", p.DOB.String())

	var buf bytes.Buffer
	for _, h := range []slog.Handler{slog.NewTextHandler(&buf, nil), slog.NewJSONHandler(&buf, nil)} {
		l := slog.New(h)
		l.Info("login", "name", p.Name, "dob", p.DOB, "profile", p, "ptr", &p)
		l.Info("group", slog.Group("g", slog.Any("email", p.Email)))
	}
	assertClean(t, buf.String(), "slog")
	assert.Contains(t, buf.String(), "[redacted]")

	b, err := json.Marshal(p)
	require.NoError(t, err)
	assertClean(t, string(b), "json")
	assert.JSONEq(t, `{"ID":"p1","Name":"[redacted]","Email":"[redacted]","DOB":"[redacted]"}`, string(b))
}

func TestRevealIsTheOnlyWayOut(t *testing.T) {
	p := profile()
	assert.Equal(t, secretName, p.Name.Reveal())
	dob, err := p.DOB.Reveal()
	require.NoError(t, err)
	assert.Equal(t, 1987, dob.Year())

	var in Profile
	require.NoError(t, json.Unmarshal([]byte(`{"ID":"p2","Name":"Mina Harker","DOB":"1990-01-02T00:00:00Z"}`), &in))
	assert.Equal(t, "Mina Harker", in.Name.Reveal())
	d, _ := in.DOB.Reveal()
	assert.Equal(t, 1990, d.Year())
	require.NoError(t, json.Unmarshal([]byte(`{"DOB":null}`), &in))
	assert.True(t, in.DOB.IsZero())
	assert.Error(t, json.Unmarshal([]byte(`{"DOB":12}`), &in))
}

func TestRedactingTypesAsDatabaseValues(t *testing.T) {
	env := newEnv(t, Options{})
	p := profile()

	_, err := p.Name.Value()
	assert.ErrorIs(t, err, ErrPlaintext, "plaintext never reaches the database")
	_, err = p.DOB.Value()
	assert.ErrorIs(t, err, ErrPlaintext)
	v, err := String("").Value()
	require.NoError(t, err)
	assert.Equal(t, "", v)
	v, err = Value[int]{}.Value()
	require.NoError(t, err)
	assert.Nil(t, v)

	require.NoError(t, env.p.Seal(ctx, &p))
	nv, err := p.Name.Value()
	require.NoError(t, err)
	dv, err := p.DOB.Value()
	require.NoError(t, err)
	assert.True(t, strings.HasPrefix(nv.(string), "pg1."))

	var back Profile
	back.ID = "p1"
	require.NoError(t, back.Name.Scan([]byte(nv.(string))))
	require.NoError(t, back.Email.Scan(p.Email.Reveal()))
	require.NoError(t, back.DOB.Scan(dv))
	assert.True(t, back.DOB.IsSealed())
	_, err = back.DOB.Reveal()
	assert.ErrorIs(t, err, ErrSealed)
	require.NoError(t, env.p.Open(ctx, &back))
	assert.Equal(t, secretName, back.Name.Reveal())

	// Scanning a plaintext column (a database being migrated) gives a
	// plain Value that Open refuses unless migrating.
	var mig Value[time.Time]
	require.NoError(t, mig.Scan("1987-04-12T00:00:00Z"))
	require.NoError(t, mig.Scan(time.Date(1987, 4, 12, 0, 0, 0, 0, time.UTC)))
	assert.False(t, mig.IsSealed())
	assert.Error(t, mig.Scan("not a date"))
	assert.Error(t, mig.Scan("pg1.truncated"))
	assert.Error(t, mig.Scan(3.5))
	require.NoError(t, mig.Scan(nil))
	assert.True(t, mig.IsZero())

	var s String
	require.NoError(t, s.Scan(nil))
	assert.Error(t, s.Scan(42))

	var n Value[int32]
	require.NoError(t, n.Scan("12"))
	x, _ := n.Reveal()
	assert.Equal(t, int32(12), x)
	assert.Error(t, n.Scan("99999999999"))
}

func TestValueCodecs(t *testing.T) {
	env := newEnv(t, Options{})
	type myInt int16
	type Typed struct {
		ID   string         `pii:"id"`
		B    Value[bool]    `pii:"text"`
		U    Value[uint8]   `pii:"text"`
		F    Value[float64] `pii:"text"`
		S    Value[string]  `pii:"text"`
		Raw  Value[[]byte]  `pii:"text"`
		Mine Value[myInt]   `pii:"text"`
		F32  Value[float32] `pii:"text"`
		Zero Value[int]     `pii:"text"`
		Emp  Value[string]  `pii:"text"`
	}
	in := Typed{ID: "t", B: ValueOf(true), U: ValueOf(uint8(255)), F: ValueOf(-1.5e300), S: ValueOf("ü"),
		Raw: ValueOf([]byte{0, 1, 2}), Mine: ValueOf(myInt(-7)), F32: ValueOf(float32(0.1)), Zero: ValueOf(0), Emp: ValueOf("")}
	r := in
	require.NoError(t, env.p.Seal(ctx, &r))
	assert.True(t, r.Zero.IsSealed(), "an explicit zero is a value")
	assert.True(t, r.Emp.IsSealed())
	require.NoError(t, env.p.Open(ctx, &r))
	assert.Equal(t, in, r)
}
