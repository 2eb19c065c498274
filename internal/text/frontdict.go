package text

import (
	"encoding/binary"
	"math"
	"slices"
	"strings"
	"unsafe"
)

// frontDict is a sorted word list without duplicates, front-coded in
// blocks of dictBlock words: a block starts with a whole word (its length
// as a uvarint, then its bytes), and each later word is the length of the
// prefix it shares with the word before it and the length of the rest
// (uvarints), then the rest. blocks holds each block's offset in blob. The
// German noun list of the decompounder, 252,000 words of 3.1 MB, takes
// 1.4 MB this way (4.1 MB as a wordDict, 7.4 MB as one string per word). A
// search binary-searches the blocks' first words and decodes one block:
// slower than a wordDict's lookup, which the Thai and Lao segmenter calls
// for every stretch of a run, but a decompounded word is looked up once
// (the analyzer caches word results).
type frontDict struct {
	blob   string
	blocks []uint32
	n      int // words
	maxLen int // longest word in bytes
}

// dictBlock is the number of words per front-coded block.
const dictBlock = 16

// loadFrontDict reads an embedded word list as loadDict does.
func loadFrontDict(name string) *frontDict {
	return parseFrontDict(readWordList(name))
}

// parseFrontDict front-codes a word list, one word a line.
func parseFrontDict(all []byte) *frontDict {
	var b dictBuilder
	b.blob = make([]byte, 0, len(all)/2)
	if !sortedWords(all, b.add) {
		b = dictBuilder{}
		words := dictWords(all)
		slices.Sort(words)
		for _, w := range slices.Compact(words) {
			b.add(w)
		}
	}
	return b.finish()
}

// dictBuilder front-codes words given in increasing order.
type dictBuilder struct {
	blob   []byte
	blocks []uint32
	prev   string
	n      int
	maxLen int
}

func (b *dictBuilder) add(w string) {
	if len(b.blob)+len(w)+2*binary.MaxVarintLen64 > math.MaxUint32 {
		panic("text: word list over 4 GiB")
	}
	if b.n%dictBlock == 0 {
		b.blocks = append(b.blocks, uint32(len(b.blob)))
		b.blob = binary.AppendUvarint(b.blob, uint64(len(w)))
		b.blob = append(b.blob, w...)
	} else {
		k := 0
		for k < len(w) && k < len(b.prev) && w[k] == b.prev[k] {
			k++
		}
		b.blob = binary.AppendUvarint(b.blob, uint64(k))
		b.blob = binary.AppendUvarint(b.blob, uint64(len(w)-k))
		b.blob = append(b.blob, w[k:]...)
	}
	b.prev = w
	b.n++
	b.maxLen = max(b.maxLen, len(w))
}

func (b *dictBuilder) finish() *frontDict {
	return &frontDict{blob: string(b.blob), blocks: slices.Clip(b.blocks), n: b.n, maxLen: b.maxLen}
}

// len returns the number of words.
func (d *frontDict) len() int { return d.n }

// head returns the first word of block k.
func (d *frontDict) head(k int) string {
	off := int(d.blocks[k])
	l, m := uvarintAt(d.blob, off)
	return d.blob[off+m : off+m+int(l)]
}

// words calls yield with each word in order.
func (d *frontDict) words(yield func(string) bool) {
	for k := range d.blocks {
		if !d.scanBlock(k, func(_ int, w []byte) bool { return yield(string(w)) }) {
			return
		}
	}
}

// scanBlock decodes block k, calling visit with each word's index and
// bytes (valid only during the call) until visit returns false; it
// reports whether it reached the block's end.
func (d *frontDict) scanBlock(k int, visit func(i int, w []byte) bool) bool {
	var arr [128]byte
	buf := arr[:0]
	off := int(d.blocks[k])
	end := len(d.blob)
	if k+1 < len(d.blocks) {
		end = int(d.blocks[k+1])
	}
	for i := k * dictBlock; off < end; i++ {
		if i > k*dictBlock {
			shared, m := uvarintAt(d.blob, off)
			off += m
			buf = buf[:shared]
		}
		l, m := uvarintAt(d.blob, off)
		off += m
		buf = append(buf, d.blob[off:off+int(l)]...)
		off += int(l)
		if !visit(i, buf) {
			return false
		}
	}
	return true
}

// uvarintAt decodes the uvarint at s[off:] (written by dictBuilder) and
// returns it and its length.
func uvarintAt(s string, off int) (uint64, int) {
	var x uint64
	for i, sh := off, uint(0); ; i, sh = i+1, sh+7 {
		c := s[i]
		if c < 0x80 {
			return x | uint64(c)<<sh, i + 1 - off
		}
		x |= uint64(c&0x7f) << sh
	}
}

// first returns the index of the first word that is >= s (prefixEnd
// false), or that is >= s and does not start with s (prefixEnd true): the
// end of the run of words starting with s. It returns d.len() when there
// is none. Both conditions hold of a tail of the sorted list.
func (d *frontDict) first(s string, prefixEnd bool) (idx int, equal bool) {
	after := func(w string) bool {
		return w >= s && !(prefixEnd && strings.HasPrefix(w, s))
	}
	// The last block whose first word is not after s holds the answer, or
	// the answer is the next block's first word.
	lo, hi := 0, len(d.blocks)
	for lo < hi {
		m := int(uint(lo+hi) >> 1)
		if after(d.head(m)) {
			hi = m
		} else {
			lo = m + 1
		}
	}
	if lo == 0 {
		return 0, d.n > 0 && d.head(0) == s
	}
	idx = min(lo*dictBlock, d.n)
	equal = lo < len(d.blocks) && d.head(lo) == s
	d.scanBlock(lo-1, func(i int, w []byte) bool {
		ws := unsafe.String(unsafe.SliceData(w), len(w))
		if after(ws) {
			idx, equal = i, ws == s
			return false
		}
		return true
	})
	return idx, equal
}

// lookup reports whether s is a word and whether it is a proper prefix of
// one.
func (d *frontDict) lookup(s string) (word, prefix bool) {
	i, word := d.first(s, false)
	j, _ := d.first(s, true)
	n := j - i
	if word {
		n--
	}
	return word, n > 0
}

// narrow returns the range [lo', hi') of the words in [lo, hi) that start
// with p, where every word in [lo, hi) starts with all of p but its last
// rune; and whether p is a word and a proper prefix of one. The list is
// sorted, so the range is the whole list's range for p clipped to [lo, hi).
func (d *frontDict) narrow(lo, hi int, p string) (int, int, bool, bool) {
	a, word := d.first(p, false)
	b, _ := d.first(p, true)
	if a < lo {
		a, word = lo, false
	}
	a, b = min(a, hi), min(max(b, lo), hi)
	word = word && a < b
	prefix := b-a > 1 || b-a == 1 && !word
	return a, b, word, prefix
}
