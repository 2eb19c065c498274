package bm25

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"math"
	"slices"
	"strings"
)

// ErrCorrupt is wrapped by every error Read returns for input that is not
// a well-formed index: bad magic, unknown version, checksum mismatch,
// truncation or inconsistent contents.
var ErrCorrupt = errors.New("bm25: corrupt index")

// The file format is documented byte by byte in docs/format/bm25.md.
const (
	magic         = "QBM25\x00\r\n"
	formatVersion = 1
	headerSize    = 16
	sectionHeader = 16

	secParams = 1
	secDocs   = 2
	secTerms  = 3

	tfUvarint = 0 // every tf is an integer: uvarint
	tfFloat32 = 1 // tf as float32 bits, little-endian

	maxSection = 1 << 40
)

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// WriteTo writes the index in the versioned binary format. Only live
// documents are written, renumbered densely in id order, so Read returns a
// compacted index whose ids are 0..Len()-1; the output is a function of the
// live documents in id order alone (terms are written sorted), so two
// indexes with the same live contents write identical bytes.
func (ix *Index) WriteTo(w io.Writer) (int64, error) {
	remap := make([]uint32, len(ix.keys))
	var params [24]byte
	binary.LittleEndian.PutUint64(params[0:], math.Float64bits(ix.p.K1))
	binary.LittleEndian.PutUint64(params[8:], math.Float64bits(ix.p.B))
	binary.LittleEndian.PutUint64(params[16:], math.Float64bits(ix.p.TitleBoost))

	docs := make([]byte, 0, 16*ix.live+16)
	docs = binary.AppendUvarint(docs, uint64(ix.live))
	var n uint32
	for d, k := range ix.keys {
		if ix.isDead(uint32(d)) {
			remap[d] = NoID
			continue
		}
		remap[d] = n
		n++
		docs = binary.AppendUvarint(docs, uint64(len(k)))
		docs = append(docs, k...)
		docs = binary.AppendUvarint(docs, uint64(ix.lenBody[d]))
		docs = binary.AppendUvarint(docs, uint64(ix.lenTitle[d]))
	}

	var ids []uint32
	var total uint64
	enc := byte(tfUvarint)
	for t := range ix.post {
		if ix.df[t] == 0 {
			continue
		}
		ids = append(ids, uint32(t))
		total += uint64(ix.df[t])
		if enc == tfUvarint {
			for _, tf := range ix.post[t].tfs {
				if tf != float32(uint32(tf)) || tf >= 1<<32 {
					enc = tfFloat32
					break
				}
			}
		}
	}
	slices.SortFunc(ids, func(a, b uint32) int { return strings.Compare(ix.terms[a], ix.terms[b]) })
	terms := make([]byte, 0, 3*total+8*uint64(len(ids))+16)
	terms = append(terms, enc)
	terms = binary.AppendUvarint(terms, uint64(len(ids)))
	terms = binary.AppendUvarint(terms, total)
	for _, t := range ids {
		p := &ix.post[t]
		terms = binary.AppendUvarint(terms, uint64(len(ix.terms[t])))
		terms = append(terms, ix.terms[t]...)
		terms = binary.AppendUvarint(terms, uint64(ix.df[t]))
		prev, first := uint32(0), true
		for _, d := range p.docs {
			if nd := remap[d]; nd != NoID {
				if first {
					terms = binary.AppendUvarint(terms, uint64(nd))
				} else {
					terms = binary.AppendUvarint(terms, uint64(nd-prev))
				}
				prev, first = nd, false
			}
		}
		for i, d := range p.docs {
			if remap[d] == NoID {
				continue
			}
			if enc == tfUvarint {
				terms = binary.AppendUvarint(terms, uint64(p.tfs[i]))
			} else {
				terms = binary.LittleEndian.AppendUint32(terms, math.Float32bits(p.tfs[i]))
			}
		}
	}

	var hdr [headerSize]byte
	copy(hdr[:], magic)
	binary.LittleEndian.PutUint32(hdr[8:], formatVersion)
	binary.LittleEndian.PutUint32(hdr[12:], 3)
	var written int64
	write := func(b []byte) error {
		m, err := w.Write(b)
		written += int64(m)
		return err
	}
	if err := write(hdr[:]); err != nil {
		return written, fmt.Errorf("bm25: write: %w", err)
	}
	for i, sec := range [][]byte{params[:], docs, terms} {
		var sh [sectionHeader]byte
		binary.LittleEndian.PutUint32(sh[0:], uint32(i+1))
		binary.LittleEndian.PutUint64(sh[4:], uint64(len(sec)))
		binary.LittleEndian.PutUint32(sh[12:], crc32.Checksum(sec, castagnoli))
		if err := write(sh[:]); err != nil {
			return written, fmt.Errorf("bm25: write: %w", err)
		}
		if err := write(sec); err != nil {
			return written, fmt.Errorf("bm25: write: %w", err)
		}
	}
	return written, nil
}

// Read reads an index written by WriteTo. It reads exactly the index's
// bytes from r. Malformed input yields an error wrapping ErrCorrupt; an
// error from r itself (other than a premature EOF) is returned wrapped as
// is. Read does no indexing work: it decodes the posting lists and
// rebuilds the block summaries in one pass.
func Read(r io.Reader) (*Index, error) {
	var hdr [headerSize]byte
	if _, err := io.ReadFull(r, hdr[:]); err != nil {
		return nil, readErr("header", err)
	}
	if string(hdr[:8]) != magic {
		return nil, fmt.Errorf("%w: bad magic", ErrCorrupt)
	}
	if v := binary.LittleEndian.Uint32(hdr[8:]); v != formatVersion {
		return nil, fmt.Errorf("%w: unsupported version %d", ErrCorrupt, v)
	}
	if c := binary.LittleEndian.Uint32(hdr[12:]); c != 3 {
		return nil, fmt.Errorf("%w: %d sections, want 3", ErrCorrupt, c)
	}
	var secs [3][]byte
	for i := range secs {
		var sh [sectionHeader]byte
		if _, err := io.ReadFull(r, sh[:]); err != nil {
			return nil, readErr(fmt.Sprintf("section %d header", i+1), err)
		}
		if id := binary.LittleEndian.Uint32(sh[0:]); id != uint32(i+1) {
			return nil, fmt.Errorf("%w: section %d has id %d", ErrCorrupt, i+1, id)
		}
		n := binary.LittleEndian.Uint64(sh[4:])
		if n > maxSection {
			return nil, fmt.Errorf("%w: section %d length %d", ErrCorrupt, i+1, n)
		}
		b, err := readN(r, int(n))
		if err != nil {
			return nil, readErr(fmt.Sprintf("section %d", i+1), err)
		}
		if crc32.Checksum(b, castagnoli) != binary.LittleEndian.Uint32(sh[12:]) {
			return nil, fmt.Errorf("%w: section %d checksum mismatch", ErrCorrupt, i+1)
		}
		secs[i] = b
	}
	ix, err := decode(secs[0], secs[1], secs[2])
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrCorrupt, err)
	}
	return ix, nil
}

func readErr(what string, err error) error {
	if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
		return fmt.Errorf("%w: %s truncated", ErrCorrupt, what)
	}
	return fmt.Errorf("bm25: read %s: %w", what, err)
}

// readN reads exactly n bytes without trusting n for the allocation: a
// corrupt length must not allocate more than the input actually holds.
func readN(r io.Reader, n int) ([]byte, error) {
	if l, ok := r.(interface{ Len() int }); ok && l.Len() < n {
		return nil, io.ErrUnexpectedEOF
	}
	const chunk = 1 << 20
	if n <= chunk {
		b := make([]byte, n)
		_, err := io.ReadFull(r, b)
		return b, err
	}
	var buf bytes.Buffer
	if _, ok := r.(interface{ Len() int }); ok {
		buf.Grow(n)
	}
	m, err := io.CopyN(&buf, r, int64(n))
	if m < int64(n) && err == io.EOF {
		err = io.ErrUnexpectedEOF
	}
	return buf.Bytes(), err
}

// dec decodes a section payload; the first error sticks.
type dec struct {
	b   []byte
	off int
	err error
}

func (d *dec) fail(format string, args ...any) {
	if d.err == nil {
		d.err = fmt.Errorf(format, args...)
	}
}

func (d *dec) uvarint() uint64 {
	if d.off < len(d.b) && d.b[d.off] < 0x80 {
		v := uint64(d.b[d.off])
		d.off++
		return v
	}
	v, n := binary.Uvarint(d.b[min(d.off, len(d.b)):])
	if n <= 0 {
		d.fail("bad or truncated varint at offset %d", d.off)
		d.off = len(d.b)
		return 0
	}
	d.off += n
	return v
}

// bytes returns the next n bytes, or nil after recording an error.
func (d *dec) bytes(n uint64) []byte {
	if n > uint64(len(d.b)-d.off) {
		d.fail("length %d past end at offset %d", n, d.off)
		d.off = len(d.b)
		return nil
	}
	b := d.b[d.off : d.off+int(n)]
	d.off += int(n)
	return b
}

func (d *dec) left() int { return len(d.b) - d.off }

func decode(params, docs, terms []byte) (*Index, error) {
	if len(params) != 24 {
		return nil, fmt.Errorf("params section has %d bytes, want 24", len(params))
	}
	p := Params{
		K1:         math.Float64frombits(binary.LittleEndian.Uint64(params[0:])),
		B:          math.Float64frombits(binary.LittleEndian.Uint64(params[8:])),
		TitleBoost: math.Float64frombits(binary.LittleEndian.Uint64(params[16:])),
	}
	if err := p.Validate(); err != nil {
		return nil, err
	}
	ix := New(p)

	// Documents. Keys share one backing string.
	dd := &dec{b: docs}
	n := dd.uvarint()
	if n > uint64(dd.left()/4) || n >= NoID { // a document takes ≥ 4 bytes
		return nil, fmt.Errorf("document count %d too large", n)
	}
	keyEnd := make([]int, n)
	keyBuf := make([]byte, 0, dd.left())
	ix.lenBody = make([]uint32, n)
	ix.lenTitle = make([]uint32, n)
	for i := range n {
		kl := dd.uvarint()
		if kl == 0 && dd.err == nil {
			dd.fail("document %d has an empty key", i)
		}
		keyBuf = append(keyBuf, dd.bytes(kl)...)
		keyEnd[i] = len(keyBuf)
		lb, lt := dd.uvarint(), dd.uvarint()
		if (lb > math.MaxUint32 || lt > math.MaxUint32) && dd.err == nil {
			dd.fail("document %d length out of range", i)
		}
		if dd.err != nil {
			return nil, fmt.Errorf("docs: %w", dd.err)
		}
		ix.lenBody[i], ix.lenTitle[i] = uint32(lb), uint32(lt)
	}
	if dd.left() != 0 {
		return nil, fmt.Errorf("docs: %d trailing bytes", dd.left())
	}
	allKeys := string(keyBuf)
	ix.keys = make([]string, n)
	ix.byKey = newKeyTable(int(n))
	ix.dl = make([]float32, n)
	prev := 0
	for i := range n {
		k := allKeys[prev:keyEnd[i]]
		prev = keyEnd[i]
		if _, dup := ix.byKey.get(ix.keys, k); dup {
			return nil, fmt.Errorf("docs: duplicate key %q", k)
		}
		ix.keys[i] = k
		ix.byKey.insert(ix.keys, uint32(i))
		ix.dl[i] = combine(ix.lenBody[i], ix.lenTitle[i], p.TitleBoost)
		ix.sumBody += uint64(ix.lenBody[i])
		ix.sumTitle += uint64(ix.lenTitle[i])
	}
	ix.live = int(n)
	ix.dead = make([]uint64, (n+63)/64)

	// Terms and postings, into shared arenas.
	td := &dec{b: terms}
	if td.left() < 1 {
		return nil, errors.New("terms: empty section")
	}
	enc := terms[0]
	td.off = 1
	if enc != tfUvarint && enc != tfFloat32 {
		return nil, fmt.Errorf("terms: unknown tf encoding %d", enc)
	}
	nt, total := td.uvarint(), td.uvarint()
	if td.err != nil || nt > uint64(td.left()/2) || total > uint64(td.left()/2) || nt > NoID {
		return nil, fmt.Errorf("terms: counts %d, %d too large", nt, total)
	}
	docArena := make([]uint32, total)
	tfArena := make([]float32, total)
	blocks := make([]block, 0, total/blockSize+nt)
	termEnd := make([]int, nt)
	termBuf := make([]byte, 0, td.left())
	ix.post = make([]postings, nt)
	ix.df = make([]uint32, nt)
	sumTf := make([]float64, n)
	var used uint64
	var last []byte
	for t := range nt {
		tb := td.bytes(td.uvarint())
		if td.err == nil && t > 0 && bytes.Compare(tb, last) <= 0 {
			td.fail("term %d %q not after %q", t, tb, last)
		}
		last = tb
		termBuf = append(termBuf, tb...)
		termEnd[t] = len(termBuf)
		df := td.uvarint()
		if td.err == nil && (df == 0 || df > n || df > total-used) {
			td.fail("term %d: df %d out of range", t, df)
		}
		if td.err != nil {
			return nil, fmt.Errorf("terms: %w", td.err)
		}
		pd := docArena[used : used+df : used+df]
		pt := tfArena[used : used+df : used+df]
		used += df
		var d uint64
		for i := range pd {
			g := td.uvarint()
			if i > 0 {
				if g == 0 {
					td.fail("term %d: zero doc gap", t)
				}
				g += d
			}
			if g >= n {
				td.fail("term %d: doc id %d out of range", t, g)
			}
			if td.err != nil {
				return nil, fmt.Errorf("terms: %w", td.err)
			}
			d = g
			pd[i] = uint32(d)
		}
		for i := range pt {
			var tf float32
			if enc == tfUvarint {
				v := td.uvarint()
				if v > math.MaxUint32 {
					td.fail("term %d: tf %d out of range", t, v)
				}
				tf = float32(v)
			} else if b := td.bytes(4); b != nil {
				tf = math.Float32frombits(binary.LittleEndian.Uint32(b))
			}
			if td.err == nil && (!(tf > 0) || math.IsInf(float64(tf), 0)) {
				td.fail("term %d: tf %v out of range", t, tf)
			}
			if td.err != nil {
				return nil, fmt.Errorf("terms: %w", td.err)
			}
			pt[i] = tf
			sumTf[pd[i]] += float64(tf)
		}
		ix.post[t] = postings{docs: pd, tfs: pt}
		b0 := len(blocks)
		blocks = ix.post[t].buildBlocks(blocks, ix.dl)
		ix.post[t].blocks = blocks[b0:len(blocks):len(blocks)]
		ix.df[t] = uint32(df)
	}
	if td.left() != 0 || used != total {
		return nil, fmt.Errorf("terms: %d trailing bytes, %d of %d postings", td.left(), used, total)
	}
	// Every token is counted in exactly one posting, so a document's term
	// frequencies add up to its length.
	for d := range sumTf {
		if dl := float64(ix.dl[d]); math.Abs(sumTf[d]-dl) > 1e-4*(dl+1) {
			return nil, fmt.Errorf("document %d: term frequencies sum to %v, length is %v", d, sumTf[d], dl)
		}
	}
	allTerms := string(termBuf)
	ix.terms = make([]string, nt)
	ix.termIDs = make(map[string]uint32, nt)
	prev = 0
	for t := range nt {
		s := allTerms[prev:termEnd[t]]
		prev = termEnd[t]
		ix.terms[t] = s
		ix.termIDs[s] = uint32(t)
	}
	ix.cntBody, ix.cntTitle = make([]uint32, nt), make([]uint32, nt)
	ix.fwd, ix.fwdStart, ix.fwdOK = nil, nil, false
	return ix, nil
}
