package pii_test

import (
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/quarry-rag/quarry/internal/pii"
)

func TestScanKinds(t *testing.T) {
	cases := []struct {
		text string
		kind pii.Kind
		want string // "" = nothing found
	}{
		{"mail anna.k@example.org now", pii.Email, "anna.k@example.org"},
		{"Schreiben Sie an jürgen@beispiel.de.", pii.Email, "jürgen@beispiel.de"},
		{"card 4111 1111 1111 1111 ok", pii.Card, "4111 1111 1111 1111"},
		{"card 4111-1111-1111-1111", pii.Card, "4111-1111-1111-1111"},
		{"card 4111111111111112 is invalid", 0, ""},
		{"IBAN DE89 3704 0044 0532 0130 00.", pii.IBAN, "DE89 3704 0044 0532 0130 00"},
		{"IBAN DE88 3704 0044 0532 0130 00 (wrong check)", 0, ""},
		{"GB82WEST12345698765432", pii.IBAN, "GB82WEST12345698765432"},
		{"from 192.168.10.4:", pii.IP, "192.168.10.4"},
		{"from 2001:db8::8a2e:370:7334 today", pii.IP, "2001:db8::8a2e:370:7334"},
		{"version 1.2.3 and 999.1.1.1", 0, ""},
		{"SSN 536-90-4399", pii.USSSN, "536-90-4399"},
		{"SSN 666-90-4399", 0, ""},
		{"NI number QQ 12 34 56 C", 0, ""}, // QQ is not a valid prefix
		{"NI number AB 12 34 56 C", pii.UKNINO, "AB 12 34 56 C"},
		{"Steuer-ID 86 095 742 719", pii.DETaxID, "86 095 742 719"},
		{"Steuer-ID 86 095 742 718", 0, ""},
		{"NIR 1 84 12 76 451 089 46", pii.FRNIR, "1 84 12 76 451 089 46"},
		{"DNI 12345678Z", pii.ESDNI, "12345678Z"},
		{"DNI 12345678A", 0, ""},
		{"NIE X1234567L", pii.ESDNI, "X1234567L"},
		{"BSN 111222333", pii.NLBSN, "111222333"},
		{"BSN 111222334", 0, ""},
		{"CF RSSMRA85T10A562S", pii.ITCF, "RSSMRA85T10A562S"},
		{"CF RSSMRA85T10A562T", 0, ""},
		{"Tel. +49 30 12345678", pii.Phone, "+49 30 12345678"},
		{"call (415) 555-0132", pii.Phone, "(415) 555-0132"},
		{"on 2024-03-15 at 12:30:45", 0, ""},
		{"", 0, ""},
	}
	for _, c := range cases {
		fs := pii.Scan(c.text)
		if c.want == "" {
			if len(fs) != 0 {
				t.Errorf("Scan(%q) = %+v, want nothing", c.text, fs)
			}
			continue
		}
		if len(fs) != 1 || fs[0].Kind != c.kind || fs[0].Value != c.want || c.text[fs[0].Start:fs[0].End] != c.want {
			t.Errorf("Scan(%q) = %+v, want one %v %q", c.text, fs, c.kind, c.want)
		}
	}
}

func TestRedactRestore(t *testing.T) {
	r := pii.NewRedactor(nil)
	src := "Contact anna@example.com or +49 30 12345678; pay to DE89 3704 0044 0532 0130 00. Again: ANNA@example.com."
	red, m := r.Redact(src)
	for _, v := range []string{"anna@example.com", "12345678", "DE89"} {
		if strings.Contains(strings.ToLower(red), strings.ToLower(v)) {
			t.Fatalf("redacted text still holds %q: %s", v, red)
		}
	}
	if !strings.Contains(red, "<EMAIL_1>") || strings.Contains(red, "<EMAIL_2>") || !strings.Contains(red, "<PHONE_1>") || !strings.Contains(red, "<IBAN_1>") {
		t.Fatalf("placeholders: %s", red)
	}
	// The same value in another case gets the same placeholder.
	if strings.Count(red, "<EMAIL_1>") != 2 {
		t.Errorf("want <EMAIL_1> twice: %s", red)
	}
	if got := m.Restore(red); got != strings.Replace(src, "ANNA@example.com", "anna@example.com", 1) {
		t.Errorf("Restore = %q", got)
	}
	// Forms a model echoes.
	for _, echo := range []string{"<EMAIL_1>", "&lt;EMAIL_1&gt;", "[EMAIL_1]", "EMAIL_1", "<email_1>", "{EMAIL_1}", "<EMAIL-1>", "< EMAIL_1 >"} {
		ans := "Write to " + echo + "."
		if got := m.Restore(ans); got != "Write to anna@example.com." {
			t.Errorf("Restore(%q) = %q", ans, got)
		}
	}
	// Unknown placeholders stay.
	if got := m.Restore("see <EMAIL_7> and <CARD_1>"); got != "see <EMAIL_7> and <CARD_1>" {
		t.Errorf("unknown placeholders changed: %q", got)
	}
}

func TestRedactWithSharesPlaceholders(t *testing.T) {
	r := pii.NewRedactor(&pii.Options{Kinds: []pii.Kind{pii.Email}})
	m := pii.NewMap()
	a := r.RedactWith("from bob@example.com, tel +49 30 12345678", m)
	b := r.RedactWith("reply to bob@example.com and eve@example.com", m)
	if a != "from <EMAIL_1>, tel +49 30 12345678" || b != "reply to <EMAIL_1> and <EMAIL_2>" {
		t.Errorf("got %q / %q", a, b)
	}
	if m.Len() != 2 {
		t.Errorf("Len = %d", m.Len())
	}
}

func TestRestorerStreaming(t *testing.T) {
	r := pii.NewRedactor(nil)
	_, m := r.Redact("anna@example.com and 4111 1111 1111 1111")
	answer := "Mail <EMAIL_1>, card [CARD_1]; done <EMAIL_1>"
	want := m.Restore(answer)
	for size := 1; size <= 7; size++ {
		s := m.Restorer()
		var out strings.Builder
		for i := 0; i < len(answer); i += size {
			out.WriteString(s.Write(answer[i:min(i+size, len(answer))]))
		}
		out.WriteString(s.Flush())
		if out.String() != want {
			t.Errorf("pieces of %d: %q, want %q", size, out.String(), want)
		}
	}
	if strings.Contains(want, "EMAIL") || strings.Contains(want, "CARD") {
		t.Errorf("placeholder left in %q", want)
	}
}

func TestScanLongText(t *testing.T) {
	filler := strings.Repeat("lorem ipsum dolor sit amet ", 60000) // > 1 MiB
	text := filler + "anna@example.com " + filler + " DE89 3704 0044 0532 0130 00"
	fs := pii.Scan(text)
	if len(fs) != 2 || fs[0].Kind != pii.Email || fs[1].Kind != pii.IBAN {
		t.Fatalf("got %+v", fs)
	}
	if text[fs[1].Start:fs[1].End] != "DE89 3704 0044 0532 0130 00" {
		t.Errorf("offsets wrong: %q", text[fs[1].Start:fs[1].End])
	}
}

func TestPolicyModes(t *testing.T) {
	for _, s := range []string{"keep", "redact", ""} {
		m, err := pii.ParseMode(s)
		if err != nil {
			t.Fatal(err)
		}
		if s != "" && m.String() != s {
			t.Errorf("%q → %v", s, m)
		}
	}
	if _, err := pii.ParseMode("maybe"); err == nil {
		t.Error("ParseMode(maybe) accepted")
	}
}

func FuzzScanRedact(f *testing.F) {
	f.Add("anna@example.com 4111 1111 1111 1111 DE89 3704 0044 0532 0130 00 <EMAIL_1>")
	f.Add("::1 1.2.3.4 +49 (0)30 1234 5678 X1234567L RSSMRA85T10A562S")
	f.Add("\xff\xfe@\x00.de 2001:db8:: 0000")
	r := pii.NewRedactor(nil)
	f.Fuzz(func(t *testing.T, s string) {
		fs := pii.Scan(s)
		last := 0
		for _, x := range fs {
			if x.Start < last || x.End <= x.Start || x.End > len(s) || s[x.Start:x.End] != x.Value {
				t.Fatalf("bad finding %+v in %q", x, s)
			}
			last = x.End
		}
		red, m := r.Redact(s)
		back := m.Restore(red)
		if utf8.ValidString(s) && len(fs) > 0 && !strings.ContainsAny(s, "<>[]{}&_") && back != s {
			// canonical duplicates (same value, other spelling) restore to
			// the first spelling; only check texts with distinct values
			seen := map[string]bool{}
			dup := false
			for _, x := range fs {
				k := strings.NewReplacer(" ", "", "-", "", ".", "", "\u00a0", "", "\u202f", "", "/", "").Replace(strings.ToLower(x.Value))
				if seen[k] {
					dup = true
				}
				seen[k] = true
			}
			if !dup {
				t.Fatalf("round trip: %q → %q → %q", s, red, back)
			}
		}
	})
}
