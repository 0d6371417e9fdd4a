package corpus

import (
	"fmt"
	"math/rand/v2"
	"strings"
)

// builder assembles a snippet's text and records the byte spans of the
// values written with pii.
type builder struct {
	sb    strings.Builder
	spans []Label
	negs  []string
}

func (b *builder) w(s string) { b.sb.WriteString(s) }

func (b *builder) pii(kind, v string) {
	start := b.sb.Len()
	b.sb.WriteString(v)
	b.spans = append(b.spans, Label{Start: start, End: b.sb.Len(), Kind: kind})
}

// item is one thing a snippet mentions: personal data of a kind, or a
// named hard negative.
type item struct {
	kind string // "" for a negative
	neg  string
}

// kindWeights sets how often each kind appears among the positives.
var kindWeights = []struct {
	kind string
	w    int
}{
	{Email, 14}, {Phone, 16}, {Card, 12}, {CNID, 10}, {IBAN, 7}, {IP, 12},
	{SSN, 7}, {NINO, 5}, {MyNumber, 5}, {DOB, 6}, {Passport, 6},
}

func (g gen) kind() string {
	total := 0
	for _, k := range kindWeights {
		total += k.w
	}
	n := g.n(total)
	for _, k := range kindWeights {
		if n < k.w {
			return k.kind
		}
		n -= k.w
	}
	panic("unreachable")
}

// contexts are the words written before a value, by kind and language; ""
// means none. Kinds a reader cannot tell without being told (a date of
// birth, a passport or My Number, an SSN without dashes) always get one.
var contexts = map[string]map[string][]string{
	Email: {
		"en": {"email: ", "e-mail ", "contact ", "mailto:", "", "", "reply to ", "sent to "},
		"zh": {"邮箱：", "邮箱 ", "电子邮件：", "联系邮箱 ", "", ""},
	},
	Phone: {
		"en": {"phone: ", "tel ", "mobile ", "call ", "cell: ", "", "", "contact number "},
		"zh": {"手机：", "手机号 ", "电话：", "联系电话：", "联系方式 ", "", ""},
	},
	Card: {
		"en": {"card ", "card number: ", "paid with card ", "cc=", "PAN ", "", "credit card "},
		"zh": {"卡号：", "银行卡号 ", "信用卡 ", "", "支付卡号 "},
	},
	CNID: {
		"en": {"ID card ", "national ID: ", "resident ID ", "", "id_no="},
		"zh": {"身份证号：", "身份证 ", "证件号码：", "", "身份证号码 "},
	},
	IBAN: {
		"en": {"IBAN ", "IBAN: ", "account ", "pay to ", ""},
		"zh": {"IBAN：", "收款账户 ", "", "国际银行账号 "},
	},
	IP: {
		"en": {"from ", "client_ip=", "remote addr ", "ip=", "", "src="},
		"zh": {"IP地址：", "来自 ", "", "登录IP "},
	},
	SSN: {
		"en": {"SSN ", "SSN: ", "social security number ", "ssn="},
		"zh": {"社会安全号 SSN ", "SSN："},
	},
	NINO: {
		"en": {"NI number ", "NINO: ", "National Insurance number ", "", "NI no. "},
		"zh": {"英国国民保险号 ", "NINO："},
	},
	MyNumber: {
		"en": {"My Number ", "My Number: ", "individual number ", "my_number=", "マイナンバー："},
		"zh": {"个人编号（My Number）：", "日本个人番号 ", "マイナンバー ", "个人番号："},
	},
	DOB: {
		"en": {"DOB ", "DOB: ", "date of birth ", "born ", "birthday: ", "birth_date="},
		"zh": {"出生日期：", "生日：", "出生于", "出生日期 "},
	},
	Passport: {
		"en": {"passport ", "passport no. ", "Passport Number: ", "passport_no="},
		"zh": {"护照号码：", "护照号 ", "护照："},
	},
}

// fieldNames are the JSON keys and CSV headers a kind is stored under.
var fieldNames = map[string][]string{
	Email:    {"email", "contact_email", "邮箱", "user_email"},
	Phone:    {"phone", "mobile", "tel", "手机号", "phone_number"},
	Card:     {"card_number", "pan", "卡号", "card"},
	CNID:     {"id_card", "id_number", "身份证号", "idcard"},
	IBAN:     {"iban", "bank_account_iban"},
	IP:       {"client_ip", "ip", "remote_addr", "登录IP"},
	SSN:      {"ssn", "social_security_number"},
	NINO:     {"nino", "ni_number"},
	MyNumber: {"my_number", "mynumber", "個人番号"},
	DOB:      {"dob", "birth_date", "birthday", "出生日期"},
	Passport: {"passport_no", "passport", "护照号"},
}

// value draws a value of kind; bare reports a form that only context
// identifies (an SSN without dashes).
func (g gen) value(kind, lang string) (v string, needsContext bool) {
	switch kind {
	case Email:
		return g.email(), false
	case Phone:
		return g.phone(lang), false
	case Card:
		return g.card(lang), false
	case CNID:
		return g.cnID(), false
	case IBAN:
		return g.iban(), false
	case IP:
		return g.ip(), false
	case SSN:
		a, gr, s := g.ssnParts()
		switch g.n(6) {
		case 0:
			return a + gr + s, true
		case 1:
			return a + " " + gr + " " + s, true
		}
		return a + "-" + gr + "-" + s, false
	case NINO:
		return g.nino(), false
	case MyNumber:
		return g.myNumber(), true
	case DOB:
		return g.dob(lang), true
	case Passport:
		return g.passport(), true
	}
	panic("corpus: unknown kind " + kind)
}

// context picks the words before a value.
func (g gen) context(kind, lang string, needed bool) string {
	cs := contexts[kind][lang]
	for {
		c := cs[g.n(len(cs))]
		if c != "" || !needed {
			return c
		}
	}
}

// Generate returns n snippets drawn from seed, half English and half
// Chinese, about two thirds holding personal data and all of them holding
// hard negatives.
func Generate(seed uint64, n int) []Snippet {
	g := gen{rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))}
	out := make([]Snippet, 0, n)
	for i := range n {
		lang := "en"
		if i%2 == 1 {
			lang = "zh"
		}
		var items []item
		for range [3]int{} {
			if g.chance(0.45) {
				items = append(items, item{kind: g.kind()})
			}
		}
		for range [2]int{} {
			if g.chance(0.5) || len(items) == 0 {
				items = append(items, item{neg: negativeNames[g.n(len(negativeNames))]})
			}
		}
		g.r.Shuffle(len(items), func(i, j int) { items[i], items[j] = items[j], items[i] })
		genre := g.pick("log", "log", "log", "log", "note", "note", "note", "csv", "csv", "json", "json", "json")
		var b builder
		switch genre {
		case "log":
			g.logLine(&b, lang, items)
		case "note":
			g.note(&b, lang, items)
		case "csv":
			g.csv(&b, lang, items)
		default:
			g.json(&b, lang, items)
		}
		out = append(out, Snippet{ID: i + 1, Lang: lang, Genre: genre, Text: b.sb.String(), Spans: b.spans, Negatives: b.negs})
	}
	return out
}

// phrase writes an item as words and a value, the way prose and log
// messages mention them.
func (g gen) phrase(b *builder, lang string, it item) {
	if it.kind == "" {
		b.negs = append(b.negs, it.neg)
		b.w(negatives[it.neg](g, lang))
		return
	}
	v, needs := g.value(it.kind, lang)
	b.w(g.context(it.kind, lang, needs || contextOnly(it.kind)))
	b.pii(it.kind, v)
}

// contextOnly kinds are labelled only where the text says what they are.
func contextOnly(kind string) bool {
	return kind == DOB || kind == Passport || kind == MyNumber
}

var (
	services   = []string{"auth", "billing", "api-gw", "notify", "orders", "crm", "kyc", "search"}
	levels     = []string{"INFO", "INFO", "INFO", "WARN", "ERROR", "DEBUG"}
	enMessages = []string{"user signed in", "payment authorised", "profile updated", "sending notification", "request failed", "customer lookup", "webhook received", "kyc check passed", "retrying job"}
	zhMessages = []string{"用户登录成功", "支付完成", "资料已更新", "发送短信通知", "请求失败", "查询客户信息", "收到回调", "实名认证通过", "任务重试"}
)

func (g gen) logLine(b *builder, lang string, items []item) {
	b.w(timestamp(g, lang))
	b.w(" " + g.pick(levels...) + " [" + g.pick(services...) + "] ")
	sep := ", "
	if lang == "zh" {
		b.w(g.pick(zhMessages...) + "，")
		sep = "，"
	} else {
		b.w(g.pick(enMessages...) + ": ")
	}
	for i, it := range items {
		if i > 0 {
			b.w(sep)
		}
		g.phrase(b, lang, it)
	}
	if g.chance(0.3) {
		b.w(fmt.Sprintf(" latency=%dms", g.n(900)))
	}
}

var (
	enTopics = []string{"a refund", "a failed payment", "changing their address", "a lost card", "account access", "a delivery"}
	zhTopics = []string{"退款", "支付失败", "修改地址", "挂失银行卡", "账号登录", "快递配送"}
)

func (g gen) note(b *builder, lang string, items []item) {
	if lang == "zh" {
		b.w("客户来电咨询" + g.pick(zhTopics...) + "，")
		for i, it := range items {
			if i > 0 {
				b.w("，")
			}
			g.phrase(b, lang, it)
		}
		b.w(g.pick("。已处理。", "。待回访。", "。"))
		return
	}
	b.w("Customer " + g.pick("called about ", "wrote in about ", "chatted about ") + g.pick(enTopics...) + ". ")
	for i, it := range items {
		if i > 0 {
			b.w(g.pick(", ", "; ", " and "))
		}
		g.phrase(b, lang, it)
	}
	b.w(g.pick(". Resolved.", ". Follow up next week.", "."))
}

// field returns the name and the writer of one column or key.
func (g gen) field(lang string, it item) (name string, write func(b *builder)) {
	if it.kind == "" {
		return g.pick("note", "ref", "memo", "备注"), func(b *builder) {
			b.negs = append(b.negs, it.neg)
			b.w(negatives[it.neg](g, lang))
		}
	}
	v, _ := g.value(it.kind, lang)
	names := fieldNames[it.kind]
	return names[g.n(len(names))], func(b *builder) { b.pii(it.kind, v) }
}

func (g gen) csv(b *builder, lang string, items []item) {
	type col struct {
		name  string
		write func(*builder)
	}
	cols := []col{{"id", func(b *builder) { b.w(fmt.Sprintf("%d", 1+g.n(5000))) }}}
	for _, it := range items {
		n, w := g.field(lang, it)
		cols = append(cols, col{n, w})
	}
	if g.chance(0.5) {
		cols = append(cols, col{"status", func(b *builder) { b.w(g.pick("active", "closed", "pending", "正常")) }})
	}
	for i, c := range cols {
		if i > 0 {
			b.w(",")
		}
		b.w(c.name)
	}
	b.w("\n")
	for i, c := range cols {
		if i > 0 {
			b.w(",")
		}
		c.write(b)
	}
}

func (g gen) json(b *builder, lang string, items []item) {
	b.w(`{"event":"` + g.pick("signup", "update", "payment", "login") + `"`)
	for _, it := range items {
		if it.kind != "" && g.chance(0.3) {
			// the value inside a message rather than a field of its own
			b.w(`,"msg":"`)
			g.phrase(b, lang, it)
			b.w(`"`)
			continue
		}
		n, w := g.field(lang, it)
		b.w(`,"` + n + `":"`)
		w(b)
		b.w(`"`)
	}
	y, mo, d := 2019+g.n(6), 1+g.n(12), 1+g.n(28)
	b.w(fmt.Sprintf(`,"ts":"%04d-%02d-%02dT%02d:%02d:%02dZ"}`, y, mo, d, g.n(24), g.n(60), g.n(60)))
}
