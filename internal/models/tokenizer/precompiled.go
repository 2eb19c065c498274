package tokenizer

import (
	"encoding/binary"
	"fmt"
	"unicode/utf8"

	"github.com/clipperhouse/uax29/v2/graphemes"
)

// charsmap is SentencePiece's precompiled normalization map: a darts-clone
// double-array trie whose values index NUL-terminated replacement strings.
//
// Layout (little-endian): u32 trie size in bytes, the trie units (u32 each),
// then the concatenated NUL-terminated replacement strings.
type charsmap struct {
	units []uint32
	repl  []byte
}

func parseCharsmap(b []byte) (*charsmap, error) {
	if len(b) < 4 {
		return nil, fmt.Errorf("precompiled charsmap: %d bytes, want at least 4", len(b))
	}
	size := binary.LittleEndian.Uint32(b)
	if size%4 != 0 || uint64(size) > uint64(len(b)-4) || size == 0 {
		return nil, fmt.Errorf("precompiled charsmap: trie size %d does not fit %d bytes", size, len(b))
	}
	units := make([]uint32, size/4)
	for i := range units {
		units[i] = binary.LittleEndian.Uint32(b[4+4*i:])
	}
	return &charsmap{units: units, repl: b[4+size:]}, nil
}

func unitHasLeaf(u uint32) bool  { return (u>>8)&1 == 1 }
func unitValue(u uint32) uint32  { return u & (1<<31 - 1) }
func unitLabel(u uint32) uint32  { return u & (1<<31 | 0xFF) }
func unitOffset(u uint32) uint32 { return (u >> 10) << ((u & (1 << 9)) >> 6) }

// firstMatch returns the replacement of the shortest key that is a prefix of
// key (the reference uses the first common-prefix-search result), and whether
// there is one.
func (m *charsmap) firstMatch(key []byte) ([]byte, bool) {
	if len(m.units) == 0 {
		return nil, false
	}
	pos := unitOffset(m.units[0])
	for _, c := range key {
		if c == 0 {
			break
		}
		pos ^= uint32(c)
		if int(pos) >= len(m.units) {
			return nil, false
		}
		u := m.units[pos]
		if unitLabel(u) != uint32(c) {
			return nil, false
		}
		pos ^= unitOffset(u)
		if int(pos) >= len(m.units) {
			return nil, false
		}
		if unitHasLeaf(u) {
			v := int(unitValue(m.units[pos]))
			if v >= len(m.repl) {
				return nil, false
			}
			end := v
			for end < len(m.repl) && m.repl[end] != 0 {
				end++
			}
			return m.repl[v:end], true
		}
	}
	return nil, false
}

// precompiledNormalizer applies a charsmap the way the reference does: per
// extended grapheme cluster when the cluster is shorter than 6 bytes and has
// a match, otherwise per rune.
type precompiledNormalizer struct {
	m *charsmap
}

func (p *precompiledNormalizer) normalize(n *normalized, t *transformer) {
	t.edits = t.edits[:0]
	modified := false
	it := graphemes.FromBytes(n.s)
	for it.Next() {
		cluster := it.Value()
		if len(cluster) < 6 {
			if rep, ok := p.m.firstMatch(cluster); ok {
				modified = true
				t.pushReplacement(cluster, rep)
				continue
			}
		}
		for j := 0; j < len(cluster); {
			r, sz := utf8.DecodeRune(cluster[j:])
			part := cluster[j : j+sz]
			j += sz
			if rep, ok := p.m.firstMatch(part); ok {
				modified = true
				t.pushReplacement(part, rep)
			} else {
				t.edits = append(t.edits, edit{r, 0})
			}
		}
	}
	if modified {
		t.applyAll(n, 0)
	}
}

// pushReplacement appends the edits replacing old by rep the way the
// reference does: every new rune replaces (0); when rep is longer, its last
// extra runes are insertions (1); when shorter, the last edit so far (possibly
// of an earlier rune, and none at all at the very start) absorbs the removals.
func (t *transformer) pushReplacement(old, rep []byte) {
	diff := utf8.RuneCount(rep) - utf8.RuneCount(old)
	for len(rep) > 0 {
		r, sz := utf8.DecodeRune(rep)
		rep = rep[sz:]
		t.edits = append(t.edits, edit{r, 0})
	}
	switch {
	case diff > 0:
		for i := len(t.edits) - 1; i >= 0 && diff > 0; i-- {
			t.edits[i].change = 1
			diff--
		}
	case diff < 0:
		if len(t.edits) > 0 {
			t.edits[len(t.edits)-1].change += int32(diff)
		}
	}
}
