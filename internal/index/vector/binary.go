package vector

import (
	"encoding/binary"
	"fmt"
	"io"
	"math"
	"sync"

	"github.com/quarry-rag/quarry/internal/kernels"
)

// BinaryConfig configures a Binary index. Zero fields take the documented
// defaults in NewBinary.
type BinaryConfig struct {
	Dim int // required, 1..65536
	// Metric is Dot (default) or Cosine. L2 is rejected: sign codes carry
	// no norms.
	Metric Metric
	// Rescore is how many of the nearest codes are rescored at full
	// precision when a search sets no effort: default max(10k, 100) for a
	// search of k. Negative: never rescore, whatever the effort (scores are
	// then the SimHash estimate cos(π·h/dim) of the Hamming distance h, and
	// only their order means much); so is an index with no float32 source.
	Rescore int
	// Full serves the float32 vectors for rescoring. When nil the index
	// keeps its own float32 copy of every vector (and Stats says so). Not
	// persisted: set it again after ReadBinary with SetFull.
	Full FullFunc
	// CentreAfter is how many vectors the index sees before it fixes the
	// centre it subtracts before taking signs (their mean) and re-encodes
	// the codes it has: default 1024; negative: never centre (signs of the
	// raw components).
	CentreAfter int
}

// Validate reports a config that NewBinary would reject.
func (c BinaryConfig) Validate() error {
	switch {
	case c.Dim < 1 || c.Dim > maxDim:
		return fmt.Errorf("%w: Dim %d out of range 1..%d", ErrConfig, c.Dim, maxDim)
	case c.Metric != Dot && c.Metric != Cosine:
		return fmt.Errorf("%w: binary codes need the Dot or Cosine metric, got %v", ErrConfig, c.Metric)
	case c.Rescore > maxEf*4:
		return fmt.Errorf("%w: Rescore %d out of range ..%d", ErrConfig, c.Rescore, maxEf*4)
	case c.CentreAfter > 1<<20:
		return fmt.Errorf("%w: CentreAfter %d out of range ..%d", ErrConfig, c.CentreAfter, 1<<20)
	}
	return nil
}

// Binary is an exact scan over one-bit codes with full-precision
// rescoring: bit j of a vector's code is set when component j is above the
// centre's. The centre is the mean of the first CentreAfter vectors: many
// encoders (e5, for one) put every embedding in a narrow cone, where raw
// signs agree on most components and rank little (XQuAD with
// multilingual-e5-small: recall@10 0.66 after rescoring 100 candidates
// uncentred, see docs/vector-indexes.md for centred).
// A search ranks every admitted code by its Hamming distance to the
// query's code (XOR and popcount, 64 components per step), keeps the
// nearest candidates, and rescores them with float32 vectors. Memory is
// dim/8 bytes per vector (a 32nd of float32) plus the id table; a search
// reads all of it once, so it costs a scan of n·dim/8 bytes plus the
// rescoring reads. Codes lose more at small widths (384) than at large ones
// (≥ 768), which the candidate count (Rescore, or a search's effort) buys
// back. Safe for concurrent use: searches share a read lock, writes are
// exclusive.
type Binary struct {
	cfg   BinaryConfig
	words int // uint64 words per code
	mu    sync.RWMutex
	// mu protects the fields below. Slot s holds ids[s], its code at
	// codes[s·words:] and, without Full, its vector at vecs[s·dim:].
	codes []uint64
	vecs  []float32
	ids   []uint32
	slot  map[uint32]uint32
	full  FullFunc
	// centre is nil until fixed; until then pend holds, per slot, the
	// vectors it will be computed from (when vecs does not).
	centre []float32
	pend   []float32
	diff   []float32 // scratch for encode, under the write lock
}

// NewBinary returns an empty Binary index.
func NewBinary(cfg BinaryConfig) (*Binary, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if cfg.CentreAfter == 0 {
		cfg.CentreAfter = 1024
	}
	x := &Binary{cfg: cfg, words: (cfg.Dim + 63) / 64, slot: map[uint32]uint32{}, full: cfg.Full}
	x.cfg.Full = nil
	return x, nil
}

// encode writes the code of v (centred once the centre is fixed).
func (x *Binary) encode(code []uint64, v []float32, diff []float32) {
	if x.centre != nil {
		for j := range v {
			diff[j] = v[j] - x.centre[j]
		}
		v = diff
	}
	signCode(code, v)
}

// maybeCentre fixes the centre once CentreAfter vectors are in: their
// mean, from the index's floats or the pending copies, and re-encodes
// every code.
func (x *Binary) maybeCentre() {
	if x.centre != nil || x.cfg.CentreAfter < 0 || len(x.ids) < x.cfg.CentreAfter {
		return
	}
	src := x.vecs
	if len(src) == 0 {
		src = x.pend
	}
	d, n := x.cfg.Dim, len(x.ids)
	sum := make([]float64, d)
	for s := range n {
		for j, c := range src[s*d : (s+1)*d] {
			sum[j] += float64(c)
		}
	}
	centre := make([]float32, d)
	for j := range centre {
		centre[j] = float32(sum[j] / float64(n))
	}
	x.centre = centre
	for s := range n {
		x.encode(x.codes[s*x.words:(s+1)*x.words], src[s*d:(s+1)*d], x.diff)
	}
	x.pend = nil
}

// SetFull sets (or, with nil, clears) the source of float32 vectors for
// rescoring; it matters only for an index that does not keep its own.
func (x *Binary) SetFull(f FullFunc) {
	x.mu.Lock()
	x.full = f
	x.mu.Unlock()
}

// keepsFloats reports whether the index holds float32 vectors: it was
// created without Full, or read from a file written with them.
func (x *Binary) keepsFloats() bool { return len(x.ids) == 0 && x.full == nil || len(x.vecs) > 0 }

// signCode writes v's sign bits into code.
func signCode(code []uint64, v []float32) {
	clear(code)
	for j, c := range v {
		if c > 0 {
			code[j>>6] |= 1 << (j & 63)
		}
	}
}

// Add inserts v under id, replacing an earlier vector of id.
func (x *Binary) Add(id uint32, v []float32) error {
	vec, err := prep(nil, v, x.cfg.Dim, x.cfg.Metric)
	if err != nil {
		return fmt.Errorf("vector: add id %d: %w", id, err)
	}
	x.mu.Lock()
	defer x.mu.Unlock()
	own := x.keepsFloats()
	pending := !own && x.centre == nil && x.cfg.CentreAfter >= 0
	d := x.cfg.Dim
	s, ok := x.slot[id]
	if !ok {
		s = uint32(len(x.ids))
		x.ids = append(x.ids, id)
		x.codes = append(x.codes, make([]uint64, x.words)...)
		if own {
			x.vecs = append(x.vecs, vec...)
		}
		if pending {
			x.pend = append(x.pend, vec...)
		}
		x.slot[id] = s
	} else {
		if own {
			copy(x.vecs[int(s)*d:], vec)
		}
		if pending {
			copy(x.pend[int(s)*d:], vec)
		}
	}
	if x.diff == nil {
		x.diff = make([]float32, d)
	}
	x.encode(x.codes[int(s)*x.words:int(s+1)*x.words], vec, x.diff)
	x.maybeCentre()
	return nil
}

// Delete removes id; it reports whether id was present. The last slot
// moves into the freed one, so the scan stays dense.
func (x *Binary) Delete(id uint32) bool {
	x.mu.Lock()
	defer x.mu.Unlock()
	s, ok := x.slot[id]
	if !ok {
		return false
	}
	last := uint32(len(x.ids) - 1)
	if s != last {
		moved := x.ids[last]
		x.ids[s] = moved
		x.slot[moved] = s
		copy(x.codes[int(s)*x.words:int(s+1)*x.words], x.codes[int(last)*x.words:])
		for _, f := range [][]float32{x.vecs, x.pend} {
			if len(f) > 0 {
				d := x.cfg.Dim
				copy(f[int(s)*d:int(s+1)*d], f[int(last)*d:])
			}
		}
	}
	delete(x.slot, id)
	x.ids = x.ids[:last]
	x.codes = x.codes[:int(last)*x.words]
	if len(x.vecs) > 0 {
		x.vecs = x.vecs[:int(last)*x.cfg.Dim]
	}
	if len(x.pend) > 0 {
		x.pend = x.pend[:int(last)*x.cfg.Dim]
	}
	return true
}

// Len is the number of vectors.
func (x *Binary) Len() int { x.mu.RLock(); defer x.mu.RUnlock(); return len(x.ids) }

// candidates is how many codes a search of k rescores.
func (x *Binary) candidates(k, effort int) int {
	switch {
	case !x.rescores():
		return k
	case effort > 0:
		return max(effort, k)
	case x.cfg.Rescore > 0:
		return max(x.cfg.Rescore, k)
	}
	return max(10*k, 100)
}

// rescores reports whether searches rescore candidates: Rescore is not
// negative and there is a source of float32 vectors (the index's own, or
// Full; an index read from a file without floats has none until SetFull).
func (x *Binary) rescores() bool {
	return x.cfg.Rescore >= 0 && (len(x.vecs) > 0 || x.full != nil)
}

// Search returns the k best accepted ids. effort is the number of
// candidates rescored (0: Rescore's default).
func (x *Binary) Search(q []float32, k, effort int, accept func(id uint32) bool) ([]Result, error) {
	if k < 1 || k > maxK {
		return nil, fmt.Errorf("%w: k %d out of range 1..%d", ErrConfig, k, maxK)
	}
	if effort < 0 || effort > maxEf*4 {
		return nil, fmt.Errorf("%w: effort %d out of range 0..%d", ErrConfig, effort, maxEf*4)
	}
	qv, err := prep(nil, q, x.cfg.Dim, x.cfg.Metric)
	if err != nil {
		return nil, fmt.Errorf("vector: search: %w", err)
	}
	qc := make([]uint64, x.words)
	x.mu.RLock()
	defer x.mu.RUnlock()
	x.encode(qc, qv, make([]float32, x.cfg.Dim))
	r := x.candidates(k, effort)
	var best maxHeap
	w := x.words
	var dist [scanBlock]uint32
	thr := uint32(math.MaxUint32) // worst distance in best once it is full
	for lo := 0; lo < len(x.ids); lo += scanBlock {
		hi := min(lo+scanBlock, len(x.ids))
		kernels.Hamming(dist[:hi-lo], x.codes[lo*w:hi*w], qc)
		for i, h := range dist[:hi-lo] {
			if h >= thr {
				continue // no better than the worst of a full candidate set
			}
			s := lo + i
			if accept != nil && !accept(x.ids[s]) {
				continue
			}
			if len(best) < r {
				best.push(item{float32(h), uint32(s)})
			} else {
				best.replaceTop(item{float32(h), uint32(s)})
			}
			if len(best) == r {
				thr = uint32(best[0].d)
			}
		}
	}
	c := drainAsc(&best, nil)
	if !x.rescores() {
		return x.results(c[:min(len(c), k)], func(it item) float32 {
			return float32(math.Cos(math.Pi * float64(it.d) / float64(x.cfg.Dim)))
		}), nil
	}
	return x.rescore(qv, c, k), nil
}

// scanBlock is how many Hamming distances a search computes before it
// selects among them.
const scanBlock = 512

// rescore scores candidates with float32 vectors and returns the k best.
func (x *Binary) rescore(qv []float32, c []item, k int) []Result {
	d := x.cfg.Dim
	var full [][]float32
	if len(x.vecs) == 0 && x.full != nil {
		ids := make([]uint32, len(c))
		for j, it := range c {
			ids[j] = x.ids[it.i]
		}
		full = make([][]float32, len(c))
		x.full(ids, full)
	}
	w := 0
	for j, it := range c {
		var v []float32
		switch {
		case len(x.vecs) > 0:
			v = x.vecs[int(it.i)*d : int(it.i+1)*d]
		case full != nil:
			v = full[j]
		}
		if len(v) != d {
			continue // the owner no longer has it, or no source at all
		}
		if x.cfg.Metric == Cosine {
			c[w] = item{-cosine(qv, v), it.i}
		} else {
			c[w] = item{fdist(Dot, qv, v), it.i}
		}
		w++
	}
	c = c[:w]
	sortAsc(c)
	return x.results(c[:min(len(c), k)], func(it item) float32 { return -it.d })
}

func (x *Binary) results(c []item, score func(item) float32) []Result {
	out := make([]Result, len(c))
	for j, it := range c {
		out[j] = Result{ID: x.ids[it.i], Score: score(it)}
	}
	return out
}

// Stats reports counts and memory (codes, vectors if kept, ids, and the id
// map at 16 bytes per entry).
func (x *Binary) Stats() Stats {
	x.mu.RLock()
	defer x.mu.RUnlock()
	b := 8*cap(x.codes) + 4*(cap(x.vecs)+cap(x.pend)+cap(x.centre)) + 4*cap(x.ids) + 16*len(x.slot)
	st := Stats{Vectors: len(x.ids), Bytes: b, Quantize: QuantBinary, FullInIndex: x.keepsFloats()}
	if n := len(x.ids); n > 0 {
		st.BytesPerVector = b / n
	}
	return st
}

var binMagic = [8]byte{'Q', 'B', 'I', 'N', 0, 0, 0, 1}

const (
	binVersion    = 1
	binHeaderSize = 40
	binFloats     = 1 << 0 // vectors section
	binCentred    = 1 << 1 // centre section
	binPending    = 1 << 2 // pending-vectors section
)

// WriteTo serialises the index (docs/format/hnsw.md, "Binary file"): a
// header, then the ids, the codes (little-endian uint64 words) and, when
// the index keeps them, the float32 vectors, each section with its CRC32C.
func (x *Binary) WriteTo(w io.Writer) (int64, error) {
	x.mu.RLock()
	defer x.mu.RUnlock()
	le := binary.LittleEndian
	flags := uint32(0)
	if len(x.vecs) > 0 {
		flags |= binFloats
	}
	if x.centre != nil {
		flags |= binCentred
	}
	if len(x.pend) > 0 {
		flags |= binPending
	}
	hdr := append([]byte(nil), binMagic[:]...)
	for _, v := range []uint32{binVersion, uint32(x.cfg.Dim), uint32(x.cfg.Metric), uint32(int32(x.cfg.Rescore)),
		uint32(int32(x.cfg.CentreAfter)), flags, uint32(len(x.ids))} {
		hdr = le.AppendUint32(hdr, v)
	}
	sw := startFile(w, hdr)
	sw.write(asBytes(x.ids), true)
	codes := make([]byte, 0, 8*len(x.codes))
	for _, c := range x.codes {
		codes = le.AppendUint64(codes, c)
	}
	sw.write(codes, false)
	for _, f := range [][]float32{x.vecs, x.centre, x.pend} {
		if len(f) > 0 {
			sw.write(asBytes(f), true)
		}
	}
	return sw.finish()
}

// ReadBinary loads an index written by (*Binary).WriteTo; damage yields an
// error wrapping ErrCorrupt. An index written without float32 vectors
// needs SetFull before searches can rescore.
func ReadBinary(r io.Reader) (*Binary, error) {
	le := binary.LittleEndian
	hdr, err := readHeader(r, binMagic, binHeaderSize, binVersion)
	if err != nil {
		return nil, err
	}
	u := func(off int) uint32 { return le.Uint32(hdr[off:]) }
	cfg := BinaryConfig{Dim: int(u(12)), Metric: Metric(u(16)), Rescore: int(int32(u(20))), CentreAfter: int(int32(u(24)))}
	flags, n := u(28), int(u(32))
	// Pending vectors exist exactly while an index without floats waits
	// for its centre.
	waiting := flags&(binFloats|binCentred) == 0 && cfg.CentreAfter > 0 && n > 0
	if flags&^(binFloats|binCentred|binPending) != 0 || n > 1<<30 || cfg.CentreAfter == 0 ||
		waiting != (flags&binPending != 0) {
		return nil, fmt.Errorf("%w: bad header fields", ErrCorrupt)
	}
	if err := cfg.Validate(); err != nil {
		return nil, fmt.Errorf("%w: header: %v", ErrCorrupt, err)
	}
	x, _ := NewBinary(cfg)
	ids, err := readWords(r, n, "ids")
	if err != nil {
		return nil, err
	}
	b, err := readSection(r, 8*n*x.words, "codes")
	if err != nil {
		return nil, err
	}
	x.codes = make([]uint64, n*x.words)
	for i := range x.codes {
		x.codes[i] = le.Uint64(b[8*i:])
	}
	floats := func(flag uint32, rows int, name string) ([]float32, error) {
		if flags&flag == 0 {
			return nil, nil
		}
		b, err := readSection(r, 4*rows*cfg.Dim, name)
		if err != nil {
			return nil, err
		}
		if !littleEndian {
			swap4(b)
		}
		return fromBytes[float32](b), nil
	}
	if x.vecs, err = floats(binFloats, n, "vectors"); err != nil {
		return nil, err
	}
	if x.centre, err = floats(binCentred, 1, "centre"); err != nil {
		return nil, err
	}
	if x.pend, err = floats(binPending, n, "pending vectors"); err != nil {
		return nil, err
	}
	x.ids = ids
	for s, id := range ids {
		if _, dup := x.slot[id]; dup {
			return nil, fmt.Errorf("%w: id %d stored twice", ErrCorrupt, id)
		}
		x.slot[id] = uint32(s)
	}
	return x, nil
}

var _ Index = (*Binary)(nil)
