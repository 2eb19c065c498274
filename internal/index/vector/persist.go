package vector

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"hash/crc32"
	"io"
	"math"
	"math/rand"
)

var magic = [8]byte{'Q', 'H', 'N', 'S', 'W', 0, 0, 1}

const formatVersion = 1

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// WriteTo serialises the index (see docs/format/hnsw.md).
func (h *HNSW) WriteTo(w io.Writer) (int64, error) {
	h.mu.RLock()
	var b bytes.Buffer
	le := binary.LittleEndian
	put := func(v uint32) { b.Write(le.AppendUint32(nil, v)) }
	put(uint32(h.cfg.Dim))
	put(uint32(h.cfg.Metric))
	put(uint32(h.cfg.M))
	put(uint32(h.cfg.EfConstruction))
	put(uint32(h.cfg.EfSearch))
	b.Write(le.AppendUint64(nil, uint64(h.cfg.Seed)))
	put(uint32(h.entry))
	put(uint32(h.maxL))
	put(uint32(len(h.nodes)))
	for _, n := range h.nodes {
		put(n.id)
		d := uint32(0)
		if n.deleted {
			d = 1
		}
		put(d)
		for _, x := range n.vec {
			put(math.Float32bits(x))
		}
		put(uint32(len(n.links)))
		for _, l := range n.links {
			put(uint32(len(l)))
			for _, x := range l {
				put(x)
			}
		}
	}
	h.mu.RUnlock()
	hdr := append(magic[:], le.AppendUint32(nil, formatVersion)...)
	hdr = le.AppendUint64(hdr, uint64(b.Len()))
	out := append(hdr, b.Bytes()...)
	out = le.AppendUint32(out, crc32.Checksum(out[8:], castagnoli))
	n, err := w.Write(out)
	return int64(n), err
}

// Read loads an index written by WriteTo. Damage yields an error wrapping
// ErrCorrupt; the rebuild path is New + Add from the caller's source vectors.
func Read(r io.Reader) (*HNSW, error) {
	le := binary.LittleEndian
	hdr := make([]byte, 20)
	if _, err := io.ReadFull(r, hdr); err != nil {
		return nil, fmt.Errorf("%w: header: %v", ErrCorrupt, err)
	}
	if !bytes.Equal(hdr[:8], magic[:]) {
		return nil, fmt.Errorf("%w: bad magic", ErrCorrupt)
	}
	if v := le.Uint32(hdr[8:]); v != formatVersion {
		return nil, fmt.Errorf("%w: unsupported version %d", ErrCorrupt, v)
	}
	bl := le.Uint64(hdr[12:])
	if bl > 1<<40 {
		return nil, fmt.Errorf("%w: body length %d", ErrCorrupt, bl)
	}
	var body bytes.Buffer
	if nr, err := io.CopyN(&body, r, int64(bl)+4); err != nil || nr != int64(bl)+4 {
		return nil, fmt.Errorf("%w: truncated", ErrCorrupt)
	}
	all := body.Bytes()
	p, sum := all[:bl], le.Uint32(all[bl:])
	c := crc32.Update(crc32.Checksum(hdr[8:], castagnoli), castagnoli, p)
	if c != sum {
		return nil, fmt.Errorf("%w: checksum mismatch", ErrCorrupt)
	}
	bad := false
	get := func() uint32 {
		if len(p) < 4 {
			bad = true
			return 0
		}
		v := le.Uint32(p)
		p = p[4:]
		return v
	}
	var cfg Config
	cfg.Dim, cfg.Metric, cfg.M, cfg.EfConstruction, cfg.EfSearch = int(get()), Metric(get()), int(get()), int(get()), int(get())
	cfg.Seed = int64(uint64(get()) | uint64(get())<<32)
	if bad || cfg.Validate() != nil {
		return nil, fmt.Errorf("%w: bad config", ErrCorrupt)
	}
	h, _ := New(cfg)
	h.entry, h.maxL = int32(get()), int(get())
	cnt := get()
	if uint64(cnt)*uint64(8+4*cfg.Dim) > uint64(len(p)) {
		return nil, fmt.Errorf("%w: node count", ErrCorrupt)
	}
	h.nodes = make([]*node, cnt)
	for i := range h.nodes {
		n := &node{id: get(), deleted: get() == 1, vec: make([]float32, cfg.Dim)}
		for j := range n.vec {
			n.vec[j] = math.Float32frombits(get())
		}
		nl := get()
		if nl > 64 || bad {
			return nil, fmt.Errorf("%w: node %d", ErrCorrupt, i)
		}
		n.links = make([][]uint32, nl)
		for l := range n.links {
			k := get()
			if k > uint32(4*cfg.M) || bad {
				return nil, fmt.Errorf("%w: node %d links", ErrCorrupt, i)
			}
			n.links[l] = make([]uint32, k)
			for j := range n.links[l] {
				n.links[l][j] = get()
				if n.links[l][j] >= cnt {
					return nil, fmt.Errorf("%w: link out of range", ErrCorrupt)
				}
			}
		}
		h.nodes[i] = n
		if !n.deleted {
			h.byID[n.id] = uint32(i)
			h.live++
		}
	}
	if bad || len(p) != 0 || (cnt > 0 && (h.entry < 0 || uint32(h.entry) >= cnt || h.maxL != len(h.nodes[h.entry].links)-1)) || (cnt == 0 && h.entry != -1) {
		return nil, fmt.Errorf("%w: trailing or bad entry", ErrCorrupt)
	}
	h.rng = rand.New(rand.NewSource(cfg.Seed + int64(cnt)))
	return h, nil
}
