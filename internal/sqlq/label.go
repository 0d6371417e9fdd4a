package sqlq

import (
	"net/url"
	"strings"
	"unicode"
	"unicode/utf8"
)

// maxLabel bounds a label derived from a connection string.
const maxLabel = 200

// PostgresLabel returns what names the database of a PostgreSQL connection
// string in messages: its host (or hosts), port and database name, as
// "db.example.com:5432/app". dsn is a postgres:// or postgresql:// URL or
// a libpq keyword/value string ("host=… port=… dbname=…"). The result
// never holds the user name, the password or any other parameter; parts
// the string does not give are left out, and "" is returned when it gives
// none or cannot be read without risking a password.
func PostgresLabel(dsn string) string {
	dsn = strings.TrimSpace(dsn)
	var host, port, db string
	if rest, ok := cutScheme(dsn); ok {
		var safe bool
		host, port, db, safe = fromURL(rest)
		if !safe {
			return ""
		}
	} else if strings.Contains(dsn, "=") {
		host, port, db = fromKeywords(dsn)
		if strings.Contains(host, "=") || strings.Contains(port, "=") {
			// "host= password=…": libpq reads the host as "password=…".
			return ""
		}
	} else {
		return ""
	}
	// Whatever is before an '@' could be user information, whatever form
	// the string came in.
	if i := strings.LastIndexByte(host, '@'); i >= 0 {
		host = host[i+1:]
	}
	// libpq reads a dbname that is itself a connection string as one.
	if _, ok := cutScheme(db); ok || strings.Contains(db, "=") {
		if len(db) < len(dsn) {
			return PostgresLabel(db)
		}
		return ""
	}
	if strings.Contains(db, "@") {
		db = ""
	}
	return clean(join(host, port, db))
}

// cutScheme returns what follows postgres:// or postgresql://.
func cutScheme(dsn string) (string, bool) {
	for _, p := range []string{"postgres://", "postgresql://"} {
		if len(dsn) >= len(p) && strings.EqualFold(dsn[:len(p)], p) {
			return dsn[len(p):], true
		}
	}
	return "", false
}

// fromURL reads the part of a URL after the scheme the way net/url does
// (the fragment first, then the query, then the authority up to the first
// '/'), keeping only what follows the last '@' of the authority. safe is
// false when an '@' lies outside the authority only: then the URL is
// malformed (a password holding '/', '?' or '#' unescaped, say) or its
// parameters hold an '@', and what looks like a host might be part of a
// password.
func fromURL(rest string) (host, port, db string, safe bool) {
	whole := rest
	rest, _, _ = strings.Cut(rest, "#")
	rest, query, _ := strings.Cut(rest, "?")
	authority, path, _ := strings.Cut(rest, "/")
	if i := strings.LastIndexByte(authority, '@'); i >= 0 {
		authority = authority[i+1:]
	} else if strings.Contains(whole, "@") {
		return "", "", "", false
	}
	host = unescape(authority)
	db = unescape(path)
	// host, port and dbname may also be given as parameters, which pgx and
	// libpq let override the URL's; only those are looked at.
	if q, err := url.ParseQuery(query); err == nil {
		if v := q.Get("host"); v != "" {
			host = v
		}
		if v := q.Get("port"); v != "" {
			port = v
		}
		if v := q.Get("dbname"); v != "" {
			db = v
		}
	}
	return host, port, db, true
}

func unescape(s string) string {
	if u, err := url.PathUnescape(s); err == nil {
		return u
	}
	return s
}

// fromKeywords reads host (or hostaddr), port and dbname from a libpq
// keyword/value string: key = value pairs separated by spaces, a value
// single-quoted or not, a backslash escaping the next character.
func fromKeywords(s string) (host, port, db string) {
	var hostaddr string
	for len(s) > 0 {
		s = strings.TrimLeftFunc(s, unicode.IsSpace)
		i := strings.IndexByte(s, '=')
		if i < 0 {
			break
		}
		key := strings.TrimSpace(s[:i])
		s = strings.TrimLeftFunc(s[i+1:], unicode.IsSpace)
		var val string
		val, s = keywordValue(s)
		switch key {
		case "host":
			host = val
		case "hostaddr":
			hostaddr = val
		case "port":
			port = val
		case "dbname":
			db = val
		}
	}
	if host == "" {
		host = hostaddr
	}
	if port != "" && host != "" {
		// One port for every host, or one port per host.
		hosts, ports := strings.Split(host, ","), strings.Split(port, ",")
		if len(ports) == 1 || len(ports) == len(hosts) {
			for i, h := range hosts {
				if strings.Contains(h, ":") {
					h = "[" + h + "]" // an IPv6 address
				}
				hosts[i] = h + ":" + ports[min(i, len(ports)-1)]
			}
			return strings.Join(hosts, ","), "", db
		}
	}
	return host, port, db
}

// keywordValue reads one value at the start of s and returns it with the
// rest of s.
func keywordValue(s string) (string, string) {
	var b strings.Builder
	if strings.HasPrefix(s, "'") {
		for i := 1; i < len(s); i++ {
			switch s[i] {
			case '\\':
				if i+1 < len(s) {
					i++
					b.WriteByte(s[i])
				}
			case '\'':
				return b.String(), s[i+1:]
			default:
				b.WriteByte(s[i])
			}
		}
		return b.String(), "" // unterminated
	}
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c == '\\':
			if i+1 < len(s) {
				i++
				b.WriteByte(s[i])
			}
		case c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v':
			return b.String(), s[i:]
		default:
			b.WriteByte(c)
		}
	}
	return b.String(), ""
}

// join puts the parts together as host[:port][/db].
func join(host, port, db string) string {
	var b strings.Builder
	b.WriteString(host)
	if port != "" {
		b.WriteString(":" + port)
	}
	if db != "" {
		b.WriteString("/" + db)
	}
	return b.String()
}

// clean keeps a label to one line of printable characters, at most
// maxLabel bytes.
func clean(s string) string {
	s = strings.ToValidUTF8(s, "\uFFFD")
	s = strings.Map(func(r rune) rune {
		if !unicode.IsPrint(r) {
			return -1
		}
		return r
	}, s)
	if len(s) > maxLabel {
		cut := maxLabel
		for cut > 0 && !utf8.RuneStart(s[cut]) {
			cut--
		}
		s = s[:cut] + "…"
	}
	return s
}
