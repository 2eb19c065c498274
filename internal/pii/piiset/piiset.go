// Package piiset generates a labelled set for measuring PII detection:
// sentences in six languages (en, de, fr, es, nl, it) holding e-mail
// addresses, phone numbers, payment cards, IBANs, IP addresses and
// national identifiers in the formats people write them (with and
// without spaces, dashes and dots), next to decoys that must not be
// found — the same kinds of numbers with a wrong check digit or an
// impossible range, dates, times, prices, versions and order numbers.
//
// Values are built forwards (check digits computed from the body), by
// code independent of the validators in internal/pii, so the set checks
// them rather than restating them. The set is deterministic for a seed.
package piiset

import (
	"fmt"
	"math/big"
	"math/rand/v2"
	"strconv"
	"strings"
)

// Entity is one labelled value: Kind is a pii.Kind name ("EMAIL").
type Entity struct {
	Kind  string `json:"kind"`
	Start int    `json:"start"` // byte offsets
	End   int    `json:"end"`
	Value string `json:"value"`
}

// Example is one sentence and its values.
type Example struct {
	Text     string   `json:"text"`
	Lang     string   `json:"lang"`
	Entities []Entity `json:"entities"`
}

type gen struct{ r *rand.Rand }

// Generate returns n examples for seed.
func Generate(n int, seed uint64) []Example {
	g := gen{rand.New(rand.NewPCG(seed, 42))}
	out := make([]Example, 0, n)
	for i := 0; i < n; i++ {
		out = append(out, g.example())
	}
	return out
}

var langs = []string{"en", "de", "fr", "es", "nl", "it"}

// templates per language: %s slots filled with values; each template has
// one or two slots.
var templates = map[string][]string{
	"en": {"Please contact %s for details.", "My number is %s, call me after 6pm.", "Send the refund to %s by Friday.", "Account holder: John Smith, %s.", "The server at %s stopped answering; see also %s.", "Reference %s was recorded on the form.", "You can reach Mary at %s or %s."},
	"de": {"Bitte überweisen Sie den Betrag auf %s.", "Meine Telefonnummer lautet %s.", "Kontakt: %s (Frau Müller).", "Die Steuer-ID %s steht auf dem Bescheid.", "Rückfragen an %s oder telefonisch unter %s.", "Der Zugriff kam von %s."},
	"fr": {"Veuillez contacter %s pour toute question.", "Mon numéro est le %s.", "Numéro de sécurité sociale : %s.", "Le virement doit être fait sur %s avant lundi.", "Écrivez à %s ou appelez le %s."},
	"es": {"Por favor, escriba a %s.", "Mi DNI es %s y mi teléfono %s.", "Transfiera el importe a %s.", "Llámeme al %s mañana.", "El número de tarjeta %s fue bloqueado."},
	"nl": {"Mijn BSN is %s.", "Bel me op %s of mail %s.", "Maak het bedrag over naar %s.", "Het IP-adres %s is geblokkeerd."},
	"it": {"Il mio codice fiscale è %s.", "Scrivete a %s per informazioni.", "Il bonifico va fatto su %s.", "Chiamami al %s."},
}

// decoyTemplates carry numbers that are not personal data.
var decoyTemplates = []string{
	"The meeting is on %s at %s.", "Invoice total: %s, order %s.", "Upgrade to version %s before %s.",
	"Der Termin ist am %s um %s.", "Le colis %s arrive le %s.", "Pedido %s, importe %s.",
	"Card number %s was rejected as invalid.", "IBAN %s ist ungültig.", "The code %s failed the check.",
}

func (g gen) pick(xs []string) string { return xs[g.r.IntN(len(xs))] }

func (g gen) digits(n int) string {
	var b strings.Builder
	for i := 0; i < n; i++ {
		b.WriteByte(byte('0' + g.r.IntN(10)))
	}
	return b.String()
}

func (g gen) example() Example {
	lang := g.pick(langs)
	if g.r.IntN(4) == 0 { // a sentence of decoys only
		t := g.pick(decoyTemplates)
		n := strings.Count(t, "%s")
		args := make([]any, n)
		for i := range args {
			args[i] = g.decoy()
		}
		return Example{Text: fmt.Sprintf(t, args...), Lang: lang, Entities: []Entity{}}
	}
	t := g.pick(templates[lang])
	parts := strings.Split(t, "%s")
	var b strings.Builder
	ents := []Entity{}
	for i, p := range parts {
		b.WriteString(p)
		if i == len(parts)-1 {
			break
		}
		if g.r.IntN(6) == 0 {
			b.WriteString(g.decoy())
			continue
		}
		kind, v := g.value(lang)
		ents = append(ents, Entity{Kind: kind, Start: b.Len(), End: b.Len() + len(v), Value: v})
		b.WriteString(v)
	}
	return Example{Text: b.String(), Lang: lang, Entities: ents}
}

func (g gen) value(lang string) (string, string) {
	kinds := []string{"EMAIL", "PHONE", "CARD", "IBAN", "IP", "US_SSN", "UK_NINO", "DE_TAX_ID", "FR_NIR", "ES_DNI", "NL_BSN", "IT_CF"}
	k := g.pick(kinds)
	switch k {
	case "EMAIL":
		return k, g.email()
	case "PHONE":
		return k, g.phone(lang)
	case "CARD":
		return k, g.card(true)
	case "IBAN":
		return k, g.iban(true)
	case "IP":
		return k, g.ip()
	case "US_SSN":
		return k, g.ssn(true)
	case "UK_NINO":
		return k, g.nino()
	case "DE_TAX_ID":
		return k, g.detax(true)
	case "FR_NIR":
		return k, g.nir(true)
	case "ES_DNI":
		return k, g.dni(true)
	case "NL_BSN":
		return k, g.bsn(true)
	}
	return k, g.cf(true)
}

// decoy is something that looks like a value and is not one.
func (g gen) decoy() string {
	switch g.r.IntN(14) {
	case 0:
		return g.card(false)
	case 1:
		return g.iban(false)
	case 2:
		return g.ssn(false)
	case 3:
		return g.detax(false)
	case 4:
		return g.nir(false)
	case 5:
		return g.dni(false)
	case 6:
		return g.bsn(false)
	case 7:
		return fmt.Sprintf("%04d-%02d-%02d", 1990+g.r.IntN(40), 1+g.r.IntN(12), 1+g.r.IntN(28))
	case 8:
		return fmt.Sprintf("%02d.%02d.%04d", 1+g.r.IntN(28), 1+g.r.IntN(12), 1990+g.r.IntN(40))
	case 9:
		return fmt.Sprintf("%02d:%02d:%02d", g.r.IntN(24), g.r.IntN(60), g.r.IntN(60))
	case 10:
		return fmt.Sprintf("%d.%03d,%02d €", 1+g.r.IntN(99), g.r.IntN(1000), g.r.IntN(100))
	case 11:
		return fmt.Sprintf("%d.%d.%d", g.r.IntN(10), g.r.IntN(30), g.r.IntN(50))
	case 12:
		return "#" + g.digits(7)
	}
	return g.cf(false)
}

var names = []string{"anna", "john.smith", "m.mueller", "jose_garcia", "li.wei", "sophie+news", "k.van.dijk", "giulia.rossi"}
var domains = []string{"example.com", "beispiel.de", "exemple.fr", "correo.es", "voorbeeld.nl", "esempio.it", "mail.co.uk", "uni-bonn.de"}

func (g gen) email() string {
	n := g.pick(names)
	if g.r.IntN(3) == 0 {
		n += fmt.Sprint(g.r.IntN(100))
	}
	return n + "@" + g.pick(domains)
}

func (g gen) phone(lang string) string {
	switch lang {
	case "de":
		return g.pick([]string{"+49 30 " + g.digits(8), "030 " + g.digits(7), "+49 (0)89 " + g.digits(3) + " " + g.digits(4), "0171-" + g.digits(7)})
	case "fr":
		return g.pick([]string{"+33 1 " + g.groups(4, 2), "01 " + g.groups(4, 2), "06." + strings.ReplaceAll(g.groups(4, 2), " ", ".")})
	case "es":
		return g.pick([]string{"+34 612 " + g.digits(3) + " " + g.digits(3), "912 " + g.digits(3) + " " + g.digits(3)})
	case "nl":
		return g.pick([]string{"+31 6 " + g.digits(8), "06-" + g.digits(8), "020 " + g.digits(3) + " " + g.digits(4)})
	case "it":
		return g.pick([]string{"+39 06 " + g.digits(4) + " " + g.digits(4), "+39 347 " + g.digits(7)})
	}
	return g.pick([]string{"+1 (415) 555-" + g.digits(4), "(212) 555-" + g.digits(4), "415-555-" + g.digits(4), "+44 20 7946 " + g.digits(4), "020 7946 " + g.digits(4)})
}

func (g gen) groups(n, size int) string {
	parts := make([]string, n)
	for i := range parts {
		parts[i] = g.digits(size)
	}
	return strings.Join(parts, " ")
}

// luhnDigit is the check digit that makes body+d pass Luhn.
func luhnDigit(body string) byte {
	sum := 0
	for i := 0; i < len(body); i++ {
		d := int(body[len(body)-1-i] - '0')
		if i%2 == 0 { // these are doubled once the check digit is appended
			d *= 2
			if d > 9 {
				d -= 9
			}
		}
		sum += d
	}
	return byte('0' + (10-sum%10)%10)
}

func (g gen) wrong(c byte) byte { return byte('0' + (int(c-'0')+1+g.r.IntN(9))%10) }

func (g gen) card(valid bool) string {
	var body string
	switch g.r.IntN(4) {
	case 0:
		body = "4" + g.digits(14)
	case 1:
		body = fmt.Sprint(51+g.r.IntN(5)) + g.digits(13)
	case 2:
		body = "37" + g.digits(12)
	default:
		body = "6011" + g.digits(11)
	}
	c := luhnDigit(body)
	if !valid {
		c = g.wrong(c)
	}
	d := body + string(c)
	if len(d) == 15 { // Amex 4-6-5
		if g.r.IntN(2) == 0 {
			return d[:4] + " " + d[4:10] + " " + d[10:]
		}
		return d
	}
	switch g.r.IntN(3) {
	case 0:
		return d
	case 1:
		return d[:4] + " " + d[4:8] + " " + d[8:12] + " " + d[12:]
	}
	return d[:4] + "-" + d[4:8] + "-" + d[8:12] + "-" + d[12:]
}

func mod97(s string) int {
	n := new(big.Int)
	n.SetString(s, 10)
	return int(new(big.Int).Mod(n, big.NewInt(97)).Int64())
}

func (g gen) iban(valid bool) string {
	type c struct {
		cc   string
		bban func() string
	}
	cs := []c{
		{"DE", func() string { return g.digits(18) }},
		{"FR", func() string { return g.digits(10) + g.digits(11) + g.digits(2) }},
		{"GB", func() string { return "NWBK" + g.digits(14) }},
		{"NL", func() string { return "ABNA" + g.digits(10) }},
		{"ES", func() string { return g.digits(20) }},
		{"IT", func() string { return "X" + g.digits(10) + g.digits(12) }},
	}
	ch := cs[g.r.IntN(len(cs))]
	bban := ch.bban()
	var num strings.Builder
	for _, r := range bban + ch.cc + "00" {
		if r >= 'A' && r <= 'Z' {
			num.WriteString(fmt.Sprint(int(r-'A') + 10))
		} else {
			num.WriteRune(r)
		}
	}
	check := 98 - mod97(num.String())
	if !valid {
		check = (check + 1 + g.r.IntN(90)) % 100
		if check < 2 {
			check += 2
		}
	}
	s := fmt.Sprintf("%s%02d%s", ch.cc, check, bban)
	if g.r.IntN(2) == 0 {
		var b strings.Builder
		for i := 0; i < len(s); i += 4 {
			if i > 0 {
				b.WriteByte(' ')
			}
			b.WriteString(s[i:min(i+4, len(s))])
		}
		return b.String()
	}
	return s
}

func (g gen) ip() string {
	if g.r.IntN(3) == 0 {
		parts := make([]string, 8)
		for i := range parts {
			parts[i] = fmt.Sprintf("%x", g.r.IntN(65536))
		}
		if g.r.IntN(2) == 0 {
			return "2001:db8::" + parts[6] + ":" + parts[7]
		}
		return strings.Join(parts, ":")
	}
	return fmt.Sprintf("%d.%d.%d.%d", 1+g.r.IntN(223), g.r.IntN(256), g.r.IntN(256), 1+g.r.IntN(254))
}

func (g gen) ssn(valid bool) string {
	area := 1 + g.r.IntN(899)
	if area == 666 {
		area = 667
	}
	if !valid {
		area = []int{0, 666, 900 + g.r.IntN(100)}[g.r.IntN(3)]
	}
	s := fmt.Sprintf("%03d-%02d-%04d", area, 1+g.r.IntN(99), 1+g.r.IntN(9999))
	if g.r.IntN(3) == 0 {
		s = strings.ReplaceAll(s, "-", " ")
	}
	return s
}

func (g gen) nino() string {
	first := "ABCEGHJKLMNOPRSTWXYZ"
	second := "ABCEGHJKLMNPRSTWXYZ"
	var p string
	for {
		p = string(first[g.r.IntN(len(first))]) + string(second[g.r.IntN(len(second))])
		switch p {
		case "BG", "GB", "NK", "KN", "TN", "NT", "ZZ":
			continue
		}
		break
	}
	d := g.digits(6)
	suf := string("ABCD"[g.r.IntN(4)])
	if g.r.IntN(2) == 0 {
		return p + " " + d[:2] + " " + d[2:4] + " " + d[4:] + " " + suf
	}
	return p + d + suf
}

func (g gen) detax(valid bool) string {
	// ten digits, first not 0, exactly one digit twice: pick 9 distinct
	// digits and repeat one of them
	var d []byte
	for {
		perm := g.r.Perm(10)
		d = d[:0]
		for _, p := range perm[:9] {
			d = append(d, byte('0'+p))
		}
		d = append(d, d[g.r.IntN(9)])
		g.r.Shuffle(10, func(a, b int) { d[a], d[b] = d[b], d[a] })
		if d[0] != '0' {
			break
		}
	}
	p := 10
	for _, c := range d {
		s := (int(c-'0') + p) % 10
		if s == 0 {
			s = 10
		}
		p = 2 * s % 11
	}
	ck := (11 - p) % 10
	c := byte('0' + ck)
	if !valid {
		c = g.wrong(c)
	}
	s := string(d) + string(c)
	if g.r.IntN(2) == 0 {
		return s[:2] + " " + s[2:5] + " " + s[5:8] + " " + s[8:]
	}
	return s
}

func (g gen) nir(valid bool) string {
	body := fmt.Sprintf("%d%02d%02d%02d%03d%03d", 1+g.r.IntN(2), g.r.IntN(100), 1+g.r.IntN(12), 1+g.r.IntN(95), 1+g.r.IntN(999), 1+g.r.IntN(999))
	key := 97 - mod97(body)
	if !valid {
		key = key%97 + 1
	}
	s := fmt.Sprintf("%s%02d", body, key)
	if g.r.IntN(2) == 0 {
		return s[:1] + " " + s[1:3] + " " + s[3:5] + " " + s[5:7] + " " + s[7:10] + " " + s[10:13] + " " + s[13:]
	}
	return s
}

func (g gen) dni(valid bool) string {
	const letters = "TRWAGMYFPDXBNJZSQVHLCKE"
	if g.r.IntN(3) == 0 { // NIE
		pre := g.r.IntN(3)
		num := g.digits(7)
		n, _ := strconv.Atoi(fmt.Sprint(pre) + num)
		l := letters[n%23]
		if !valid {
			l = letters[(n+1+g.r.IntN(21))%23]
		}
		return string("XYZ"[pre]) + num + string(l)
	}
	num := fmt.Sprint(10000000 + g.r.IntN(89999999))
	n, _ := strconv.Atoi(num)
	l := letters[n%23]
	if !valid {
		l = letters[(n+1+g.r.IntN(21))%23]
	}
	if g.r.IntN(2) == 0 {
		return num + "-" + string(l)
	}
	return num + string(l)
}

func (g gen) bsn(valid bool) string {
	for {
		d := "1" + g.digits(7) // leading 1–9: a leading 0 reads as a phone number
		d = string(byte('1'+g.r.IntN(9))) + d[1:]
		sum := 0
		for i := 0; i < 8; i++ {
			sum += (9 - i) * int(d[i]-'0')
		}
		last := sum % 11
		if last == 10 {
			continue
		}
		c := byte('0' + last)
		if !valid {
			c = g.wrong(c)
			if (sum-int(c-'0'))%11 == 0 {
				continue
			}
		}
		s := d + string(c)
		if g.r.IntN(3) == 0 {
			return s[:4] + "." + s[4:6] + "." + s[6:]
		}
		return s
	}
}

var cfOdd = map[byte]int{'0': 1, '1': 0, '2': 5, '3': 7, '4': 9, '5': 13, '6': 15, '7': 17, '8': 19, '9': 21,
	'A': 1, 'B': 0, 'C': 5, 'D': 7, 'E': 9, 'F': 13, 'G': 15, 'H': 17, 'I': 19, 'J': 21, 'K': 2, 'L': 4, 'M': 18,
	'N': 20, 'O': 11, 'P': 3, 'Q': 6, 'R': 8, 'S': 12, 'T': 14, 'U': 16, 'V': 10, 'W': 22, 'X': 25, 'Y': 24, 'Z': 23}

func (g gen) cf(valid bool) string {
	const L = "BCDFGHLMNPRSTVZ"
	var b []byte
	for i := 0; i < 6; i++ {
		b = append(b, L[g.r.IntN(len(L))])
	}
	b = append(b, []byte(fmt.Sprintf("%02d", g.r.IntN(100)))...)
	b = append(b, "ABCDEHLMPRST"[g.r.IntN(12)])
	b = append(b, []byte(fmt.Sprintf("%02d", 1+g.r.IntN(71)))...)
	b = append(b, "ABCDEFGHLMZ"[g.r.IntN(11)])
	b = append(b, []byte(fmt.Sprintf("%03d", 1+g.r.IntN(999)))...)
	sum := 0
	for i, c := range b {
		if i%2 == 0 {
			sum += cfOdd[c]
		} else if c >= '0' && c <= '9' {
			sum += int(c - '0')
		} else {
			sum += int(c - 'A')
		}
	}
	ck := byte('A' + sum%26)
	if !valid {
		ck = byte('A' + (sum+1+g.r.IntN(24))%26)
	}
	return string(append(b, ck))
}
