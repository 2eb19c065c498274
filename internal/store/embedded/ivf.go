package embedded

import (
	"bufio"
	"encoding/binary"
	"fmt"
	"hash/crc32"
	"io"
	"math"
	"sort"

	"github.com/quarry-rag/quarry/internal/index/vector"
)

// ivfIndex adapts vector.IVF, which must be trained on a sample before it
// takes vectors: until the collection has trainPer·NList vectors they sit
// in a flat table (searched exactly); the write that reaches the threshold
// trains the IVF on all of them (k-means, once, under the write lock) and
// moves them in. Later vectors go to their nearest cell of those centroids.
// With int8 codes the IVF's scores are approximate, so the best candidates
// are rescored here with float32 vectors read from the store.
type ivfIndex struct {
	cfg  vector.IVFConfig
	buf  *flatIndex  // before training
	ivf  *vector.IVF // after training; nil before
	full vector.FullFunc
}

// trainPer is how many vectors per cell the IVF is trained on.
const trainPer = 16

func newIVFIndex(c VectorConfig, dim int, full vector.FullFunc) *ivfIndex {
	cfg := c.IVFConfig(dim, vector.Dot)
	return &ivfIndex{cfg: cfg, buf: newFlatIndex(dim), full: full}
}

func (x *ivfIndex) trainAt() int { return max(trainPer*x.cfg.NList, 1024) }

// Add buffers v until the IVF is trained, then adds it to its cell. It does
// not train: the backend calls trainDue, trained and install (see
// Backend.trainIVF), so that k-means can run without the index lock.
func (x *ivfIndex) Add(id uint32, v []float32) error {
	if x.ivf != nil {
		return x.ivf.Add(id, v)
	}
	return x.buf.Add(id, v)
}

// trainDue reports whether enough vectors are buffered to train the IVF.
func (x *ivfIndex) trainDue() bool { return x.ivf == nil && x.buf.Len() >= x.trainAt() }

// install replaces the buffer by ivf, built by trained from its contents.
func (x *ivfIndex) install(ivf *vector.IVF) { x.ivf, x.buf = ivf, nil }

func (x *ivfIndex) AddBatch(ids []uint32, vecs [][]float32) error {
	for i, id := range ids {
		if err := x.Add(id, vecs[i]); err != nil {
			return err
		}
	}
	return nil
}

// trained builds an IVF from the buffered vectors: k-means on them, then
// each into its cell. It only reads x, so searches may run meanwhile; no
// write may (the backend holds writeMu).
func (x *ivfIndex) trained() (*vector.IVF, error) {
	ivf, err := vector.NewIVF(x.cfg)
	if err != nil {
		return nil, err
	}
	var ids []uint32
	var vecs [][]float32
	x.buf.All(func(id uint32, v []float32) {
		ids, vecs = append(ids, id), append(vecs, v)
	})
	if err := ivf.Train(vecs); err != nil {
		return nil, err
	}
	for i, id := range ids {
		if err := ivf.Add(id, vecs[i]); err != nil {
			return nil, err
		}
	}
	return ivf, nil
}

func (x *ivfIndex) Delete(id uint32) bool {
	if x.ivf != nil {
		return x.ivf.Delete(id)
	}
	return x.buf.Delete(id)
}

func (x *ivfIndex) Search(q []float32, k, nprobe int, accept func(uint32) bool) ([]vector.Result, error) {
	if x.ivf == nil {
		return x.buf.Search(q, k, 0, accept)
	}
	nprobe = min(nprobe, x.cfg.NList)
	if x.cfg.Quantize == "" || x.full == nil {
		return x.ivf.Search(q, k, nprobe, accept)
	}
	res, err := x.ivf.Search(q, min(max(4*k, 40), 4096), nprobe, accept)
	if err != nil {
		return nil, err
	}
	ids := make([]uint32, len(res))
	for i, r := range res {
		ids[i] = r.ID
	}
	full := make([][]float32, len(res))
	x.full(ids, full)
	w := 0
	for i, r := range res {
		v := full[i]
		if len(v) != len(q) {
			continue
		}
		var s float32
		for i := range v {
			s += q[i] * v[i]
		}
		res[w] = vector.Result{ID: r.ID, Score: s}
		w++
	}
	res = res[:w]
	sort.Slice(res, func(i, j int) bool {
		if res[i].Score != res[j].Score {
			return res[i].Score > res[j].Score
		}
		return res[i].ID < res[j].ID
	})
	return res[:min(k, len(res))], nil
}

func (x *ivfIndex) Len() int {
	if x.ivf != nil {
		return x.ivf.Len()
	}
	return x.buf.Len()
}

func (x *ivfIndex) Stats() vector.Stats {
	if x.ivf != nil {
		return x.ivf.Stats()
	}
	return x.buf.Stats()
}

func (x *ivfIndex) Compact()         {}
func (x *ivfIndex) persistent() bool { return true }

// WriteTo writes a tag byte, then either the untrained table (tag 0: count,
// then id and float32s per vector, then a CRC-32C of those bytes) or the
// IVF in its own format (tag 1).
func (x *ivfIndex) WriteTo(w io.Writer) (int64, error) {
	if x.ivf != nil {
		if _, err := w.Write([]byte{1}); err != nil {
			return 0, err
		}
		n, err := x.ivf.WriteTo(w)
		return n + 1, err
	}
	crc := crc32.New(castagnoli)
	bw := bufio.NewWriter(io.MultiWriter(w, crc))
	bw.WriteByte(0)
	var b [4]byte
	binary.LittleEndian.PutUint32(b[:], uint32(x.buf.Len()))
	bw.Write(b[:])
	x.buf.All(func(id uint32, v []float32) {
		binary.LittleEndian.PutUint32(b[:], id)
		bw.Write(b[:])
		for _, f := range v {
			binary.LittleEndian.PutUint32(b[:], math.Float32bits(f))
			bw.Write(b[:])
		}
	})
	if err := bw.Flush(); err != nil {
		return 0, err
	}
	binary.LittleEndian.PutUint32(b[:], crc.Sum32())
	_, err := w.Write(b[:])
	return 0, err
}

// readIVFIndex reads what ivfIndex.WriteTo wrote.
func readIVFIndex(c VectorConfig, dim int, r io.Reader, full vector.FullFunc) (annIndex, error) {
	x := newIVFIndex(c, dim, full)
	var tag [1]byte
	if _, err := io.ReadFull(r, tag[:]); err != nil {
		return nil, err
	}
	switch tag[0] {
	case 1:
		ivf, err := vector.ReadIVF(r)
		if err != nil {
			return nil, err
		}
		x.ivf, x.buf = ivf, nil
		return x, nil
	case 0:
	default:
		return nil, fmt.Errorf("%w: ivf tag %d", errSnapshot, tag[0])
	}
	crc := crc32.New(castagnoli)
	crc.Write(tag[:])
	tr := io.TeeReader(r, crc)
	var b [4]byte
	if _, err := io.ReadFull(tr, b[:]); err != nil {
		return nil, err
	}
	n := binary.LittleEndian.Uint32(b[:])
	if n > 1<<26 {
		return nil, fmt.Errorf("%w: ivf buffer of %d vectors", errSnapshot, n)
	}
	raw := make([]byte, 4+4*dim)
	for i := uint32(0); i < n; i++ {
		if _, err := io.ReadFull(tr, raw); err != nil {
			return nil, err
		}
		v, err := decodeVector(raw[4:], dim)
		if err != nil {
			return nil, err
		}
		x.buf.Add(binary.LittleEndian.Uint32(raw), v)
	}
	if _, err := io.ReadFull(r, b[:]); err != nil || binary.LittleEndian.Uint32(b[:]) != crc.Sum32() {
		return nil, fmt.Errorf("%w: ivf buffer checksum mismatch", errSnapshot)
	}
	return x, nil
}
