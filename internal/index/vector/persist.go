package vector

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"fmt"
	"hash/crc32"
	"io"
	"math/bits"
	"os"
	"unsafe"
)

// On-disk format: see docs/format/hnsw.md. Sections are written from the
// in-memory arrays and read into them: on a little-endian host (amd64,
// arm64) the bytes of a []uint32 or []float32 are already the file's
// encoding, so they are reinterpreted with unsafe.Slice instead of decoded
// value by value; on a big-endian host they are byte-swapped. The float32
// vectors and level-0 lists, which share per-slot blocks in memory (see
// HNSW.blk), are written row by row into their own sections and
// interleaved again by Read, so the format does not depend on the layout.

var magic = [8]byte{'Q', 'H', 'N', 'S', 'W', 0, 0, 1}

const (
	formatVersion = 2
	headerSize    = 68

	flagInt8       = 1 << 0
	flagFloats     = 1 << 1
	flagKeepPruned = 1 << 2
	flagSQ8        = 1 << 3 // Config.Traverse = TraverseSQ8; the codes are retrained on Read
)

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

var littleEndian = func() bool { x := uint16(1); return *(*byte)(unsafe.Pointer(&x)) == 1 }()

// asBytes views s as its in-memory bytes.
func asBytes[T uint32 | float32 | int8 | uint8](s []T) []byte {
	if len(s) == 0 {
		return nil
	}
	return unsafe.Slice((*byte)(unsafe.Pointer(&s[0])), len(s)*int(unsafe.Sizeof(s[0])))
}

// fromBytes views b (aligned: it comes from make) as a []T.
func fromBytes[T uint32 | float32 | int8 | uint8](b []byte) []T {
	var z T
	sz := int(unsafe.Sizeof(z))
	if len(b) < sz {
		return []T{}
	}
	return unsafe.Slice((*T)(unsafe.Pointer(&b[0])), len(b)/sz)
}

// swap4 reverses the byte order of each 4-byte word (big-endian hosts).
func swap4(b []byte) {
	for i := 0; i+4 <= len(b); i += 4 {
		binary.LittleEndian.PutUint32(b[i:], binary.BigEndian.Uint32(b[i:]))
	}
}

// sectionWriter writes payloads each followed by its CRC-32C.
type sectionWriter struct {
	w   io.Writer
	bw  *bufio.Writer // w, when startFile made it; finish flushes it
	n   int64
	err error
}

// startFile begins an index file: hdr (magic, then fields) with the CRC-32C
// of its bytes after the magic appended, through a 1 MiB buffer; sections
// follow through the returned writer, and finish flushes.
func startFile(w io.Writer, hdr []byte) *sectionWriter {
	hdr = binary.LittleEndian.AppendUint32(hdr, crc32.Checksum(hdr[8:], castagnoli))
	bw := bufio.NewWriterSize(w, 1<<20)
	sw := &sectionWriter{w: bw, bw: bw}
	k, err := bw.Write(hdr)
	sw.n, sw.err = int64(k), err
	return sw
}

// finish flushes the buffer and returns the bytes written and the first
// error.
func (sw *sectionWriter) finish() (int64, error) {
	if sw.err == nil && sw.bw != nil {
		sw.err = sw.bw.Flush()
	}
	return sw.n, sw.err
}

func (sw *sectionWriter) write(p []byte, words bool) {
	if sw.err != nil {
		return
	}
	if words && !littleEndian {
		p = append([]byte(nil), p...)
		swap4(p)
	}
	var c [4]byte
	binary.LittleEndian.PutUint32(c[:], crc32.Checksum(p, castagnoli))
	for _, b := range [][]byte{p, c[:]} {
		k, err := sw.w.Write(b)
		sw.n += int64(k)
		if err != nil {
			sw.err = err
			return
		}
	}
}

// writeRows writes one section made of n rows, row(i) being the in-memory
// words of row i (vectors or level-0 lists, which sit inside the per-slot
// blocks in memory but are contiguous sections in the file), followed by
// the CRC-32C of the whole section.
func (sw *sectionWriter) writeRows(n int, row func(i int) []byte) {
	var crc uint32
	var tmp []byte
	for i := 0; i < n && sw.err == nil; i++ {
		p := row(i)
		if !littleEndian {
			tmp = append(tmp[:0], p...)
			swap4(tmp)
			p = tmp
		}
		crc = crc32.Update(crc, castagnoli, p)
		k, err := sw.w.Write(p)
		sw.n += int64(k)
		sw.err = err
	}
	if sw.err != nil {
		return
	}
	var c [4]byte
	binary.LittleEndian.PutUint32(c[:], crc)
	k, err := sw.w.Write(c[:])
	sw.n += int64(k)
	sw.err = err
}

// WriteTo serialises the index (docs/format/hnsw.md). Inserts and searches
// wait while it runs. With int8 and Config.Full the float32 vectors are not
// written (the owner has them).
func (h *HNSW) WriteTo(w io.Writer) (int64, error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	n := int(h.count.Load())
	le := binary.LittleEndian
	hdr := make([]byte, 0, headerSize)
	hdr = append(hdr, magic[:]...)
	flags := uint32(0)
	if h.quant {
		flags |= flagInt8
	}
	if h.keepFull {
		flags |= flagFloats
	}
	if h.cfg.KeepPruned {
		flags |= flagKeepPruned
	}
	if h.sq.on {
		flags |= flagSQ8
	}
	e := h.ep.Load()
	epSlot, epLvl := uint32(e), uint32(e>>32)
	if e == emptyEP {
		epSlot, epLvl = ^uint32(0), 0
	}
	upperWords := 0
	for _, u := range h.upper[:n] {
		upperWords += len(u)
	}
	for _, v := range []uint32{formatVersion, uint32(h.dim), uint32(h.cfg.Metric), uint32(h.m),
		uint32(h.cfg.EfConstruction), uint32(h.cfg.EfSearch), flags, uint32(int32(h.cfg.Rescore))} {
		hdr = le.AppendUint32(hdr, v)
	}
	hdr = le.AppendUint64(hdr, uint64(h.cfg.Seed))
	for _, v := range []uint32{uint32(n), epSlot, epLvl, uint32(upperWords)} {
		hdr = le.AppendUint32(hdr, v)
	}
	sw := startFile(w, hdr)
	sw.write(asBytes(h.ids[:n]), true)
	sw.write(asBytes(h.levels[:n]), false)
	sw.write(asBytes(h.live[:(n+31)/32]), true)
	if h.keepFull {
		sw.writeRows(n, func(i int) []byte { return asBytes(h.vec(uint32(i))) })
	}
	if h.quant {
		sw.write(asBytes(h.codes[:n*h.dim]), false)
		sw.write(asBytes(h.meta[:n*metaStride]), true)
	}
	sw.writeRows(n, func(i int) []byte { return asBytes(h.linksOf(uint32(i), 0)) })
	flat := make([]uint32, 0, upperWords)
	for _, u := range h.upper[:n] {
		flat = append(flat, u...)
	}
	sw.write(asBytes(flat), true)
	return sw.finish()
}

// readSection reads n payload bytes and their CRC. Large sections are read
// in growing blocks so a damaged length cannot make it allocate more than
// about twice the bytes actually present.
func readSection(r io.Reader, n int, name string) ([]byte, error) {
	const block = 64 << 20
	first := min(n, block)
	if avail := remaining(r); avail >= int64(n) {
		first = n // the bytes are there: one allocation, no growth copies
	}
	buf := make([]byte, 0, first)
	for len(buf) < n {
		if len(buf) == cap(buf) {
			nb := make([]byte, len(buf), min(n, 2*cap(buf)))
			copy(nb, buf)
			buf = nb
		}
		k, err := io.ReadFull(r, buf[len(buf):cap(buf)])
		buf = buf[:len(buf)+k]
		if err != nil {
			return nil, fmt.Errorf("%w: section %s truncated", ErrCorrupt, name)
		}
	}
	var c [4]byte
	if _, err := io.ReadFull(r, c[:]); err != nil {
		return nil, fmt.Errorf("%w: section %s truncated", ErrCorrupt, name)
	}
	if crc32.Checksum(buf, castagnoli) != binary.LittleEndian.Uint32(c[:]) {
		return nil, fmt.Errorf("%w: section %s checksum mismatch", ErrCorrupt, name)
	}
	return buf, nil
}

// remaining reports how many bytes r still holds when it can tell (a
// *bytes.Reader, or a regular file read from its current offset), else -1.
func remaining(r io.Reader) int64 {
	switch f := r.(type) {
	case interface{ Len() int }:
		return int64(f.Len())
	case *os.File:
		st, err := f.Stat()
		if err != nil || !st.Mode().IsRegular() {
			return -1
		}
		off, err := f.Seek(0, io.SeekCurrent)
		if err != nil {
			return -1
		}
		return st.Size() - off
	}
	return -1
}

func readWords(r io.Reader, n int, name string) ([]uint32, error) {
	b, err := readSection(r, 4*n, name)
	if err != nil {
		return nil, err
	}
	if !littleEndian {
		swap4(b)
	}
	return fromBytes[uint32](b), nil
}

// readHeader reads a file header of size bytes and checks its magic, its
// CRC32C (the last 4 bytes, over bytes 8..size-4) and its format version
// (the uint32 at offset 8).
func readHeader(r io.Reader, want [8]byte, size int, version uint32) ([]byte, error) {
	le := binary.LittleEndian
	hdr := make([]byte, size)
	if _, err := io.ReadFull(r, hdr); err != nil {
		return nil, fmt.Errorf("%w: header: %v", ErrCorrupt, err)
	}
	if !bytes.Equal(hdr[:8], want[:]) {
		return nil, fmt.Errorf("%w: bad magic", ErrCorrupt)
	}
	if crc32.Checksum(hdr[8:size-4], castagnoli) != le.Uint32(hdr[size-4:]) {
		return nil, fmt.Errorf("%w: header checksum mismatch", ErrCorrupt)
	}
	if v := le.Uint32(hdr[8:]); v != version {
		return nil, fmt.Errorf("%w: unsupported version %d", ErrCorrupt, v)
	}
	return hdr, nil
}

// Read loads an index written by WriteTo. Any damage yields an error
// wrapping ErrCorrupt; the rebuild path is New + Add from the caller's
// vectors. For an int8 index written without float32 vectors, call SetFull
// before searching to get rescored results.
func Read(r io.Reader) (*HNSW, error) {
	le := binary.LittleEndian
	hdr, err := readHeader(r, magic, headerSize, formatVersion)
	if err != nil {
		return nil, err
	}
	u := func(off int) uint32 { return le.Uint32(hdr[off:]) }
	flags := u(32)
	cfg := Config{Dim: int(u(12)), Metric: Metric(u(16)), M: int(u(20)), EfConstruction: int(u(24)),
		EfSearch: int(u(28)), Rescore: int(int32(u(36))), Seed: int64(le.Uint64(hdr[40:])),
		KeepPruned: flags&flagKeepPruned != 0}
	if flags&flagInt8 != 0 {
		cfg.Quantize = QuantInt8
	}
	if flags&flagSQ8 != 0 {
		cfg.Traverse = TraverseSQ8
	}
	if flags&^(flagInt8|flagFloats|flagKeepPruned|flagSQ8) != 0 || cfg.Dim == 0 || cfg.M == 0 || cfg.EfConstruction == 0 || cfg.EfSearch == 0 {
		return nil, fmt.Errorf("%w: bad header fields", ErrCorrupt)
	}
	if err := cfg.Validate(); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrCorrupt, err)
	}
	h, _ := New(cfg)
	h.setKeepFull(flags&flagFloats != 0)
	if !h.quant && !h.keepFull {
		return nil, fmt.Errorf("%w: float32 index without vectors", ErrCorrupt)
	}
	if err := h.readBody(r, int(u(48)), u(52), u(56), int(u(60))); err != nil {
		return nil, err
	}
	if h.sq.on {
		h.trainSQLocked() // h is not shared yet
	}
	return h, nil
}

// readBody reads the sections of an index of n slots and checks every
// invariant the search relies on (link targets in range and present at
// their level, counts within capacity, unique live ids).
func (h *HNSW) readBody(r io.Reader, n int, epSlot, epLvl uint32, upperWords int) error {
	const maxSlots = 1 << 31
	if n > maxSlots || epLvl > maxLvl || (n == 0) != (epSlot == ^uint32(0)) || (n > 0 && int(epSlot) >= n) {
		return fmt.Errorf("%w: bad counts or entry point", ErrCorrupt)
	}
	if uint64(upperWords) > uint64(n)*uint64(maxLvl)*uint64(h.m+1) {
		return fmt.Errorf("%w: upper-level size", ErrCorrupt)
	}
	var err error
	if h.ids, err = readWords(r, n, "ids"); err != nil {
		return err
	}
	if h.levels, err = readSection(r, n, "levels"); err != nil {
		return err
	}
	if h.live, err = readWords(r, (n+31)/32, "live"); err != nil {
		return err
	}
	var vecs []float32
	if h.keepFull {
		b, err := readSection(r, 4*n*h.dim, "vectors")
		if err != nil {
			return err
		}
		if !littleEndian {
			swap4(b)
		}
		vecs = fromBytes[float32](b)
	}
	if h.quant {
		b, err := readSection(r, n*h.dim, "codes")
		if err != nil {
			return err
		}
		h.codes = makeHuge[int8](n * h.dim)
		copy(h.codes, fromBytes[int8](b))
		if b, err = readSection(r, 4*n*metaStride, "quantization"); err != nil {
			return err
		}
		if !littleEndian {
			swap4(b)
		}
		h.meta = fromBytes[float32](b)
	}
	links0, err := readWords(r, n*(h.m0+1), "links0")
	if err != nil {
		return err
	}
	// Interleave the two sections into the per-slot blocks.
	h.blk = makeHuge[uint32](n * h.stride)
	for i := range n {
		if h.keepFull {
			copy(h.vec(uint32(i)), vecs[i*h.dim:(i+1)*h.dim])
		}
		o := i*h.stride + h.lOff
		copy(h.blk[o:o+h.m0+1], links0[i*(h.m0+1):(i+1)*(h.m0+1)])
	}
	flat, err := readWords(r, upperWords, "upper")
	if err != nil {
		return err
	}
	// Invariants.
	if n%32 != 0 && n > 0 && h.live[len(h.live)-1]>>(n%32) != 0 {
		return fmt.Errorf("%w: live bits past the end", ErrCorrupt)
	}
	if n > 0 && uint32(h.levels[epSlot]) != epLvl {
		return fmt.Errorf("%w: entry level", ErrCorrupt)
	}
	h.upper = make([][]uint32, n)
	off := 0
	for i, lv := range h.levels {
		if uint32(lv) > epLvl {
			return fmt.Errorf("%w: node %d above the entry level", ErrCorrupt, i)
		}
		if lv > 0 {
			w := int(lv) * (h.m + 1)
			if off+w > len(flat) {
				return fmt.Errorf("%w: upper-level size", ErrCorrupt)
			}
			h.upper[i] = flat[off : off+w : off+w]
			off += w
		}
	}
	if off != len(flat) {
		return fmt.Errorf("%w: upper-level size", ErrCorrupt)
	}
	for i := range uint32(n) {
		for l := 0; l <= int(h.levels[i]); l++ {
			lk := h.linksOf(i, l)
			if int(lk[0]) > len(lk)-1 {
				return fmt.Errorf("%w: node %d level %d link count", ErrCorrupt, i, l)
			}
			for _, x := range lk[1 : 1+lk[0]] {
				if int(x) >= n || int(h.levels[x]) < l {
					return fmt.Errorf("%w: node %d level %d link %d", ErrCorrupt, i, l, x)
				}
			}
		}
	}
	live := 0
	for _, w := range h.live {
		live += bits.OnesCount32(w)
	}
	h.alloc.byID = make(map[uint32]uint32, live)
	for i := range uint32(n) {
		if h.isLive(i) {
			if _, dup := h.alloc.byID[h.ids[i]]; dup {
				return fmt.Errorf("%w: id %d live twice", ErrCorrupt, h.ids[i])
			}
			h.alloc.byID[h.ids[i]] = i
		}
	}
	h.capN, h.alloc.n = n, n
	h.count.Store(int64(n))
	h.liveCount.Store(int64(live))
	if n > 0 {
		h.ep.Store(uint64(epLvl)<<32 | uint64(epSlot))
	}
	h.alloc.rng.Seed(h.cfg.Seed + int64(n))
	return nil
}
