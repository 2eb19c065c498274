package pii

import (
	"math/big"
	"strings"
)

// digits returns the ASCII digits of s, dropping spaces, dashes, dots and
// slashes; ok is false if s holds anything else.
func digits(s string) (string, bool) {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c >= '0' && c <= '9':
			b.WriteByte(c)
		case c == ' ' || c == '-' || c == '.' || c == '/' || c == '\u00a0':
		default:
			return "", false
		}
	}
	return b.String(), true
}

// compact removes separators (space, dash, dot, no-break space) and
// upper-cases ASCII letters.
func compact(s string) string {
	var b strings.Builder
	for _, r := range s {
		switch r {
		case ' ', '-', '.', '\u00a0', '\u202f', '/':
			continue
		}
		if r >= 'a' && r <= 'z' {
			r -= 'a' - 'A'
		}
		b.WriteRune(r)
	}
	return b.String()
}

// luhn reports whether a digit string passes the Luhn check.
func luhn(d string) bool {
	if len(d) < 2 {
		return false
	}
	sum := 0
	dbl := false
	for i := len(d) - 1; i >= 0; i-- {
		n := int(d[i] - '0')
		if dbl {
			n *= 2
			if n > 9 {
				n -= 9
			}
		}
		sum += n
		dbl = !dbl
	}
	return sum%10 == 0
}

// validCard: 13–19 digits, an issuer prefix in use, Luhn.
func validCard(d string) bool {
	if len(d) < 13 || len(d) > 19 || !luhn(d) {
		return false
	}
	p2 := atoi(d[:2])
	p4 := atoi(d[:4])
	switch {
	case d[0] == '4': // Visa
		return len(d) == 13 || len(d) == 16 || len(d) == 19
	case p2 >= 51 && p2 <= 55, p4 >= 2221 && p4 <= 2720: // Mastercard
		return len(d) == 16
	case p2 == 34 || p2 == 37: // Amex
		return len(d) == 15
	case p4 == 6011 || p2 == 65 || (p4 >= 6440 && p4 <= 6499): // Discover
		return len(d) >= 16
	case p2 == 35: // JCB
		return len(d) >= 16
	case p2 == 36 || p2 == 38 || p2 == 30: // Diners
		return len(d) >= 14
	case p2 == 62: // UnionPay
		return len(d) >= 16
	case d[0] == '6' || d[0] == '5': // Maestro and others
		return len(d) >= 12
	}
	return false
}

func atoi(s string) int {
	n := 0
	for i := 0; i < len(s); i++ {
		n = n*10 + int(s[i]-'0')
	}
	return n
}

// ibanLengths are the IBAN lengths of the countries that use IBANs.
var ibanLengths = map[string]int{
	"AD": 24, "AE": 23, "AL": 28, "AT": 20, "AZ": 28, "BA": 20, "BE": 16, "BG": 22, "BH": 22, "BR": 29,
	"BY": 28, "CH": 21, "CR": 22, "CY": 28, "CZ": 24, "DE": 22, "DK": 18, "DO": 28, "EE": 20, "EG": 29,
	"ES": 24, "FI": 18, "FO": 18, "FR": 27, "GB": 22, "GE": 22, "GI": 23, "GL": 18, "GR": 27, "GT": 28,
	"HR": 21, "HU": 28, "IE": 22, "IL": 23, "IQ": 23, "IS": 26, "IT": 27, "JO": 30, "KW": 30, "KZ": 20,
	"LB": 28, "LC": 32, "LI": 21, "LT": 20, "LU": 20, "LV": 21, "MC": 27, "MD": 24, "ME": 22, "MK": 19,
	"MR": 27, "MT": 31, "MU": 30, "NL": 18, "NO": 15, "PK": 24, "PL": 28, "PS": 29, "PT": 25, "QA": 29,
	"RO": 24, "RS": 22, "SA": 24, "SC": 31, "SE": 24, "SI": 19, "SK": 24, "SM": 27, "ST": 25, "SV": 28,
	"TL": 23, "TN": 24, "TR": 26, "UA": 29, "VA": 22, "VG": 24, "XK": 20,
}

// validIBAN checks country, length and the mod-97 check of a compact IBAN.
func validIBAN(s string) bool {
	if len(s) < 15 || len(s) > 34 {
		return false
	}
	if n, ok := ibanLengths[s[:2]]; !ok || n != len(s) {
		return false
	}
	if s[2] < '0' || s[2] > '9' || s[3] < '0' || s[3] > '9' {
		return false
	}
	rem := 0
	for _, c := range s[4:] + s[:4] {
		switch {
		case c >= '0' && c <= '9':
			rem = (rem*10 + int(c-'0')) % 97
		case c >= 'A' && c <= 'Z':
			rem = (rem*100 + int(c-'A') + 10) % 97
		default:
			return false
		}
	}
	return rem == 1
}

// validSSN applies the SSA rules: area not 000, 666 or 900–999; group not
// 00; serial not 0000; not a famous advertising number.
func validSSN(d string) bool {
	if len(d) != 9 {
		return false
	}
	area, group, serial := atoi(d[:3]), atoi(d[3:5]), atoi(d[5:])
	if area == 0 || area == 666 || area >= 900 || group == 0 || serial == 0 {
		return false
	}
	return d != "078051120" && d != "219099999" && d != "123456789"
}

// validNINO: two prefix letters (not D, F, I, Q, U, V; second not O; not
// BG, GB, NK, KN, TN, NT, ZZ), six digits, suffix A–D.
func validNINO(s string) bool {
	if len(s) != 9 {
		return false
	}
	a, b := s[0], s[1]
	bad := func(c byte) bool { return strings.IndexByte("DFIQUV", c) >= 0 }
	if bad(a) || bad(b) || b == 'O' {
		return false
	}
	switch s[:2] {
	case "BG", "GB", "NK", "KN", "TN", "NT", "ZZ":
		return false
	}
	for i := 2; i < 8; i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return s[8] >= 'A' && s[8] <= 'D'
}

// validDETaxID: 11 digits, first not 0, in the first ten exactly one digit
// repeated (twice or three times), ISO 7064 MOD 11,10 check digit.
func validDETaxID(d string) bool {
	if len(d) != 11 || d[0] == '0' {
		return false
	}
	var cnt [10]int
	for i := 0; i < 10; i++ {
		cnt[d[i]-'0']++
	}
	rep := 0
	for _, c := range cnt {
		if c >= 2 {
			if c > 3 {
				return false
			}
			rep++
		}
	}
	if rep != 1 {
		return false
	}
	return detaxCheck(d[:10]) == int(d[10]-'0')
}

func detaxCheck(d string) int {
	p := 10
	for i := 0; i < len(d); i++ {
		s := (int(d[i]-'0') + p) % 10
		if s == 0 {
			s = 10
		}
		p = (2 * s) % 11
	}
	c := 11 - p
	if c == 10 {
		c = 0
	}
	return c
}

// validNIR: 15 characters (13 + 2-digit key), sex 1, 2, 3, 7 or 8, month
// 01–12 or 20–42 or 50–99, Corsican departments 2A/2B, key = 97 − (n mod
// 97).
func validNIR(s string) bool {
	if len(s) != 15 {
		return false
	}
	if strings.IndexByte("12378", s[0]) < 0 {
		return false
	}
	body := s[:13]
	switch body[5:7] {
	case "2A":
		body = body[:5] + "19" + body[7:]
	case "2B":
		body = body[:5] + "18" + body[7:]
	}
	for i := 0; i < 13; i++ {
		if body[i] < '0' || body[i] > '9' {
			return false
		}
	}
	if s[13] < '0' || s[13] > '9' || s[14] < '0' || s[14] > '9' {
		return false
	}
	m := atoi(s[3:5])
	if !(m >= 1 && m <= 12 || m >= 20 && m <= 42 || m >= 50 && m <= 99) {
		return false
	}
	n := new(big.Int)
	n.SetString(body, 10)
	r := new(big.Int).Mod(n, big.NewInt(97)).Int64()
	return int64(97-r) == int64(atoi(s[13:]))
}

const dniLetters = "TRWAGMYFPDXBNJZSQVHLCKE"

// validDNI: 8 digits and the letter of n mod 23; or an NIE: X, Y or Z
// (0, 1, 2), 7 digits and the letter.
func validDNI(s string) bool {
	if len(s) != 9 {
		return false
	}
	num := s[:8]
	switch s[0] {
	case 'X':
		num = "0" + s[1:8]
	case 'Y':
		num = "1" + s[1:8]
	case 'Z':
		num = "2" + s[1:8]
	}
	for i := 0; i < 8; i++ {
		if num[i] < '0' || num[i] > '9' {
			return false
		}
	}
	return dniLetters[atoi(num)%23] == s[8]
}

// validBSN: 9 digits, not all zero, 11-test (9·d1 + 8·d2 + … + 2·d8 − d9
// ≡ 0 mod 11).
func validBSN(d string) bool {
	if len(d) != 9 || d == "000000000" {
		return false
	}
	sum := 0
	for i := 0; i < 8; i++ {
		sum += (9 - i) * int(d[i]-'0')
	}
	sum -= int(d[8] - '0')
	return sum%11 == 0
}

// Codice fiscale check character tables.
var cfOdd = [36]int{1, 0, 5, 7, 9, 13, 15, 17, 19, 21, 1, 0, 5, 7, 9, 13, 15, 17, 19, 21, 2, 4, 18, 20, 11, 3, 6, 8, 12, 14, 16, 10, 22, 25, 24, 23}

// validCF: 16 characters in the CF pattern (omocodia letters allowed in
// digit places) with the right check character.
func validCF(s string) bool {
	if len(s) != 16 {
		return false
	}
	sum := 0
	for i := 0; i < 15; i++ {
		c := s[i]
		var v int
		switch {
		case c >= '0' && c <= '9':
			v = int(c - '0')
		case c >= 'A' && c <= 'Z':
			v = int(c-'A') + 10
		default:
			return false
		}
		if i%2 == 0 { // odd position (1-based)
			sum += cfOdd[v]
		} else {
			if v >= 10 {
				v -= 10
			}
			sum += v
		}
	}
	return s[15] == byte('A'+sum%26)
}
