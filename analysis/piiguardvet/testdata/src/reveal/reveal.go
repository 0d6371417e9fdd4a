package reveal

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log"
	"log/slog"
	"os"
	"strings"
	"time"

	"github.com/piiguard/piiguard/pii"
	"github.com/piiguard/piiguard/tokenize"
)

type Customer struct {
	ID        string               `pii:"id"`
	Email     string               `pii:"email"`
	Phone     *string              `pii:"phone"`
	Name      pii.String           `pii:"name"`
	BirthDate pii.Value[time.Time] `pii:"dob"`
	City      string
	Internal  string `pii:"-"`
}

func revealed(s pii.String, v pii.Value[time.Time], e *tokenize.Entry, logger *slog.Logger, l *log.Logger) error {
	fmt.Println(s.Reveal())                                // want `personal data revealed by pii.String.Reveal is passed to fmt.Println`
	log.Printf("user %s", s.Reveal())                      // want `revealed by pii.String.Reveal is passed to log.Printf`
	l.Println("user", s.Reveal())                          // want `passed to \(\*log.Logger\).Println`
	slog.Info("login", "email", s.Reveal())                // want `passed to slog.Info`
	logger.Warn("login", slog.String("email", s.Reveal())) // want `passed to \(\*slog.Logger\).Warn`
	fmt.Fprintln(os.Stderr, "user", s.Reveal())            // want `passed to fmt.Fprintln to os.Stderr`
	panic(s.Reveal())                                      // want `passed to panic`
}

func errorsCarryNoValues(s pii.String) error {
	if s == "" {
		return errors.New("bad email " + s.Reveal()) // want `passed to errors.New`
	}
	return fmt.Errorf("bad email %q", s.Reveal()) // want `passed to fmt.Errorf`
}

func throughLocals(s pii.String, v pii.Value[time.Time], e *tokenize.Entry) {
	email := s.Reveal()
	lower := strings.ToLower(email)
	msg := fmt.Sprintf("user %s", lower)
	log.Print(msg) // want `revealed by pii.String.Reveal is passed to log.Print`
	dob, err := v.Reveal()
	log.Println(dob, err) // want `revealed by pii.Value.Reveal is passed to log.Println`
	var token = e.Reveal()
	log.Println(token)        // want `revealed by tokenize.Entry.Reveal`
	log.Println(string(s))    // want `revealed by a conversion of pii.String`
	log.Println("n=" + email) // want `passed to log.Println`
}

func afterOpen(ctx context.Context, p *pii.Protector, c Customer, cs []Customer) {
	log.Println(c.Email) // not opened yet: a ciphertext
	if err := p.Open(ctx, &c); err != nil {
		return
	}
	log.Println(c.Email)              // want `revealed by Open \(c.Email, tagged .pii:"email".\) is passed to log.Println`
	slog.Info("x", "phone", *c.Phone) // want `revealed by Open \(c.Phone`
	log.Println(c.City, c.ID)         // untagged and id fields are not protected
	log.Println(c.Name, c.BirthDate)  // pii types redact themselves
	log.Println(c.Internal)

	_ = p.OpenAll(ctx, cs)
	for _, r := range cs {
		fmt.Printf("%s\n", r.Email) // want `revealed by Open \(r.Email`
	}
	fmt.Println(cs[0].Email) // want `revealed by Open \(cs\[0\].Email`
}

func notSinks(w io.Writer, s pii.String, b *strings.Builder) {
	fmt.Fprintf(w, "Dear %s,\n", s.Reveal()) // a writer of the caller's: maybe the customer's own page
	b.WriteString(s.Reveal())
	_ = fmt.Sprintf("%s", s.Reveal())
	_ = pii.Mask("email", s.Reveal())
	log.Println(pii.Mask("email", s.Reveal())) // a mask is not the value
	log.Println(s)                             // redacts itself
}

func ignored(s pii.String) {
	log.Println(s.Reveal()) //piiguardvet:ignore the operator's own address, shown to them
	//piiguardvet:ignore also on the line above
	log.Println(s.Reveal())
}

var handler = func(s pii.String) {
	log.Println(s.Reveal()) // want `passed to log.Println`
}
