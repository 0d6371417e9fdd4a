package detect_test

import (
	"fmt"
	"log/slog"
	"os"
	"strings"

	"github.com/piiguard/piiguard/detect"
)

func ExampleDetector_FindString() {
	text := "refund to card 4111 1111 1111 1111, 手机 13812345678, order #4539148803436467"
	for _, sp := range detect.Default().FindString(text) {
		fmt.Println(sp.Kind, sp.Recognizer, text[sp.Start:sp.End])
	}
	// Output:
	// card card/luhn 4111 1111 1111 1111
	// phone phone/national 13812345678
}

func ExampleNew() {
	d, err := detect.New(detect.Options{
		Kinds:        []detect.Kind{detect.Phone, detect.Email},
		PhoneRegions: []string{"JP"},
	})
	if err != nil {
		panic(err)
	}
	text := []byte("携帯 090-1234-5678 / mail taro@example.jp / card 4111111111111111")
	for _, sp := range d.Find(text) {
		fmt.Println(sp)
	}
	// Output:
	// phone [7,20) 0.95 phone/national
	// email [28,43) 0.97 email
}

func ExampleDetector_FindField() {
	// A date is a date of birth only where something says so: here the
	// column's name.
	fmt.Println(len(detect.Default().FindString("1985-03-12")))
	for _, sp := range detect.Default().FindField("birth_date", "1985-03-12") {
		fmt.Println(sp.Kind, sp.Confidence)
	}
	// Output:
	// 0
	// dob 0.9
}

func ExampleDetector_NewScanner() {
	log := strings.NewReader("2024-05-01T10:00:00Z INFO login alice@example.com from 203.0.113.7\n" +
		"2024-05-01T10:00:01Z INFO SSN 123-45-6789 verified\n")
	sc := detect.Default().NewScanner(log)
	for sc.Scan() {
		sp := sc.Span()
		fmt.Println(sp.Kind, sp.Start, sp.End)
	}
	if err := sc.Err(); err != nil {
		panic(err)
	}
	// Output:
	// email 32 49
	// ip 55 66
	// ssn 97 108
}

func ExampleRedact() {
	fmt.Println(detect.Redact("call +44 20 7946 0018 or mail bob@example.com; IBAN GB82 WEST 1234 5698 7654 32"))
	// Output: call +** ** **** **18 or mail ***@example.com; IBAN GB** **** **** **** **54 32
}

func ExampleMask() {
	fmt.Println(detect.Mask(detect.Card, "4111-1111-1111-1111"))
	fmt.Println(detect.Mask(detect.CNID, "11010519491231002X"))
	// Output:
	// ****-****-****-1111
	// **************002X
}

// A tokenizer plugs in as a ReplaceFunc; package detect never imports it.
func ExampleNewRedactor() {
	tokens := map[string]string{"bob@example.com": "tok_e1"}
	r := detect.NewRedactor(nil, detect.RedactorOptions{
		Replace: func(k detect.Kind, v string) (string, error) {
			if t, ok := tokens[v]; ok {
				return t, nil
			}
			return "", fmt.Errorf("no token for this %s", k) // masked instead
		},
	})
	fmt.Println(r.String("from bob@example.com, SSN 123-45-6789"))
	// Output: from tok_e1, SSN ***-**-6789
}

func ExampleRedactor_NewWriter() {
	w := detect.NewRedactor(nil, detect.RedactorOptions{}).NewWriter(os.Stdout)
	fmt.Fprintln(w, "身份证号：11010519491231002X")
	fmt.Fprint(w, "card 4111 1111 ") // a value split across writes
	fmt.Fprint(w, "1111 1111\n")
	if err := w.Close(); err != nil {
		panic(err)
	}
	// Output:
	// 身份证号：**************002X
	// card **** **** **** 1111
}

func ExampleNewHandler() {
	plain := slog.NewTextHandler(os.Stdout, &slog.HandlerOptions{
		ReplaceAttr: func(_ []string, a slog.Attr) slog.Attr {
			if a.Key == slog.TimeKey {
				return slog.Attr{}
			}
			return a
		},
	})
	log := slog.New(detect.NewHandler(plain, nil))
	log.Info("signup from bob@example.com", "phone", "+86 138 1234 5678", slog.Group("card", "pan", "4111111111111111"))
	// Output: level=INFO msg="signup from ***@example.com" phone="+** *** **** **78" card.pan=************1111
}

func ExampleParseKind() {
	k, err := detect.ParseKind("CNID")
	fmt.Println(k, err)
	// Output: cnid <nil>
}
