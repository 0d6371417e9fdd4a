package detect

import "net/netip"

// IP addresses: dotted-quad IPv4 (four decimal octets 0–255 without
// leading zeros, not part of a longer dotted run such as a version
// "1.2.3.4.5" or "v1.2.3.4") and IPv6 in any RFC 4291 form, IPv4-mapped
// included. Loopback, unspecified and broadcast addresses, and netmasks,
// identify no host and are not reported.

// ipv4 validates c, four groups joined by dots, as an IPv4 address.
func (sc *scan[T]) ipv4(c *cand) (float64, bool) {
	var oct [4]int
	for i := 0; i < 4; i++ {
		g := &c.t.groups[c.g0+i]
		d := c.t.dig[g.d0:g.d1]
		if len(d) > 3 || len(d) > 1 && d[0] == '0' || g.end-g.start != len(d) {
			return 0, false // 4 digits, a leading zero, full-width digits
		}
		oct[i] = atoi(d)
		if oct[i] > 255 {
			return 0, false
		}
	}
	if oct[0] == 0 || oct[0] == 127 || oct[0] == 255 {
		return 0, false
	}
	return score(0.8, 0.95, sc.ctx(c.start, c.end, IP)), true
}

func isHex(c byte) bool {
	return c >= '0' && c <= '9' || c|0x20 >= 'a' && c|0x20 <= 'f'
}

// ipv6 reads the run of hex digits, colons and dots around the colon at
// s[i] and reports it when it is an IPv6 address. It returns where
// scanning resumes.
func (sc *scan[T]) ipv6(i int) int {
	s := sc.s
	start := i
	for start > sc.lo && start > i-39 && (isHex(s[start-1]) || s[start-1] == ':') {
		start--
	}
	if start > 0 && (isASCIIAlnum(s[start-1]) || s[start-1] == '_' || s[start-1] == '.' || s[start-1] == ':') {
		return i + 1 // glued to a word, or longer than an address
	}
	end := i
	colons, dots, hex := 0, 0, 0
	for end < len(s) && end-start < 46 {
		c := s[end]
		switch {
		case c == ':':
			colons++
		case c == '.':
			dots++
		case isHex(c):
			hex++
		default:
			goto done
		}
		end++
	}
done:
	run := end
	for end > start && (s[end-1] == '.' || s[end-1] == ':' && (end-2 < start || s[end-2] != ':')) {
		if s[end-1] == ':' {
			colons--
		}
		end-- // a sentence's full stop, a "key:" colon
	}
	if colons < 2 || hex < 4 || end-start > 45 || end < len(s) && (isASCIIAlnum(s[end]) || s[end] == '_') {
		return run
	}
	if colons < 7 && !hasDoubleColon(s, start, end) {
		return run // "12:34:56", a MAC address
	}
	a, err := netip.ParseAddr(string(s[start:end]))
	if err != nil || !a.Is6() || a.Zone() != "" {
		return run
	}
	if u := a.Unmap(); u.IsLoopback() || u.IsUnspecified() || u.Is4() && u.As4()[0] == 0 {
		return run
	}
	if sc.emit(start, end, IP, score(0.9, 0.97, sc.ctx(start, end, IP)), "ip/v6") {
		return end
	}
	return run
}

func hasDoubleColon[T text](s T, start, end int) bool {
	for j := start; j+1 < end; j++ {
		if s[j] == ':' && s[j+1] == ':' {
			return true
		}
	}
	return false
}
