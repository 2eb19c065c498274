package pii

import (
	"regexp"
	"strconv"
	"strings"
	"sync"
)

// Options configure NewRedactor. A nil *Options is valid.
type Options struct {
	// Kinds are the kinds to redact. Default: all.
	Kinds []Kind
}

// Redactor replaces personal data with typed placeholders ("<EMAIL_1>").
// It is safe for concurrent use; each request gets its own Map.
type Redactor struct {
	want [numKinds]bool
}

// NewRedactor returns a redactor for the kinds in opts.
func NewRedactor(opts *Options) *Redactor {
	r := &Redactor{}
	if opts == nil || len(opts.Kinds) == 0 {
		for k := Kind(1); k < numKinds; k++ {
			r.want[k] = true
		}
		return r
	}
	for _, k := range opts.Kinds {
		if k > 0 && k < numKinds {
			r.want[k] = true
		}
	}
	return r
}

// Map is one request's placeholders and the values they stand for. The
// same value (compared without separators, e-mail case-folded) gets the
// same placeholder everywhere in the request. A Map is safe for
// concurrent use.
type Map struct {
	mu      sync.Mutex
	byValue map[string]string // kind + canonical value → placeholder
	values  map[string]string // placeholder → original value
	next    [numKinds]int
}

// NewMap returns an empty map, for redacting several texts of one request
// (question and sources) with RedactWith.
func NewMap() *Map {
	return &Map{byValue: map[string]string{}, values: map[string]string{}}
}

// Len is the number of placeholders.
func (m *Map) Len() int {
	m.mu.Lock()
	defer m.mu.Unlock()
	return len(m.values)
}

// Value returns the original value of a placeholder ("<EMAIL_1>").
func (m *Map) Value(placeholder string) (string, bool) {
	m.mu.Lock()
	defer m.mu.Unlock()
	v, ok := m.values[placeholder]
	return v, ok
}

// Redact replaces every finding in text with its placeholder, in a new
// Map.
func (r *Redactor) Redact(text string) (string, *Map) {
	m := NewMap()
	return r.RedactWith(text, m), m
}

// RedactWith redacts text into an existing map, so that the texts of one
// request share placeholders.
func (r *Redactor) RedactWith(text string, m *Map) string {
	fs := scanKinds(text, &r.want)
	if len(fs) == 0 {
		return text
	}
	var b strings.Builder
	b.Grow(len(text))
	last := 0
	m.mu.Lock()
	defer m.mu.Unlock()
	for _, f := range fs {
		b.WriteString(text[last:f.Start])
		b.WriteString(m.placeholderLocked(f))
		last = f.End
	}
	b.WriteString(text[last:])
	return b.String()
}

func (m *Map) placeholderLocked(f Finding) string {
	key := f.Kind.String() + "\x00" + canonical(f)
	if p, ok := m.byValue[key]; ok {
		return p
	}
	m.next[f.Kind]++
	p := "<" + f.Kind.String() + "_" + strconv.Itoa(m.next[f.Kind]) + ">"
	m.byValue[key] = p
	m.values[p] = f.Value
	return p
}

func canonical(f Finding) string {
	if f.Kind == Email {
		return strings.ToLower(f.Value)
	}
	if f.Kind == IP {
		return strings.ToLower(f.Value)
	}
	return compact(f.Value)
}

// placeholderRe matches a placeholder as a model may echo it: in angle
// brackets (also HTML-escaped), square or curly brackets, in another case,
// with a dash or space for the underscore; or bare with its underscore
// ("EMAIL_1"). A bare "EMAIL 1" is ordinary text and is left alone.
var placeholderRe = regexp.MustCompile(`(?i)(?:(?:<|&lt;|\[|\{|\\<)\s?(` + kindAlt + `)[_\- ]([1-9]\d{0,5})\s?(?:>|&gt;|\]|\}|\\>)|\b(` + kindAlt + `)_([1-9]\d{0,5})\b)`)

const kindAlt = `EMAIL|PHONE|CARD|IBAN|IP|US_SSN|UK_NINO|DE_TAX_ID|FR_NIR|ES_DNI|NL_BSN|IT_CF`

// Restore puts the original values back into text (a model's answer),
// wherever a placeholder of this map appears, in any of the forms a model
// tends to echo it. Placeholders the map does not know are left alone.
func (m *Map) Restore(text string) string {
	if m == nil {
		return text
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if len(m.values) == 0 {
		return text
	}
	return placeholderRe.ReplaceAllStringFunc(text, func(s string) string {
		sub := placeholderRe.FindStringSubmatch(s)
		kind, num := sub[1], sub[2]
		if kind == "" {
			kind, num = sub[3], sub[4]
		}
		k, err := ParseKind(strings.NewReplacer("-", "_", " ", "_").Replace(kind))
		if err != nil {
			return s
		}
		if v, ok := m.values["<"+k.String()+"_"+num+">"]; ok {
			return v
		}
		return s
	})
}

// Values lists the original values of the map (for tests that check no
// value leaked).
func (m *Map) Values() []string {
	m.mu.Lock()
	defer m.mu.Unlock()
	out := make([]string, 0, len(m.values))
	for _, v := range m.values {
		out = append(out, v)
	}
	return out
}

// Restorer restores placeholders in a streamed answer: Write takes the
// next piece of text and returns what can be shown (with values
// restored), holding back a tail that may be the start of a placeholder;
// Flush returns the rest. A Restorer belongs to one stream.
type Restorer struct {
	m       *Map
	pending string
}

// Restorer returns a streaming restorer over the map.
func (m *Map) Restorer() *Restorer { return &Restorer{m: m} }

// maxPlaceholder is longer than any placeholder form ("&lt;DE_TAX_ID_999999&gt;").
const maxPlaceholder = 32

// Write adds a piece of the stream and returns the restored text that is
// safe to emit.
func (r *Restorer) Write(piece string) string {
	s := r.pending + piece
	cut := len(s)
	// hold back from the last place a placeholder could start
	if i := strings.LastIndexAny(s, "<[{&\\ \n"); i >= 0 && len(s)-i <= maxPlaceholder {
		cut = i
	} else if len(s) > 0 {
		j := len(s)
		for j > 0 && len(s)-j < maxPlaceholder && isPlaceholderByte(s[j-1]) {
			j--
		}
		cut = j
	}
	// a placeholder cut in two by the hold-back boundary must be whole on
	// one side: move the cut back over a placeholder that ends after it
	for _, loc := range placeholderRe.FindAllStringIndex(s, -1) {
		if loc[0] < cut && loc[1] > cut {
			cut = loc[0]
		}
	}
	out := r.m.Restore(s[:cut])
	r.pending = s[cut:]
	return out
}

// Flush returns the held-back tail, restored.
func (r *Restorer) Flush() string {
	out := r.m.Restore(r.pending)
	r.pending = ""
	return out
}

func isPlaceholderByte(c byte) bool {
	return c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '_' || c == '-'
}
