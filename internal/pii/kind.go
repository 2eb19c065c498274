package pii

import (
	"fmt"
	"strings"
)

// Kind is a type of personal data. The zero Kind is invalid.
type Kind uint8

const (
	Email Kind = iota + 1
	Phone
	Card   // payment card number (Luhn)
	IBAN   // international bank account number (ISO 7064 mod 97-10)
	IP     // IPv4 or IPv6 address
	USSSN  // US social security number (area/group/serial rules)
	UKNINO // UK national insurance number (format and prefix rules)
	DETaxID
	FRNIR // French social security number (key mod 97)
	ESDNI // Spanish DNI or NIE (check letter mod 23)
	NLBSN // Dutch citizen service number (11-test)
	ITCF  // Italian codice fiscale (check character)
	numKinds
)

var kindNames = [numKinds]string{
	Email: "EMAIL", Phone: "PHONE", Card: "CARD", IBAN: "IBAN", IP: "IP",
	USSSN: "US_SSN", UKNINO: "UK_NINO", DETaxID: "DE_TAX_ID", FRNIR: "FR_NIR",
	ESDNI: "ES_DNI", NLBSN: "NL_BSN", ITCF: "IT_CF",
}

// String is the kind's placeholder name: "EMAIL", "US_SSN", ...
func (k Kind) String() string {
	if k > 0 && k < numKinds {
		return kindNames[k]
	}
	return fmt.Sprintf("Kind(%d)", uint8(k))
}

// ParseKind reads a kind name as String writes it (case-insensitive).
func ParseKind(s string) (Kind, error) {
	for k := Kind(1); k < numKinds; k++ {
		if strings.EqualFold(s, kindNames[k]) {
			return k, nil
		}
	}
	return 0, fmt.Errorf("pii: unknown kind %q", s)
}

// Kinds lists every kind, in order.
func Kinds() []Kind {
	out := make([]Kind, 0, numKinds-1)
	for k := Kind(1); k < numKinds; k++ {
		out = append(out, k)
	}
	return out
}

// Mode says what happens to personal data at one boundary.
type Mode uint8

const (
	// Keep leaves values as they are (the default).
	Keep Mode = iota
	// Redact replaces values with typed placeholders.
	Redact
)

func (m Mode) String() string {
	switch m {
	case Keep:
		return "keep"
	case Redact:
		return "redact"
	}
	return fmt.Sprintf("Mode(%d)", uint8(m))
}

// ParseMode reads "keep" or "redact" ("" is keep).
func ParseMode(s string) (Mode, error) {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "", "keep":
		return Keep, nil
	case "redact":
		return Redact, nil
	}
	return 0, fmt.Errorf("pii: mode %q (want keep or redact)", s)
}

// MarshalText implements encoding.TextMarshaler.
func (m Mode) MarshalText() ([]byte, error) { return []byte(m.String()), nil }

// UnmarshalText implements encoding.TextUnmarshaler.
func (m *Mode) UnmarshalText(b []byte) error {
	v, err := ParseMode(string(b))
	if err != nil {
		return err
	}
	*m = v
	return nil
}

// Policy is a collection's PII policy: Index decides whether values are
// stored (and searchable) as they are, LLM whether they may leave for a
// language model. The zero Policy keeps everything.
type Policy struct {
	Index Mode `json:"index"`
	LLM   Mode `json:"llm"`
}
