package detect

// Context words: the words written near a value that say what it is
// ("card", "手机", "DOB") or what it is not ("order", "tracking", "发票").
// The nearest context word within a few bytes of a candidate decides: a
// positive one raises its confidence, a negative one lowers it, and the
// kinds that cannot be told without being named (dates of birth, passport
// and My Numbers, SSNs without dashes) are reported only with a positive
// one.

const (
	ctxBefore = 64 // bytes searched before a candidate (across lines: a CSV header names the column below it)
	ctxAfter  = 32 // bytes searched after it, on the same line
)

// polarity is what the nearest context word says.
type polarity int8

const (
	noContext polarity = 0
	positive  polarity = 1
	negative  polarity = -1
)

// keyword is one context word. ASCII words match case-insensitively as
// whole words (no ASCII letter or digit on either side); words with other
// characters match as they are written.
type keyword struct {
	word  string
	pol   polarity
	ascii bool
}

// lexicon is the context words of one kind, indexed by their first byte.
type lexicon struct {
	first  [256][]keyword
	maxLen int
}

func newLexicon(pos, neg []string) *lexicon {
	l := &lexicon{}
	add := func(w string, p polarity) {
		ascii := true
		for i := 0; i < len(w); i++ {
			if w[i] >= 0x80 {
				ascii = false
			}
		}
		l.first[w[0]] = append(l.first[w[0]], keyword{w, p, ascii})
		if ascii && w[0] >= 'a' && w[0] <= 'z' {
			l.first[w[0]-'a'+'A'] = append(l.first[w[0]-'a'+'A'], keyword{w, p, ascii})
		}
		l.maxLen = max(l.maxLen, len(w))
	}
	for _, w := range pos {
		add(w, positive)
	}
	for _, w := range neg {
		add(w, negative)
	}
	return l
}

// Negative context shared by the numeric kinds: the names of the numbers
// that fill logs and look like personal data.
var numericNegatives = []string{
	"order", "orders", "order_id", "tracking", "track", "shipment", "invoice", "inv", "transaction", "txn", "txn_id",
	"serial", "batch", "ref", "reference", "imei", "iccid", "sku", "part", "model", "ticket", "case",
	"version", "build", "bytes", "size", "count", "took", "elapsed", "isbn", "message_id", "tweet",
	"订单", "单号", "运单", "快递", "物流", "发票", "流水", "交易号", "批次", "耗时", "字节", "版本",
}

// lexicons holds each kind's context words.
var lexicons = [numKinds]*lexicon{
	Email: newLexicon([]string{"email", "e-mail", "mail", "mailto", "邮箱", "邮件", "电子邮件"}, nil),
	Phone: newLexicon([]string{"phone", "tel", "mobile", "cell", "call", "fax", "whatsapp", "contact number", "phone_number",
		"手机", "电话", "联系方式", "联系电话", "致电", "来电", "电話", "携帯"}, numericNegatives),
	Card: newLexicon([]string{"card", "card number", "card_number", "card no", "cc", "credit", "debit", "visa", "mastercard", "amex", "pan",
		"卡号", "银行卡", "信用卡", "借记卡", "储蓄卡", "支付卡"}, numericNegatives),
	CNID: newLexicon([]string{"身份证", "证件号", "居民身份", "id card", "id_card", "idcard", "national id", "resident id",
		"id no", "id_no", "id number", "id_number", "identity"}, numericNegatives),
	IBAN: newLexicon([]string{"iban", "account", "acct", "bank", "账户", "账号", "银行"}, numericNegatives),
	IP: newLexicon([]string{"ip", "addr", "address", "from", "client", "client_ip", "remote", "remote_addr", "src", "host", "登录ip", "来自", "地址"},
		[]string{"version", "build", "v", "oid", "kernel", "release", "版本"}),
	SSN:  newLexicon([]string{"ssn", "social security", "social_security", "social_security_number", "ss#", "soc sec", "社会安全"}, numericNegatives),
	NINO: newLexicon([]string{"nino", "ni number", "ni no", "ni_number", "national insurance", "国民保险"}, nil),
	MyNumber: newLexicon([]string{"my number", "my_number", "mynumber", "individual number", "マイナンバー", "個人番号", "个人番号", "个人编号"},
		numericNegatives),
	DOB: newLexicon([]string{"dob", "d.o.b", "date of birth", "birth", "birth_date", "birthdate", "birthday", "born", "bday",
		"出生", "生日", "生年月日", "誕生日"}, nil),
	Passport: newLexicon([]string{"passport", "passport_no", "护照", "旅券"}, numericNegatives),
}

func isASCIIAlnum(c byte) bool {
	return c|0x20 >= 'a' && c|0x20 <= 'z' || c >= '0' && c <= '9'
}

// matchAt reports whether kw is written at s[i:].
func matchAt[T text](s T, i int, kw *keyword) bool {
	w := kw.word
	if i+len(w) > len(s) {
		return false
	}
	if !kw.ascii {
		for j := 0; j < len(w); j++ {
			if s[i+j] != w[j] {
				return false
			}
		}
		return true
	}
	for j := 0; j < len(w); j++ {
		c := s[i+j]
		if 'A' <= c && c <= 'Z' {
			c += 'a' - 'A'
		}
		if c != w[j] {
			return false
		}
	}
	if i > 0 && isASCIIAlnum(s[i-1]) {
		return false
	}
	return i+len(w) == len(s) || !isASCIIAlnum(s[i+len(w)])
}

// clauseEnd reports whether a clause ends at s[i]: a context word
// before it speaks of another value ("card 4111…, batch E528…").
func clauseEnd[T text](s T, i int) bool {
	switch s[i] {
	case ',', ';', '|', '\t', '\n', '{', '}', '[', ']':
		return true
	case 0xEF: // ， ；
		return i+2 < len(s) && s[i+1] == 0xBC && (s[i+2] == 0x8C || s[i+2] == 0x9B)
	case 0xE3: // 、 。
		return i+2 < len(s) && s[i+1] == 0x80 && (s[i+2] == 0x81 || s[i+2] == 0x82)
	}
	return false
}

// lastKeyword returns the polarity of the last context word of lex in
// s[a:b].
func lastKeyword[T text](s T, a, b int, lex *lexicon) polarity {
	p := noContext
	for i := a; i < b; i++ {
		for k := range lex.first[s[i]] {
			kw := &lex.first[s[i]][k]
			if i+len(kw.word) <= b && matchAt(s, i, kw) {
				p = kw.pol
			}
		}
	}
	return p
}

// contextWords returns what the nearest context word of kind around
// s[start:end] says: the words of its own clause first (up to ctxBefore
// bytes before it and ctxAfter after it, not past a comma, a semicolon or
// the end of the line), then the header of its CSV column, then hint, a
// field name given by the caller (FindField).
func contextWords[T text](s T, start, end int, kind Kind, hint string) polarity {
	lex := lexicons[kind]
	if hint != "" {
		if p := lastKeyword(hint, 0, len(hint), lex); p != noContext {
			return p
		}
	}
	before, beforePol := -1, noContext
	for i := start - 1; i >= max(0, start-ctxBefore) && !clauseEnd(s, i); i-- {
		for k := range lex.first[s[i]] {
			kw := &lex.first[s[i]][k]
			// the longest word here: "card number" rather than "card"
			if i+len(kw.word) <= start && (before < 0 || start-(i+len(kw.word)) < before) && matchAt(s, i, kw) {
				before, beforePol = start-(i+len(kw.word)), kw.pol
			}
		}
		if beforePol != noContext {
			break
		}
	}
	after, afterPol := -1, noContext
	for j := end; j < min(len(s), end+ctxAfter) && !clauseEnd(s, j); j++ {
		if before >= 0 && j-end >= before {
			break // cannot be nearer than the word before
		}
		for k := range lex.first[s[j]] {
			kw := &lex.first[s[j]][k]
			if matchAt(s, j, kw) {
				after, afterPol = j-end, kw.pol
				break
			}
		}
		if afterPol != noContext {
			break
		}
	}
	if afterPol != noContext && (before < 0 || after < before) {
		return afterPol
	}
	return beforePol
}

// maxCSVLine bounds the CSV header heuristic: the header and the row
// must each be shorter, so that a Scanner, which keeps lookBehind bytes,
// sees them both.
const maxCSVLine = 512

// csvHeader finds the header of the CSV column holding s[start], where
// ls is the start of the value's line and hs of the line above: that line
// is a header when no cell of it is quoted or starts with a digit and it
// has as many cells as the value's line. It returns what the header's
// cell says.
func csvHeader[T text](s T, hs, ls, start int, lex *lexicon) polarity {
	if hs < 0 || ls-hs > maxCSVLine || start-ls > maxCSVLine || hs >= ls {
		return noContext
	}
	col := 0
	for i := ls; i < start; i++ {
		switch s[i] {
		case ',':
			col++
		case '"':
			return noContext
		}
	}
	// the header's cell at col
	n, cell, a, b := 0, hs, -1, -1
	for i := hs; i < ls; i++ {
		if s[i] == '"' || i == cell && isDigit(s[i]) {
			return noContext
		}
		if s[i] == ',' || s[i] == '\n' {
			if n == col {
				a, b = cell, i
			}
			n++
			cell = i + 1
		}
	}
	if a < 0 || n < 2 {
		return noContext // one column is no table
	}
	p := lastKeyword(s, a, b, lex)
	if p == noContext {
		return noContext
	}
	// as many cells in the row as in the header
	cells := col + 1
	for i := start; i < len(s) && i-ls < maxCSVLine && s[i] != '\n'; i++ {
		if s[i] == ',' {
			cells++
		}
	}
	if cells != n {
		return noContext
	}
	return p
}
