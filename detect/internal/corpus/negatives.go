package corpus

import (
	"fmt"
	"sort"
)

// A negative is text that looks like personal data and is not, with the
// name of what it is. Every one here is a thing seen in real logs and
// tables; none is labelled.
type negative func(g gen, lang string) string

var negatives = map[string]negative{
	"order-number":       orderNumber,
	"luhn-order":         luhnOrder,
	"tracking-number":    trackingNumber,
	"invoice-number":     invoiceNumber,
	"timestamp":          timestamp,
	"uuid":               uuid,
	"hex-hash":           hexHash,
	"version-string":     versionString,
	"loopback-ip":        loopbackIP,
	"amount":             amount,
	"imei":               imei,
	"iccid":              iccid,
	"email-lookalike":    emailLookalike,
	"nino-invalid":       ninoInvalid,
	"ssn-invalid":        ssnInvalid,
	"iban-lookalike":     ibanLookalike,
	"digits18-non-id":    digits18,
	"snowflake-id":       snowflake,
	"postcode":           postcode,
	"date-not-dob":       dateNotDOB,
	"code-not-passport":  codeNotPassport,
	"numeric-code":       numericCode,
	"card-lookalike":     cardLookalike,
	"mynumber-lookalike": myNumberLookalike,
	"counter":            counter,
}

// negativeNames is the sorted list of negatives, so that drawing one is
// deterministic (map order is not).
var negativeNames = func() []string {
	var out []string
	for k := range negatives {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}()

func orderNumber(g gen, lang string) string {
	var n string
	switch g.n(4) {
	case 0:
		n = "2024" + fmt.Sprintf("%02d%02d", 1+g.n(12), 1+g.n(28)) + g.digits(6+g.n(6))
	case 1:
		n = fmt.Sprintf("%d", 1+g.n(9)) + g.digits(9+g.n(6))
	case 2:
		n = "SO-" + g.digits(8)
	default:
		n = fmt.Sprintf("%d", 1+g.n(9)) + g.digits(10) // 11 digits, the length of a Chinese mobile
	}
	if lang == "zh" {
		return g.pick("订单号：", "订单 ", "订单编号 ") + n
	}
	return g.pick("order #", "order_id=", "Order No. ", "order ") + n
}

// luhnOrder is a number in a card issuer's range that passes the Luhn
// check, used as an order, reference or loyalty number.
func luhnOrder(g gen, lang string) string {
	n := g.cardNumber()
	if g.chance(0.3) && len(n) == 16 {
		n = group(n, " ", 4, 4, 4, 4)
	}
	if lang == "zh" {
		return g.pick("订单号：", "会员卡积分单号 ", "退款单号：", "交易流水 ") + n
	}
	return g.pick("order #", "invoice ", "tracking number ", "ref order ", "loyalty order id ") + n
}

func trackingNumber(g gen, lang string) string {
	var n string
	switch g.n(6) {
	case 0:
		n = "1Z" + g.letters(3) + g.digits(3) + g.digits(10) // UPS
	case 1:
		n = g.digits(12) // FedEx Express
	case 2:
		n = group("94"+g.digits(20), " ", 4, 4, 4, 4, 4, 2) // USPS
	case 3:
		n = "SF" + g.digits(12) // SF Express
	case 4:
		n = g.pick("EA", "RR", "LX") + g.digits(9) + g.pick("CN", "US", "GB") // UPU S10
	default:
		n = g.pick("YT", "JT", "ZTO") + g.digits(13)
	}
	if lang == "zh" {
		return g.pick("快递单号：", "运单号 ", "物流单号：") + n
	}
	return g.pick("tracking ", "tracking no. ", "shipment ", "tracking_id=") + n
}

func invoiceNumber(g gen, lang string) string {
	if lang == "zh" {
		if g.chance(0.5) {
			return "发票代码：" + g.digits(12) + " 发票号码：" + g.digits(8)
		}
		return "电子发票号码 " + "24" + g.digits(18)
	}
	return g.pick("invoice INV-2024-", "invoice no. ", "Invoice #") + g.digits(6+g.n(7))
}

func timestamp(g gen, lang string) string {
	y, mo, d := 2019+g.n(6), 1+g.n(12), 1+g.n(28)
	h, mi, s := g.n(24), g.n(60), g.n(60)
	switch g.n(6) {
	case 0:
		return fmt.Sprintf("%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", y, mo, d, h, mi, s, g.n(1000))
	case 1:
		return fmt.Sprintf("%04d/%02d/%02d %02d:%02d:%02d", y, mo, d, h, mi, s)
	case 2:
		return fmt.Sprintf("ts=%d", 1600000000+g.n(140000000))
	case 3:
		return fmt.Sprintf("\"ts\":%d%03d", 1600000000+g.n(140000000), g.n(1000))
	case 4:
		return fmt.Sprintf("%04d%02d%02d%02d%02d%02d", y, mo, d, h, mi, s)
	}
	return fmt.Sprintf("%04d-%02d-%02d %02d:%02d:%02d,%03d", y, mo, d, h, mi, s, g.n(1000))
}

func (g gen) hex(n int) string {
	const x = "0123456789abcdef"
	b := make([]byte, n)
	for i := range b {
		b[i] = x[g.n(16)]
	}
	return string(b)
}

func uuid(g gen, lang string) string {
	u := g.hex(8) + "-" + g.hex(4) + "-4" + g.hex(3) + "-" + string("89ab"[g.n(4)]) + g.hex(3) + "-" + g.hex(12)
	return g.pick("request_id=", "trace ", "id: ", "session ") + u
}

func hexHash(g gen, lang string) string {
	switch g.n(4) {
	case 0:
		return "commit " + g.hex(40)
	case 1:
		return "sha256:" + g.hex(64)
	case 2:
		return "md5=" + g.hex(32)
	}
	return "rev " + g.hex(7)
}

func versionString(g gen, lang string) string {
	switch g.n(7) {
	case 0:
		return fmt.Sprintf("v%d.%d.%d", g.n(5), g.n(30), g.n(40))
	case 1:
		return fmt.Sprintf("version %d.%d.%d.%d", 1+g.n(20), g.n(10), g.n(10), g.n(200))
	case 2:
		return fmt.Sprintf("Chrome/%d.0.%d.%d", 100+g.n(30), 4000+g.n(3000), g.n(300))
	case 3:
		return fmt.Sprintf("go%d.%d.%d", 1, 18+g.n(8), g.n(10))
	case 4:
		return fmt.Sprintf("kernel %d.%d.%d-%d.el8.x86_64", 4+g.n(3), g.n(20), g.n(10), 100+g.n(500))
	case 5:
		return "OID 1.3.6.1.4.1." + fmt.Sprintf("%d.%d.%d", g.n(50000), g.n(20), g.n(20))
	}
	if lang == "zh" {
		return fmt.Sprintf("版本 %d.%d.%d.%d", 1+g.n(9), g.n(10), g.n(10), g.n(100))
	}
	return fmt.Sprintf("build %d.%d.%d.%d", 1+g.n(9), g.n(10), g.n(10), g.n(100))
}

func loopbackIP(g gen, lang string) string {
	return g.pick("listening on 127.0.0.1:", "bind 0.0.0.0:", "connect [::1]:", "upstream 127.0.0.1:") + fmt.Sprintf("%d", 1024+g.n(60000))
}

func amount(g gen, lang string) string {
	if lang == "zh" {
		return g.pick("金额 ", "合计：¥", "退款 ") + fmt.Sprintf("%d.%02d", g.n(100000), g.n(100)) + " 元"
	}
	return g.pick("amount=", "total $", "balance ") + fmt.Sprintf("%d.%02d", g.n(1000000), g.n(100))
}

// imei is a 15-digit Luhn-valid device identifier (TAC + serial + check).
func imei(g gen, lang string) string {
	body := "35" + g.digits(12)
	return g.pick("IMEI ", "imei=", "device IMEI: ") + body + string(luhnDigit(body))
}

// iccid is a SIM serial: 89 (telecom), 86 (China), Luhn check, 19 digits.
func iccid(g gen, lang string) string {
	body := "8986" + g.digits(14)
	return g.pick("ICCID ", "iccid=", "SIM卡 ICCID ") + body + string(luhnDigit(body))
}

func emailLookalike(g gen, lang string) string {
	switch g.n(5) {
	case 0:
		return "@" + g.pick(givenNames...) + " mentioned you"
	case 1:
		return "icon" + g.pick("@2x.png", "@3x.png")
	case 2:
		return g.pick("lodash", "react", "vue", "express") + fmt.Sprintf("@%d.%d.%d", g.n(20), g.n(20), g.n(20))
	case 3:
		return g.pick("@Override", "@Deprecated", "@media screen")
	}
	return "docker pull nginx@sha256:" + g.hex(16)
}

// ninoInvalid has a NINO's shape with a prefix HMRC never issues.
func ninoInvalid(g gen, lang string) string {
	p := g.pick("QQ", "BG", "GB", "NK", "KN", "TN", "ZZ", "DA", "FA", "AO", "VA", "UA")
	return g.pick("NI number ", "ref ", "code ") + p + g.digits(6) + string("ABCD"[g.n(4)])
}

// ssnInvalid has an SSN's shape with an area, group or serial the SSA never
// assigns.
func ssnInvalid(g gen, lang string) string {
	a, gr, s := g.ssnParts()
	switch g.n(5) {
	case 0:
		a = "000"
	case 1:
		a = "666"
	case 2:
		a = fmt.Sprintf("9%02d", g.n(100))
	case 3:
		gr = "00"
	default:
		s = "0000"
	}
	return g.pick("ref ", "case ", "part no. ") + a + "-" + gr + "-" + s
}

func ibanLookalike(g gen, lang string) string {
	switch g.n(3) {
	case 0:
		s := []byte(g.ibanCompact())
		i := 4 + g.n(len(s)-4)
		if s[i] >= '0' && s[i] <= '9' {
			s[i] = '0' + (s[i]-'0'+1+byte(g.n(8)))%10 // one digit mistyped
		}
		return "ref " + string(s)
	case 1:
		return "BIC " + g.pick("DEUTDEFF", "NWBKGB2L", "BKCHCNBJ", "ICBKCNBJ")
	}
	return "VAT " + g.pick("DE", "FR", "GB", "IT") + g.digits(9+g.n(3))
}

func digits18(g gen, lang string) string {
	var n string
	if g.chance(0.5) {
		n = "2024" + fmt.Sprintf("%02d%02d", 1+g.n(12), 1+g.n(28)) + g.digits(10)
	} else {
		n = fmt.Sprintf("%d", 1+g.n(9)) + g.digits(17)
	}
	if lang == "zh" {
		return g.pick("流水号 ", "交易号：", "商户订单号 ", "批次号 ") + n
	}
	return g.pick("transaction ", "txn_id=", "batch ", "serial ") + n
}

func snowflake(g gen, lang string) string {
	return g.pick("tweet ", "message_id=", "id=", "msg ") + fmt.Sprintf("1%d", 6+g.n(3)) + g.digits(17)
}

func postcode(g gen, lang string) string {
	if lang == "zh" {
		return "邮编 " + fmt.Sprintf("%d", 1+g.n(8)) + g.digits(5)
	}
	return g.pick("ZIP ", "postcode ", "zip=") + g.pick(g.digits(5), "SW1A 1AA", "EC1A 1BB", g.digits(5)+"-"+g.digits(4))
}

func dateNotDOB(g gen, lang string) string {
	y, m, d := 2000+g.n(26), 1+g.n(12), 1+g.n(28)
	if g.chance(0.3) {
		y = 1950 + g.n(50) // old enough to be a birth date
	}
	if lang == "zh" {
		return g.pick("入职日期 ", "签约日期：", "有效期至 ", "成立于 ") + fmt.Sprintf("%d年%d月%d日", y, m, d)
	}
	return g.pick("created ", "expires ", "since ", "founded ", "last login ") + fmt.Sprintf("%04d-%02d-%02d", y, m, d)
}

func codeNotPassport(g gen, lang string) string {
	return g.pick("SKU ", "part ", "batch ", "model ", "ticket ") + g.pick("E", "G", "EA", "TK") + g.digits(7+g.n(2))
}

func numericCode(g gen, lang string) string {
	switch g.n(6) {
	case 0:
		return "ISBN 978-7-" + g.digits(3) + "-" + g.digits(5) + "-" + string('0'+byte(g.n(10)))
	case 1:
		return fmt.Sprintf("port %d pid %d", 1024+g.n(60000), 100+g.n(90000))
	case 2:
		return fmt.Sprintf("error 0x%08X", g.r.Uint32())
	case 3:
		return "QQ群 " + g.digits(9)
	case 4:
		return "case " + fmt.Sprintf("%d-%04d-%04d", 2019+g.n(6), g.n(10000), g.n(10000))
	}
	return fmt.Sprintf("HTTP %d in %dms", []int{200, 201, 204, 301, 404, 500, 503}[g.n(7)], g.n(5000))
}

// cardLookalike is a 16-digit number that is not a card: outside every
// issuer range though Luhn-valid, or inside one but failing the check.
func cardLookalike(g gen, lang string) string {
	if g.chance(0.5) {
		body := g.pick("1", "7", "8", "9", "0") + g.digits(14)
		return g.pick("account ", "member ", "ref ") + body + string(luhnDigit(body))
	}
	n := []byte(g.cardNumber())
	n[len(n)-1] = '0' + (n[len(n)-1]-'0'+1+byte(g.n(9)))%10
	return g.pick("ref ", "id ", "seq ") + string(n)
}

// myNumberLookalike is a 12-digit number whose last digit happens to be a
// valid My Number check digit, in a context that says what it is.
func myNumberLookalike(g gen, lang string) string {
	first := fmt.Sprintf("%d", 1+g.n(9)) + g.digits(10)
	n := first + string(myNumberDigit(first))
	if g.chance(0.4) {
		n = group(n, " ", 4, 4, 4)
	}
	if lang == "zh" {
		return g.pick("发票代码：", "运单号 ", "订单号 ") + n
	}
	return g.pick("FedEx tracking ", "order ", "invoice ", "reservation ") + n
}

func counter(g gen, lang string) string {
	n := fmt.Sprintf("%d", 1+g.n(9)) + g.digits(3+g.n(9))
	if lang == "zh" {
		return g.pick("耗时 ", "读取字节数 ", "累计 ") + n + g.pick(" 毫秒", " 字节", " 次")
	}
	return g.pick("took ", "bytes=", "size ", "count=", "elapsed ") + n + g.pick("ns", " bytes", "", " ms")
}
