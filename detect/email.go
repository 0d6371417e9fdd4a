package detect

// E-mail addresses: the RFC 5322 dot-atom forms people write, a local
// part of letters, digits and ._%+- (at most 64 bytes, no leading,
// trailing or double dot) and a domain of at least two labels whose last
// is a top-level domain: a known generic one or any two letters (a
// country) at full confidence, any other alphabetic label at less, and
// never a file extension ("icon@2x.png"). Quoted local parts, IP-literal
// domains and addresses written in non-ASCII characters are not
// recognized.

func isLocalChar(c byte) bool {
	return isASCIIAlnum(c) || c == '.' || c == '_' || c == '%' || c == '+' || c == '-'
}

func isDomainChar(c byte) bool { return isASCIIAlnum(c) || c == '-' }

// email reads the address around the '@' at s[i].
func (sc *scan[T]) email(i int) int {
	s := sc.s
	start := i
	for start > sc.lo && start > i-64 && isLocalChar(s[start-1]) {
		start--
	}
	if start > 0 && isLocalChar(s[start-1]) {
		return i + 1 // longer than 64 bytes, or overlapping a value found before
	}
	for start < i && (s[start] == '.' || s[start] == '-' || s[start] == '+') {
		start++
	}
	if start == i || s[i-1] == '.' {
		return i + 1
	}
	for j := start; j+1 < i; j++ {
		if s[j] == '.' && s[j+1] == '.' {
			return i + 1
		}
	}
	// the domain: labels joined by single dots
	j, labels, lastStart := i+1, 0, i+1
	for j < len(s) && j-i <= 254 {
		ls := j
		for j < len(s) && isDomainChar(s[j]) && j-ls < 64 {
			j++
		}
		if j == ls || s[ls] == '-' || s[j-1] == '-' {
			break
		}
		labels++
		lastStart = ls
		if j+1 < len(s) && s[j] == '.' && isDomainChar(s[j+1]) {
			j++
			continue
		}
		break
	}
	end := j
	if labels < 2 || end < len(s) && (isDomainChar(s[end]) || s[end] == '_' || s[end] == '@') {
		return i + 1
	}
	if j-i > 254 {
		return i + 1
	}
	conf := tldConfidence(s, lastStart, end)
	if conf == 0 {
		return i + 1
	}
	if sc.emit(start, end, Email, score(conf, 0.97, sc.ctx(start, end, Email)), "email") {
		return end
	}
	return i + 1
}

// knownTLDs are generic top-level domains common in addresses.
var knownTLDs = map[string]bool{
	"com": true, "org": true, "net": true, "edu": true, "gov": true, "mil": true, "int": true, "info": true,
	"biz": true, "name": true, "pro": true, "mobi": true, "app": true, "dev": true, "cloud": true, "online": true,
	"site": true, "xyz": true, "tech": true, "email": true, "mail": true, "shop": true, "store": true, "top": true,
	"vip": true, "club": true, "live": true, "work": true, "company": true, "group": true, "design": true,
	"media": true, "news": true, "blog": true, "studio": true, "world": true, "today": true, "space": true, "asia": true,
}

// fileExtensions are the endings that make "name@2x.png" a file, not an
// address.
var fileExtensions = map[string]bool{
	"png": true, "jpg": true, "jpeg": true, "gif": true, "svg": true, "webp": true, "ico": true, "bmp": true,
	"js": true, "mjs": true, "ts": true, "css": true, "html": true, "htm": true, "json": true, "xml": true, "yaml": true,
	"yml": true, "txt": true, "md": true, "go": true, "py": true, "rb": true, "java": true, "php": true, "zip": true,
	"gz": true, "tar": true, "tgz": true, "exe": true, "dll": true, "so": true, "log": true, "csv": true, "mp3": true,
	"mp4": true, "wasm": true, "lock": true, "sum": true, "mod": true,
}

// tldConfidence rates the top-level domain s[a:b]: 0 when it cannot end
// an address.
func tldConfidence[T text](s T, a, b int) float64 {
	n := b - a
	if n < 2 || n > 24 {
		return 0
	}
	var buf [24]byte
	for k := 0; k < n; k++ {
		c := s[a+k] | 0x20
		if c < 'a' || c > 'z' {
			if k >= 2 && (c == '-' || s[a+k] >= '0' && s[a+k] <= '9') && buf[0] == 'x' && buf[1] == 'n' {
				buf[k] = s[a+k]
				continue // punycode: xn--...
			}
			return 0
		}
		buf[k] = c
	}
	tld := buf[:n]
	switch {
	case fileExtensions[string(tld)]:
		return 0
	case knownTLDs[string(tld)], n == 2:
		return 0.95
	}
	return 0.6
}
