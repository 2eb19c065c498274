package vector

import (
	"encoding/binary"
	"fmt"
	"io"
)

var ivfMagic = [8]byte{'Q', 'I', 'V', 'F', 0, 0, 0, 1}

const (
	ivfVersion    = 1
	ivfHeaderSize = 52
	ivfTrained    = 1 << 1
)

// WriteTo serialises the IVF index (docs/format/hnsw.md, "IVF file").
func (x *IVF) WriteTo(w io.Writer) (int64, error) {
	x.mu.RLock()
	defer x.mu.RUnlock()
	le := binary.LittleEndian
	flags := uint32(0)
	if x.quant {
		flags |= flagInt8
	}
	if x.centroids != nil {
		flags |= ivfTrained
	}
	hdr := append([]byte(nil), ivfMagic[:]...)
	for _, v := range []uint32{ivfVersion, uint32(x.cfg.Dim), uint32(x.cfg.Metric), uint32(x.cfg.NList), uint32(x.cfg.NProbe), flags} {
		hdr = le.AppendUint32(hdr, v)
	}
	hdr = le.AppendUint64(hdr, uint64(x.cfg.Seed))
	hdr = le.AppendUint32(hdr, uint32(len(x.where)))
	hdr = le.AppendUint32(hdr, 0) // reserved
	sw := startFile(w, hdr)
	if x.centroids != nil {
		sw.write(asBytes(x.centroids), true)
	}
	sizes := make([]uint32, len(x.lists))
	var ids []uint32
	var vecs, meta []float32
	var codes []int8
	for i, l := range x.lists {
		sizes[i] = uint32(len(l.ids))
		ids = append(ids, l.ids...)
		vecs = append(vecs, l.vecs...)
		codes = append(codes, l.codes...)
		meta = append(meta, l.meta...)
	}
	sw.write(asBytes(sizes), true)
	sw.write(asBytes(ids), true)
	if x.quant {
		sw.write(asBytes(codes), false)
		sw.write(asBytes(meta), true)
	} else {
		sw.write(asBytes(vecs), true)
	}
	return sw.finish()
}

// ReadIVF loads an index written by (*IVF).WriteTo; damage yields an error
// wrapping ErrCorrupt.
func ReadIVF(r io.Reader) (*IVF, error) {
	le := binary.LittleEndian
	hdr, err := readHeader(r, ivfMagic, ivfHeaderSize, ivfVersion)
	if err != nil {
		return nil, err
	}
	u := func(off int) uint32 { return le.Uint32(hdr[off:]) }
	flags := u(28)
	cfg := IVFConfig{Dim: int(u(12)), Metric: Metric(u(16)), NList: int(u(20)), NProbe: int(u(24)), Seed: int64(le.Uint64(hdr[32:]))}
	if flags&flagInt8 != 0 {
		cfg.Quantize = QuantInt8
	}
	if flags&^(flagInt8|ivfTrained) != 0 || cfg.NList == 0 || cfg.NProbe == 0 {
		return nil, fmt.Errorf("%w: bad header fields", ErrCorrupt)
	}
	if err := cfg.Validate(); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrCorrupt, err)
	}
	x, _ := NewIVF(cfg)
	n, d := int(u(40)), cfg.Dim
	if n > 0 && flags&ivfTrained == 0 {
		return nil, fmt.Errorf("%w: vectors in an untrained index", ErrCorrupt)
	}
	if flags&ivfTrained != 0 {
		b, err := readSection(r, 4*cfg.NList*d, "centroids")
		if err != nil {
			return nil, err
		}
		if !littleEndian {
			swap4(b)
		}
		x.centroids = fromBytes[float32](b)
	}
	sizes, err := readWords(r, cfg.NList, "sizes")
	if err != nil {
		return nil, err
	}
	total := 0
	for _, s := range sizes {
		total += int(s)
	}
	if total != n {
		return nil, fmt.Errorf("%w: list sizes", ErrCorrupt)
	}
	ids, err := readWords(r, n, "ids")
	if err != nil {
		return nil, err
	}
	var vecs, meta []float32
	var codes []int8
	if x.quant {
		b, err := readSection(r, n*d, "codes")
		if err != nil {
			return nil, err
		}
		codes = fromBytes[int8](b)
		if b, err = readSection(r, 4*n*metaStride, "quantization"); err != nil {
			return nil, err
		}
		if !littleEndian {
			swap4(b)
		}
		meta = fromBytes[float32](b)
	} else {
		b, err := readSection(r, 4*n*d, "vectors")
		if err != nil {
			return nil, err
		}
		if !littleEndian {
			swap4(b)
		}
		vecs = fromBytes[float32](b)
	}
	off := 0
	for c, s := range sizes {
		e := off + int(s)
		l := &x.lists[c]
		l.ids = ids[off:e:e]
		if x.quant {
			l.codes, l.meta = codes[off*d:e*d:e*d], meta[off*metaStride:e*metaStride:e*metaStride]
		} else {
			l.vecs = vecs[off*d : e*d : e*d]
		}
		for p, id := range l.ids {
			if _, dup := x.where[id]; dup {
				return nil, fmt.Errorf("%w: id %d stored twice", ErrCorrupt, id)
			}
			x.where[id] = ivfLoc{uint32(c), uint32(p)}
		}
		off = e
	}
	return x, nil
}
