package records

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log"
	"log/slog"

	"github.com/piiguard/piiguard/pii"
)

type Address struct {
	Street string `pii:"street"`
	City   string
}

type Customer struct {
	ID    string `pii:"id"`
	Email string `pii:"email"`
	Home  Address
	Notes string
}

type Safe struct {
	ID    string     `pii:"id"`
	Email pii.String `pii:"email"`
}

type Hidden struct {
	ID    string `pii:"id"`
	Email string `pii:"email" json:"-"`
}

type Stringer struct {
	ID    string `pii:"id"`
	Email string `pii:"email"`
}

func (Stringer) String() string { return "[customer]" }

func marshal(ctx context.Context, p *pii.Protector, w io.Writer) {
	var c Customer
	_, _ = json.Marshal(c) // sealed: ciphertexts
	_ = p.Open(ctx, &c)
	_, _ = json.Marshal(c)                   // want `record c is marshalled by json.Marshal after Open: its tagged fields Email, Home.Street hold plaintext`
	_, _ = json.MarshalIndent(&c, "", " ")   // want `record &c is marshalled by json.MarshalIndent`
	_ = json.NewEncoder(w).Encode(c)         // want `record c is marshalled by \(\*json.Encoder\).Encode`
	log.Printf("%+v", c)                     // want `record c is logged by log.Printf after Open`
	slog.Info("customer", "c", c)            // want `record c is logged by slog.Info`
	slog.Info("customer", slog.Any("c", &c)) // want `record &c is logged by slog.Info`
	fmt.Println(c.Notes)                     // untagged

	_ = pii.Redact(&c)
	_, _ = json.Marshal(c) // masked again
}

func others(ctx context.Context, p *pii.Protector) {
	var s Safe
	var h Hidden
	var st Stringer
	var cs []Customer
	_ = p.Open(ctx, &s)
	_ = p.Open(ctx, &h)
	_ = p.Open(ctx, &st)
	_ = p.OpenAll(ctx, &cs)
	_, _ = json.Marshal(s)  // pii.String marshals as "[redacted]"
	_, _ = json.Marshal(h)  // json:"-"
	log.Println(h)          // want `record h is logged by log.Println after Open: its tagged fields Email`
	log.Println(st)         // formats itself
	_, _ = json.Marshal(st) // want `record st is marshalled`
	_, _ = json.Marshal(cs) // want `record cs is marshalled by json.Marshal after Open: its tagged fields \[\].Email, \[\].Home.Street`
	_ = p.Seal(ctx, &cs)
	_, _ = json.Marshal(cs) // sealed again
}
