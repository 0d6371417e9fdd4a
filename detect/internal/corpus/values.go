package corpus

import (
	"fmt"
	"math/rand/v2"
	"strings"
)

// gen draws values from a seeded source.
type gen struct{ r *rand.Rand }

func (g gen) n(k int) int              { return g.r.IntN(k) }
func (g gen) chance(p float64) bool    { return g.r.Float64() < p }
func (g gen) pick(xs ...string) string { return xs[g.r.IntN(len(xs))] }

// digits returns k random ASCII digits.
func (g gen) digits(k int) string {
	b := make([]byte, k)
	for i := range b {
		b[i] = byte('0' + g.r.IntN(10))
	}
	return string(b)
}

func (g gen) letters(k int) string {
	b := make([]byte, k)
	for i := range b {
		b[i] = byte('A' + g.r.IntN(26))
	}
	return string(b)
}

// group inserts sep between groups of the given sizes; the sizes must add
// up to len(s).
func group(s, sep string, sizes ...int) string {
	var parts []string
	for _, n := range sizes {
		parts = append(parts, s[:n])
		s = s[n:]
	}
	return strings.Join(parts, sep)
}

// fullWidth writes ASCII digits as full-width digits (U+FF10..U+FF19) and
// '-' as U+FF0D, as Chinese input methods do.
func fullWidth(s string) string {
	var sb strings.Builder
	for _, r := range s {
		switch {
		case r >= '0' && r <= '9':
			sb.WriteRune(r - '0' + '０')
		case r == '-':
			sb.WriteRune('－')
		case r == ' ':
			sb.WriteRune('\u3000')
		default:
			sb.WriteRune(r)
		}
	}
	return sb.String()
}

// ---- e-mail (RFC 5322 addr-spec, the forms people use) ----

var (
	givenNames  = []string{"alice", "bob", "carol", "david", "emma", "frank", "grace", "henry", "iris", "jack", "li", "wei", "fang", "min", "jun", "xiaoming", "yuki", "hiro", "sarah", "tom", "olivia", "noah", "zhang", "wang", "liu", "chen"}
	familyNames = []string{"smith", "jones", "brown", "taylor", "wilson", "evans", "zhang", "wang", "li", "liu", "chen", "yang", "huang", "zhao", "wu", "zhou", "sato", "suzuki", "tanaka", "miller", "garcia", "nguyen"}
	mailDomains = []string{"gmail.com", "outlook.com", "hotmail.com", "yahoo.com", "qq.com", "163.com", "126.com", "sina.com", "sina.com.cn", "foxmail.com", "aliyun.com", "icloud.com", "proton.me", "example.co.uk", "mail.example.org", "corp.acme.io", "yahoo.co.jp", "company.cn", "uni-hamburg.de", "student.ubc.ca", "fastmail.fm", "gmx.net", "bank.com.au", "dept.gov.uk"}
)

func (g gen) email() string {
	first, last := g.pick(givenNames...), g.pick(familyNames...)
	var local string
	switch g.n(7) {
	case 0:
		local = first + "." + last
	case 1:
		local = first + last + g.digits(1+g.n(4))
	case 2:
		local = first[:1] + last
	case 3:
		local = first + "_" + last
	case 4:
		local = first + "+" + g.pick("shop", "news", "work", "test")
	case 5:
		local = g.digits(6 + g.n(5)) // QQ mail: the QQ number
	default:
		local = first + "-" + last + g.digits(2)
	}
	addr := local + "@" + g.pick(mailDomains...)
	if g.chance(0.08) {
		addr = strings.ToUpper(addr[:1]) + addr[1:]
	}
	return addr
}

// ---- phone numbers (ITU E.164 and national plans) ----

// Chinese mobile prefixes allocated by the MIIT.
var cnMobilePrefixes = []string{"130", "131", "132", "133", "134", "135", "136", "137", "138", "139", "147", "150", "151", "152", "153", "155", "156", "157", "158", "159", "166", "173", "175", "176", "177", "178", "180", "181", "182", "183", "184", "185", "186", "187", "188", "189", "198", "199"}

// North American area codes in service.
var nanpAreas = []string{"201", "202", "206", "212", "213", "214", "305", "310", "312", "404", "408", "415", "469", "512", "602", "617", "646", "702", "713", "718", "773", "801", "858", "917", "949"}

func (g gen) cnMobile() string {
	return g.pick(cnMobilePrefixes...) + g.digits(8)
}

// nanpNumber returns 10 digits: an area code, an exchange 2XX–9XX that is
// not N11 nor 555, and a line number.
func (g gen) nanpNumber() string {
	for {
		ex := fmt.Sprintf("%d%s", 2+g.n(8), g.digits(2))
		if ex[1:] == "11" || ex == "555" {
			continue
		}
		return g.pick(nanpAreas...) + ex + g.digits(4)
	}
}

// phone returns a phone number in one of the forms people write.
func (g gen) phone(lang string) string {
	cnBias := 0.2
	if lang == "zh" {
		cnBias = 0.75
	}
	if g.chance(cnBias) {
		m := g.cnMobile()
		switch g.n(10) {
		case 0, 1, 2, 3:
			return m
		case 4:
			return group(m, " ", 3, 4, 4)
		case 5:
			return group(m, "-", 3, 4, 4)
		case 6:
			return "+86 " + group(m, " ", 3, 4, 4)
		case 7:
			return "+86" + m
		case 8:
			return fullWidth(m)
		default:
			// a Beijing or Shanghai landline with its trunk prefix
			return g.pick("010-", "021-", "(010) ", "0755-") + fmt.Sprintf("%d", 5+g.n(4)) + g.digits(7)
		}
	}
	return g.intlPhone()
}

// intlPhone returns a number outside China, in a national or international
// form.
func (g gen) intlPhone() string {
	switch g.n(10) {
	case 0, 1, 2:
		n := g.nanpNumber()
		f := g.pick("(%s) %s-%s", "%s-%s-%s", "%s.%s.%s", "+1 %s %s %s", "+1-%s-%s-%s", "+1 (%s) %s-%s")
		return fmt.Sprintf(f, n[:3], n[3:6], n[6:])
	case 3, 4:
		// UK: London 020 3xxx/7xxx/8xxx, mobiles 07[1-57-9]; not the
		// Ofcom drama ranges (020 7946 0xxx, 07700 900xxx).
		if g.chance(0.5) {
			sub := fmt.Sprintf("%d%s", g.pick3(3, 7, 8), g.digits(7))
			if g.chance(0.5) {
				return "020 " + group(sub, " ", 4, 4)
			}
			return "+44 20 " + group(sub, " ", 4, 4)
		}
		mob := fmt.Sprintf("7%d%s", g.pick3(4, 5, 9), g.digits(8))
		if g.chance(0.5) {
			return "0" + group(mob, " ", 4, 6)
		}
		return "+44 " + group(mob, " ", 4, 6)
	case 5:
		return "+49 30 " + fmt.Sprintf("%d", 2+g.n(7)) + g.digits(7) // Berlin
	case 6:
		return "+33 6 " + group(g.digits(8), " ", 2, 2, 2, 2) // French mobile
	case 7:
		return "+81 " + g.pick("90", "80", "70") + "-" + fmt.Sprintf("%d", 1+g.n(9)) + g.digits(3) + "-" + g.digits(4) // Japanese mobile
	case 8:
		return "+91 " + fmt.Sprintf("%d", 7+g.n(3)) + g.digits(4) + " " + g.digits(5) // Indian mobile
	default:
		return g.pick("+65 ", "+852 ") + fmt.Sprintf("%d", 8+g.n(2)) + g.digits(3) + " " + g.digits(4) // SG, HK mobiles
	}
}

func (g gen) pick3(a, b, c int) int { return []int{a, b, c}[g.n(3)] }

// ---- payment cards (ISO/IEC 7812, issuers' IIN ranges) ----

type cardBrand struct {
	prefix func(g gen) string
	length int
}

var cardBrands = []cardBrand{
	{func(g gen) string { return "4" }, 16},                              // Visa
	{func(g gen) string { return "4" }, 16},                              // Visa again: the most common
	{func(g gen) string { return fmt.Sprintf("5%d", 1+g.n(5)) }, 16},     // Mastercard 51–55
	{func(g gen) string { return fmt.Sprintf("%d", 2221+g.n(500)) }, 16}, // Mastercard 2221–2720
	{func(g gen) string { return g.pick("34", "37") }, 15},               // American Express
	{func(g gen) string { return g.pick("6011", "65") }, 16},             // Discover
	{func(g gen) string { return fmt.Sprintf("35%d", 28+g.n(62)) }, 16},  // JCB 3528–3589
	{func(g gen) string { return "62" + g.digits(2) }, 16},               // UnionPay
	{func(g gen) string { return "62" + g.digits(2) }, 19},               // UnionPay debit
	{func(g gen) string { return g.pick("36", "300", "305", "38") }, 14}, // Diners Club
}

// cardNumber returns a Luhn-valid number in an issuer's range, unformatted.
func (g gen) cardNumber() string {
	b := cardBrands[g.n(len(cardBrands))]
	p := b.prefix(g)
	body := p + g.digits(b.length-1-len(p))
	return body + string(luhnDigit(body))
}

func (g gen) card(lang string) string {
	n := g.cardNumber()
	switch {
	case g.chance(0.4):
		return n
	case len(n) == 15 && g.chance(0.8):
		return group(n, g.pick(" ", "-"), 4, 6, 5)
	case len(n) == 16:
		if lang == "zh" && g.chance(0.2) {
			return fullWidth(group(n, " ", 4, 4, 4, 4))
		}
		return group(n, g.pick(" ", "-", " "), 4, 4, 4, 4)
	case len(n) == 19:
		return group(n, " ", 4, 4, 4, 4, 3)
	case len(n) == 14:
		return group(n, " ", 4, 6, 4)
	}
	return n
}

// ---- Chinese resident identity number (GB 11643-1999) ----

// County-level division codes (GB/T 2260).
var cnRegions = []string{"110101", "110105", "110108", "120101", "130102", "210102", "220102", "310101", "310104", "310115", "320102", "320505", "330106", "330206", "340102", "350203", "360102", "370202", "410105", "420106", "430104", "440103", "440305", "440306", "450103", "460105", "500103", "510107", "520102", "530102", "610113", "620102", "650102"}

// date returns a plausible birth date between 1940 and 2008.
func (g gen) date() (y, m, d int) {
	y, m = 1940+g.n(69), 1+g.n(12)
	days := []int{31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31}[m-1]
	if m == 2 && y%4 == 0 && (y%100 != 0 || y%400 == 0) {
		days = 29
	}
	return y, m, 1 + g.n(days)
}

func (g gen) cnID() string {
	y, m, d := g.date()
	first := fmt.Sprintf("%s%04d%02d%02d%s", g.pick(cnRegions...), y, m, d, g.digits(3))
	id := first + string(gb11643Char(first))
	switch {
	case id[17] == 'X' && g.chance(0.2):
		return id[:17] + "x" // people type a lower-case x
	case g.chance(0.06):
		return fullWidth(id)
	case g.chance(0.05):
		return group(id, " ", 6, 8, 4)
	}
	return id
}

// ---- IBAN (ISO 13616) ----

type ibanFormat struct {
	country string
	bban    func(g gen) string
}

var ibanFormats = []ibanFormat{
	{"DE", func(g gen) string { return g.digits(18) }},
	{"GB", func(g gen) string { return g.pick("NWBK", "BARC", "LOYD", "HBUK", "MIDL") + g.digits(14) }},
	{"FR", func(g gen) string { return g.digits(10) + g.digits(2) + g.letters(1) + g.digits(8) + g.digits(2) }},
	{"ES", func(g gen) string { return g.digits(20) }},
	{"IT", func(g gen) string { return g.letters(1) + g.digits(10) + g.digits(12) }},
	{"NL", func(g gen) string { return g.pick("ABNA", "INGB", "RABO", "TRIO") + g.digits(10) }},
	{"BE", func(g gen) string { return g.digits(12) }},
	{"CH", func(g gen) string { return g.digits(17) }},
	{"AT", func(g gen) string { return g.digits(16) }},
	{"PL", func(g gen) string { return g.digits(24) }},
	{"SE", func(g gen) string { return g.digits(20) }},
	{"IE", func(g gen) string { return g.pick("AIBK", "BOFI") + g.digits(14) }},
}

func (g gen) ibanCompact() string {
	f := ibanFormats[g.n(len(ibanFormats))]
	bban := f.bban(g)
	return f.country + ibanCheck(f.country, bban) + bban
}

func (g gen) iban() string {
	s := g.ibanCompact()
	if g.chance(0.5) {
		return s
	}
	var parts []string
	for len(s) > 4 {
		parts = append(parts, s[:4])
		s = s[4:]
	}
	return strings.Join(append(parts, s), " ") // the paper format
}

// ---- IP addresses ----

func (g gen) ipv4() string {
	for {
		a := 1 + g.n(223)
		if a == 127 {
			continue
		}
		return fmt.Sprintf("%d.%d.%d.%d", a, g.n(256), g.n(256), 1+g.n(254))
	}
}

func (g gen) ipv6() string {
	h := func() string { return fmt.Sprintf("%x", g.n(0x10000)) }
	switch g.n(5) {
	case 0:
		return fmt.Sprintf("2001:db8:%s:%s::%s", h(), h(), h())
	case 1:
		return fmt.Sprintf("fe80::%s:%s:%s:%s", h(), h(), h(), h())
	case 2:
		return fmt.Sprintf("2a00:%s:%s:%s:%s:%s:%s:%s", h(), h(), h(), h(), h(), h(), h())
	case 3:
		return "::ffff:" + g.ipv4()
	default:
		return fmt.Sprintf("240e:%s:%s::%s", h(), h(), h())
	}
}

func (g gen) ip() string {
	if g.chance(0.75) {
		return g.ipv4()
	}
	return g.ipv6()
}

// ---- US Social Security number (SSA rules since 2011) ----

// ssnParts returns an area 001–899 except 666, a group 01–99 and a serial
// 0001–9999.
func (g gen) ssnParts() (string, string, string) {
	area := 1 + g.n(899)
	if area == 666 {
		area = 667
	}
	return fmt.Sprintf("%03d", area), fmt.Sprintf("%02d", 1+g.n(99)), fmt.Sprintf("%04d", 1+g.n(9999))
}

// ---- UK National Insurance number (HMRC NIM39110) ----

const (
	ninoFirst  = "ABCEGHJKLMNOPRSTWXYZ" // not D F I Q U V
	ninoSecond = "ABCEGHJKLMNPRSTWXYZ"  // not D F I O Q U V
)

func (g gen) nino() string {
	for {
		p := string([]byte{ninoFirst[g.n(len(ninoFirst))], ninoSecond[g.n(len(ninoSecond))]})
		switch p {
		case "BG", "GB", "KN", "NK", "NT", "TN", "ZZ":
			continue
		}
		d := g.digits(6)
		s := string("ABCD"[g.n(4)])
		if g.chance(0.3) {
			return p + " " + group(d, " ", 2, 2, 2) + " " + s
		}
		return p + d + s
	}
}

// ---- Japanese Individual Number ----

func (g gen) myNumber() string {
	first := fmt.Sprintf("%d", 1+g.n(9)) + g.digits(10)
	n := first + string(myNumberDigit(first))
	switch g.n(3) {
	case 0:
		return group(n, " ", 4, 4, 4)
	case 1:
		return group(n, "-", 4, 4, 4)
	}
	return n
}

// ---- dates of birth ----

func (g gen) dob(lang string) string {
	y, m, d := g.date()
	months := []string{"January", "February", "March", "April", "May", "June", "July", "August", "September", "October", "November", "December"}
	if lang == "zh" && g.chance(0.5) {
		return fmt.Sprintf("%d年%d月%d日", y, m, d)
	}
	switch g.n(6) {
	case 0, 1:
		return fmt.Sprintf("%04d-%02d-%02d", y, m, d)
	case 2:
		return fmt.Sprintf("%02d/%02d/%04d", d, m, y)
	case 3:
		return fmt.Sprintf("%02d/%02d/%04d", m, d, y)
	case 4:
		return fmt.Sprintf("%d %s %d", d, months[m-1], y)
	default:
		return fmt.Sprintf("%04d/%02d/%02d", y, m, d)
	}
}

// ---- passport numbers ----

func (g gen) passport() string {
	switch g.n(6) {
	case 0, 1:
		return "E" + g.digits(8) // Chinese ordinary passport
	case 2:
		return "E" + string("ABCDEFGHJKLMNPQRSTUVWXYZ"[g.n(24)]) + g.digits(7)
	case 3:
		return fmt.Sprintf("%d", 1+g.n(9)) + g.digits(8) // US, UK: 9 digits
	case 4:
		return g.pick("TK", "TR", "MZ") + g.digits(7) // Japan
	default:
		return "G" + g.digits(8) // older Chinese passports
	}
}
