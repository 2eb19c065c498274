package pii

import (
	"net/netip"
	"regexp"
	"sort"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Finding is one value found in a text.
type Finding struct {
	Kind       Kind
	Start, End int    // byte offsets into the text
	Value      string // text[Start:End]
}

// MaxScanBytes bounds the text Scan reads at once; longer texts are
// scanned in overlapping pieces, so a value is found wherever it is.
const MaxScanBytes = 1 << 20

type scanner struct {
	kind     Kind
	re       *regexp.Regexp
	priority int // higher wins an overlap
	valid    func(m string) bool
}

// sep is one optional separator inside a number: a space, a dash, a dot
// or a no-break space.
const sep = `[ \-.\x{00A0}\x{202F}]?`

var scanners = []scanner{
	{Email, regexp.MustCompile(`[\p{L}\p{N}._%+\-]+@[\p{L}\p{N}\-]+(?:\.[\p{L}\p{N}\-]+)*\.\p{L}{2,}`), 90, validEmail},
	{IBAN, regexp.MustCompile(`\b[A-Z]{2}\d{2}(?:` + sep + `[A-Z0-9]{1,4}){3,8}\b`), 80, func(m string) bool { return validIBAN(compact(m)) }},
	{Card, regexp.MustCompile(`\b\d(?:` + sep + `\d){12,18}\b`), 70, func(m string) bool {
		d, ok := digits(m)
		return ok && validCard(d) && evenGroups(m)
	}},
	{FRNIR, regexp.MustCompile(`\b[12378]` + sep + `\d{2}` + sep + `\d{2}` + sep + `(?:\d{2}|2[AB])` + sep + `\d{3}` + sep + `\d{3}` + sep + `\d{2}\b`), 65, func(m string) bool { return validNIR(compact(m)) }},
	{ITCF, regexp.MustCompile(`(?i)\b[A-Z]{6}[0-9LMNPQRSTUV]{2}[ABCDEHLMPRST][0-9LMNPQRSTUV]{2}[A-Z][0-9LMNPQRSTUV]{3}[A-Z]\b`), 65, func(m string) bool { return validCF(strings.ToUpper(m)) }},
	{DETaxID, regexp.MustCompile(`\b[1-9]\d` + sep + `\d{3}` + sep + `\d{3}` + sep + `\d{3}\b`), 60, func(m string) bool {
		d, ok := digits(m)
		return ok && validDETaxID(d)
	}},
	{ESDNI, regexp.MustCompile(`(?i)\b(?:\d{8}|[XYZ]` + sep + `\d{7})` + sep + `[A-Z]\b`), 60, func(m string) bool { return validDNI(compact(m)) }},
	{UKNINO, regexp.MustCompile(`(?i)\b[A-Z]{2}` + sep + `\d{2}` + sep + `\d{2}` + sep + `\d{2}` + sep + `[A-D]\b`), 55, func(m string) bool { return validNINO(compact(m)) }},
	{USSSN, regexp.MustCompile(`\b\d{3}[ \-]\d{2}[ \-]\d{4}\b`), 55, func(m string) bool {
		d, ok := digits(m)
		return ok && validSSN(d) && (m[3] == m[6])
	}},
	{NLBSN, regexp.MustCompile(`\b\d{4}[ .]?\d{2}[ .]?\d{3}\b|\b\d{3}[ .]\d{3}[ .]\d{3}\b`), 50, func(m string) bool {
		d, ok := digits(m)
		return ok && validBSN(d)
	}},
	{IP, regexp.MustCompile(`(?i)(?:\b|::)[0-9a-f]{0,4}(?::[0-9a-f]{0,4}){2,7}(?:%[0-9a-z]+)?|\b\d{1,3}\.\d{1,3}\.\d{1,3}\.\d{1,3}\b`), 45, validIP},
	{Phone, regexp.MustCompile(`(?:\+|\b00)\d{1,3}` + sep + `(?:\(0?\d{1,4}\)` + sep + `)?\d{1,5}(?:` + sep + `\d{2,5}){1,5}\b|(?:\(0\d{1,4}\)|\b0\d{1,4})` + sep + `\d{2,5}(?:` + sep + `\d{2,5}){1,4}\b|(?:\(\d{3}\)\s?|\b\d{3}[\-. ])\d{3}[\-. ]\d{4}\b|\b[6789]\d{2} \d{3} \d{3}\b`), 10, validPhone},
}

func validEmail(m string) bool {
	at := strings.LastIndexByte(m, '@')
	local := m[:at]
	return local != "" && local[0] != '.' && local[len(local)-1] != '.' && !strings.Contains(m, "..")
}

func validIP(m string) bool {
	a, err := netip.ParseAddr(m)
	if err != nil {
		return false
	}
	if a.Is4() {
		// leading zeros make dates and versions ("01.02.2024.1") unlikely IPs
		for _, p := range strings.Split(m, ".") {
			if len(p) > 1 && p[0] == '0' {
				return false
			}
		}
		return true
	}
	return strings.Count(m, ":") >= 2 && !a.IsUnspecified()
}

// validPhone: 8–15 digits (E.164 allows 15), not a date, not a run of one
// digit.
func validPhone(m string) bool {
	var b strings.Builder
	for _, r := range m {
		if r >= '0' && r <= '9' {
			b.WriteRune(r)
		}
	}
	d := b.String()
	if len(d) < 8 || len(d) > 15 {
		return false
	}
	if strings.Count(d, d[:1]) == len(d) {
		return false
	}
	return !looksLikeDate(m)
}

var dateRe = regexp.MustCompile(`^\(?\d{1,4}[\-./ ]\d{1,2}[\-./ ]\d{1,4}\)?$`)

func looksLikeDate(m string) bool { return dateRe.MatchString(strings.TrimSpace(m)) }

// evenGroups: a card written with separators groups its digits in 4s (the
// last group may be shorter; Amex 4-6-5).
func evenGroups(m string) bool {
	f := strings.FieldsFunc(m, func(r rune) bool { return r == ' ' || r == '-' || r == '.' || r == '\u00a0' || r == '\u202f' })
	if len(f) == 1 {
		return true
	}
	if len(f) == 3 && len(f[0]) == 4 && len(f[1]) == 6 && len(f[2]) == 5 {
		return true
	}
	for i, g := range f {
		if len(g) != 4 && !(i == len(f)-1 && len(g) >= 1 && len(g) <= 4) {
			return false
		}
	}
	return true
}

// Scan finds personal data in text: non-overlapping findings in text
// order. Where two kinds claim the same characters, the one with the
// stronger check wins (a checksum over a format, a format over a phone
// number's shape).
func Scan(text string) []Finding { return scanKinds(text, nil) }

func scanKinds(text string, want *[numKinds]bool) []Finding {
	if len(text) > MaxScanBytes {
		return scanLong(text, want)
	}
	type cand struct {
		Finding
		prio int
	}
	var cands []cand
	for _, s := range scanners {
		if want != nil && !want[s.kind] {
			continue
		}
		for _, loc := range s.re.FindAllStringIndex(text, -1) {
			st, en := loc[0], loc[1]
			m := text[st:en]
			if s.kind == IP {
				m = strings.TrimLeft(m, ":")
				if strings.HasPrefix(text[st:en], "::") {
					m = text[st:en] // "::1" keeps its colons
				}
				st = en - len(m)
			}
			if !boundaryOK(text, st, en, s.kind) || !s.valid(m) {
				continue
			}
			cands = append(cands, cand{Finding{s.kind, st, en, m}, s.priority})
		}
	}
	sort.SliceStable(cands, func(a, b int) bool {
		if cands[a].prio != cands[b].prio {
			return cands[a].prio > cands[b].prio
		}
		return cands[a].End-cands[a].Start > cands[b].End-cands[b].Start
	})
	var out []Finding
	for _, c := range cands {
		clash := false
		for _, f := range out {
			if c.Start < f.End && f.Start < c.End {
				clash = true
				break
			}
		}
		if !clash {
			out = append(out, c.Finding)
		}
	}
	sort.Slice(out, func(a, b int) bool { return out[a].Start < out[b].Start })
	return out
}

// boundaryOK rejects numbers glued to more digits or letters (part of a
// longer identifier) — \b does not see non-ASCII letters.
func boundaryOK(text string, st, en int, k Kind) bool {
	if k == Email {
		return true
	}
	if st > 0 {
		r, _ := utf8.DecodeLastRuneInString(text[:st])
		if unicode.IsLetter(r) || unicode.IsDigit(r) || (k != Phone && r == '+') {
			return false
		}
		if r == '.' || r == '-' || r == '/' || r == ' ' {
			if st > 1 {
				r2, _ := utf8.DecodeLastRuneInString(text[:st-1])
				if unicode.IsDigit(r2) {
					return false
				}
			}
		}
	}
	if en < len(text) {
		r, _ := utf8.DecodeRuneInString(text[en:])
		if unicode.IsLetter(r) || unicode.IsDigit(r) {
			return false
		}
		if r == '.' || r == '-' || r == '/' || r == ' ' {
			if en+1 < len(text) {
				r2, _ := utf8.DecodeRuneInString(text[en+1:])
				if unicode.IsDigit(r2) {
					return false
				}
			}
		}
	}
	return true
}

// scanLong scans a long text in pieces of MaxScanBytes overlapping by 4 KiB
// (no value is that long), merging the findings.
func scanLong(text string, want *[numKinds]bool) []Finding {
	const overlap = 4 << 10
	var out []Finding
	for start := 0; start < len(text); {
		end := min(start+MaxScanBytes, len(text))
		for end < len(text) && !utf8.RuneStart(text[end]) {
			end--
		}
		for _, f := range scanKinds(text[start:end], want) {
			f.Start += start
			f.End += start
			if len(out) > 0 && f.Start < out[len(out)-1].End {
				continue
			}
			// a finding touching the cut may be incomplete: the next
			// piece sees it whole
			if end < len(text) && f.End >= end-64 {
				continue
			}
			out = append(out, f)
		}
		if end == len(text) {
			break
		}
		next := end - overlap
		for next > start && !utf8.RuneStart(text[next]) {
			next--
		}
		if next <= start {
			next = end
		}
		start = next
	}
	return out
}
