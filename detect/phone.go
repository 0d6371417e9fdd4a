package detect

import (
	"regexp"
	"sort"
	"sync"

	"github.com/nyaruka/phonenumbers"
)

// Phone numbers are validated against libphonenumber's metadata (through
// github.com/nyaruka/phonenumbers): the number's length and pattern for
// its region, and one of the number types (fixed line, mobile, toll free,
// ...), as phonenumbers.IsValidNumber decides. The patterns are compiled
// once per region on first use and matched on the digits already read:
// phonenumbers.Parse and IsValidNumber take 8–40 µs and 23–74 allocations
// a call (they rebuild and look up each pattern by string), the compiled
// pattern 0.2–0.4 µs and none, which is what keeps phone numbers from
// dominating the scan. TestPhoneValidationAgreesWithLibphonenumber checks
// that both say the same.

// desc is one number type's possible lengths and national pattern.
type desc struct {
	lens []int32
	re   *regexp.Regexp
}

func (d *desc) match(nsn []byte) bool {
	if d == nil || d.re == nil {
		return false
	}
	if len(d.lens) > 0 {
		ok := false
		for _, l := range d.lens {
			if int(l) == len(nsn) {
				ok = true
				break
			}
		}
		if !ok {
			return false
		}
	}
	return d.re.Match(nsn)
}

// compiledPlan is a region's compiled patterns.
type compiledPlan struct {
	general desc
	types   []desc // every type but mobile
	mobile  desc
	leading *regexp.Regexp // for calling codes shared by several regions
}

// phonePlan is one region's numbering plan.
type phonePlan struct {
	region string
	cc     int
	ndd    string // the national (trunk) prefix, "0" or "1" or ""
	main   bool   // the main region of its calling code
	md     *phonenumbers.PhoneMetadata
	plan   func() *compiledPlan
}

func compileDesc(d *phonenumbers.PhoneNumberDesc) desc {
	if d == nil || d.GetNationalNumberPattern() == "" {
		return desc{}
	}
	return desc{lens: d.PossibleLength, re: regexp.MustCompile("^(?:" + d.GetNationalNumberPattern() + ")$")}
}

func newPlan(md *phonenumbers.PhoneMetadata) *phonePlan {
	p := &phonePlan{region: md.GetId(), cc: int(md.GetCountryCode()), ndd: md.GetNationalPrefix(), main: md.GetMainCountryForCode(), md: md}
	p.plan = sync.OnceValue(func() *compiledPlan {
		c := &compiledPlan{general: compileDesc(md.GetGeneralDesc()), mobile: compileDesc(md.GetMobile())}
		for _, d := range []*phonenumbers.PhoneNumberDesc{md.GetFixedLine(), md.GetTollFree(), md.GetPremiumRate(),
			md.GetSharedCost(), md.GetVoip(), md.GetPersonalNumber(), md.GetPager(), md.GetUan(), md.GetVoicemail()} {
			if cd := compileDesc(d); cd.re != nil {
				c.types = append(c.types, cd)
			}
		}
		if ld := md.GetLeadingDigits(); ld != "" {
			c.leading = regexp.MustCompile("^(?:" + ld + ")")
		}
		return c
	})
	return p
}

// valid reports whether nsn, a national significant number, is a valid
// number of the region, and whether it is a mobile number.
func (p *phonePlan) valid(nsn []byte) (ok, mobile bool) {
	c := p.plan()
	if !c.general.match(nsn) {
		return false, false
	}
	if c.mobile.match(nsn) {
		return true, true
	}
	for i := range c.types {
		if c.types[i].match(nsn) {
			return true, false
		}
	}
	return false, false
}

// phoneTabs indexes the plans by region and by calling code.
type phoneTabs struct {
	byRegion map[string]*phonePlan
	byCC     map[int][]*phonePlan // the main region first
}

// phoneTables is built on first use from the metadata phonenumbers
// embeds, and never changes after.
var phoneTables = sync.OnceValue(func() *phoneTabs {
	t := &phoneTabs{byRegion: map[string]*phonePlan{}, byCC: map[int][]*phonePlan{}}
	coll, err := phonenumbers.MetadataCollection()
	if err != nil {
		panic("detect: phonenumbers metadata: " + err.Error()) // embedded in the module: cannot fail
	}
	for _, md := range coll.GetMetadata() {
		p := newPlan(md)
		if p.region != "001" { // non-geographic codes (+800, +882) have no region
			t.byRegion[p.region] = p
		}
		t.byCC[p.cc] = append(t.byCC[p.cc], p)
	}
	for _, ps := range t.byCC {
		sort.SliceStable(ps, func(i, j int) bool { return ps[i].main && !ps[j].main })
	}
	return t
})

// phoneIntl validates a number written with "+": a calling code, then a
// national significant number valid in one of the code's regions.
func (sc *scan[T]) phoneIntl(c *cand) (float64, bool) {
	n := len(c.d)
	if n < 7 || n > 15 || !sc.d.kinds.has(Phone) || !phoneSeps(c) {
		return 0, false
	}
	tabs := phoneTables()
	cc := 0
	for l := 1; l <= 3; l++ {
		cc = cc*10 + int(c.d[l-1]-'0')
		plans := tabs.byCC[cc]
		if len(plans) == 0 {
			continue
		}
		nsn := c.d[l:]
		for _, p := range plans {
			if ld := p.plan().leading; len(plans) > 1 && ld != nil && !ld.Match(nsn) {
				continue
			}
			if ok, _ := p.valid(nsn); ok {
				return score(0.9, 0.98, sc.ctx(c.start, c.end, Phone)), true
			}
		}
		return 0, false // calling codes are prefix-free: no longer one can match
	}
	return 0, false
}

// phoneSeps reports whether c is written as phone numbers are: groups
// joined by spaces, dashes or dots, a first group in parentheses.
func phoneSeps(c *cand) bool {
	if !c.seps(" -.)") {
		return false
	}
	for g := c.g0; g < c.g1; g++ {
		if c.t.groups[g].paren && g > c.g0+1 {
			return false
		}
	}
	return true
}

// nationalShape reports whether c is grouped as national numbers are
// written: one separator throughout (after a parenthesized area code) and
// a last group of at least three digits, not "2024-01-28 19".
func nationalShape(c *cand) bool {
	var sep byte
	for g := c.g0 + 1; g < c.g1; g++ {
		s := c.t.groups[g].sep
		if s == ')' {
			continue
		}
		if sep != 0 && s != sep {
			return false
		}
		sep = s
	}
	last := &c.t.groups[c.g1-1]
	return last.d1-last.d0 >= 3
}

// phoneNational validates a number written without a calling code in one
// of the Detector's regions. It must be written as it is dialled in its
// country: with the trunk prefix where the country has one ("020 7946
// 0018"), except NANP numbers, whose prefix "1" is optional, and Chinese
// mobile numbers, which are dialled without one.
func (sc *scan[T]) phoneNational(c *cand) (float64, bool) {
	if !sc.d.kinds.has(Phone) || !phoneSeps(c) || !nationalShape(c) {
		return 0, false
	}
	for _, p := range sc.d.regions {
		d := c.d
		ok, mobile := false, false
		if p.ndd != "" && len(d) > len(p.ndd) && string(d[:len(p.ndd)]) == p.ndd {
			ok, mobile = p.valid(d[len(p.ndd):])
		}
		if !ok && (p.ndd == "" || p.ndd == "1" || p.region == "CN" && len(d) == 11 && d[0] == '1') {
			ok, mobile = p.valid(d)
			if ok && p.region == "CN" && !mobile {
				ok = false // a Chinese landline needs its trunk 0 and area code
			}
		}
		if !ok {
			continue
		}
		base := 0.8 // grouped as phone numbers are written: "(212) 736-8421", "138 1234 5678"
		if c.single() {
			base = 0.45 // ten bare digits are as often an ID as a number
			if p.region == "CN" && mobile && len(d) == 11 {
				base = 0.75 // a bare 1[3-9]x xxxx xxxx is how Chinese mobiles are written
			}
		}
		return score(base, 0.95, sc.ctx(c.start, c.end, Phone)), true
	}
	return 0, false
}
