package generate

import (
	"sort"
	"strconv"
	"strings"
	"unicode/utf8"
)

// maxMarker bounds how much text a Filter holds back while it decides
// whether "[" starts a citation marker.
const maxMarker = 32

// Filter rewrites a streamed answer as it arrives: it drops leading white
// space, and it rewrites every citation marker — "[n]", "[n, m]", "[n; m]"
// (and so "[n][m]", two markers) — keeping only the numbers in valid. A
// marker left with no valid number is removed together with the white
// space before it. The concatenation of everything Push and Flush return is
// the final answer text.
type Filter struct {
	valid   map[int]bool
	started bool            // a non-space character was emitted
	space   strings.Builder // white space held back (it may precede a removed marker)
	marker  strings.Builder // a possible marker being read, from its "["
	invalid map[int]bool
	kept    int
}

// NewFilter returns a Filter that keeps the markers in valid.
func NewFilter(valid map[int]bool) *Filter {
	return &Filter{valid: valid, invalid: map[int]bool{}}
}

// Push consumes the next piece of the stream and returns the text that can
// be emitted now.
func (f *Filter) Push(s string) string {
	var out strings.Builder
	for _, r := range s {
		f.push(&out, r)
	}
	return out.String()
}

func (f *Filter) push(out *strings.Builder, r rune) {
	if f.marker.Len() > 0 {
		switch {
		case r == ']':
			f.marker.WriteRune(r)
			f.closeMarker(out)
			return
		case r >= '0' && r <= '9', r == ',', r == ';', r == ' ':
			f.marker.WriteRune(r)
			if f.marker.Len() <= maxMarker {
				return
			}
		}
		// Not a marker: it was literal text.
		lit := f.marker.String()
		f.marker.Reset()
		f.emit(out, lit)
		if r == ']' || (r >= '0' && r <= '9') || r == ',' || r == ';' || r == ' ' {
			f.emit(out, string(r))
			return
		}
	}
	switch {
	case r == '[':
		f.marker.WriteRune(r)
	case r == ' ' || r == '\t' || r == '\n' || r == '\r':
		if f.started {
			f.space.WriteRune(r)
		}
	default:
		f.emit(out, string(r))
	}
}

// emit writes held-back space and then s.
func (f *Filter) emit(out *strings.Builder, s string) {
	if s == "" {
		return
	}
	out.WriteString(f.space.String())
	f.space.Reset()
	out.WriteString(s)
	f.started = true
}

func (f *Filter) closeMarker(out *strings.Builder) {
	raw := f.marker.String()
	f.marker.Reset()
	nums := parseMarker(raw)
	if nums == nil {
		f.emit(out, raw)
		return
	}
	var keep []string
	seen := map[int]bool{}
	for _, n := range nums {
		if !f.valid[n] {
			f.invalid[n] = true
			continue
		}
		if !seen[n] {
			seen[n] = true
			keep = append(keep, strconv.Itoa(n))
		}
	}
	if len(keep) == 0 {
		f.space.Reset() // the removed marker takes its leading space with it
		return
	}
	f.kept += len(keep)
	f.emit(out, "["+strings.Join(keep, ", ")+"]")
}

// parseMarker returns the numbers of "[1, 2]", or nil when raw holds no
// number or a malformed list.
func parseMarker(raw string) []int {
	inner := strings.TrimSuffix(strings.TrimPrefix(raw, "["), "]")
	var nums []int
	for _, part := range strings.FieldsFunc(inner, func(r rune) bool { return r == ',' || r == ';' }) {
		p := strings.TrimSpace(part)
		if p == "" || strings.Contains(p, " ") {
			return nil
		}
		n, err := strconv.Atoi(p)
		if err != nil || len(p) > 6 {
			return nil
		}
		nums = append(nums, n)
	}
	return nums
}

// Flush returns the text still held back at the end of the stream (an
// unclosed "[..." is literal text; trailing white space is dropped).
func (f *Filter) Flush() string {
	var out strings.Builder
	if f.marker.Len() > 0 {
		lit := f.marker.String()
		f.marker.Reset()
		f.emit(&out, lit)
	}
	f.space.Reset()
	return out.String()
}

// Invalid returns the sorted marker numbers that pointed at no block.
func (f *Filter) Invalid() []int {
	out := make([]int, 0, len(f.invalid))
	for n := range f.invalid {
		out = append(out, n)
	}
	sort.Ints(out)
	return out
}

// Kept reports how many valid marker numbers the answer holds so far.
func (f *Filter) Kept() int { return f.kept }

// Apply filters a whole answer at once; see Filter.
func Apply(answer string, valid map[int]bool) (text string, invalid []int) {
	f := NewFilter(valid)
	text = f.Push(answer) + f.Flush()
	if !utf8.ValidString(text) {
		text = strings.ToValidUTF8(text, "\uFFFD")
	}
	return text, f.Invalid()
}
