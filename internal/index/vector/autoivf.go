package vector

import (
	"bufio"
	"encoding/binary"
	"fmt"
	"hash/crc32"
	"io"
	"math"
	"sort"
)

// AutoIVF is an IVF that trains itself: until it holds TrainAt vectors
// they sit in a Flat table (searched exactly); then its owner trains the
// IVF on all of them (k-means, once: TrainDue, Trained, Install, so that
// k-means can run without the owner's write lock) and later vectors go to
// their nearest cell of those centroids. With int8 codes the IVF's scores
// are approximate, so the best candidates are rescored with the float32
// vectors Full serves. Not safe for concurrent use with writes; the owner
// locks (Trained only reads, so searches may run meanwhile).
type AutoIVF struct {
	cfg  IVFConfig
	buf  *Flat // before training
	ivf  *IVF  // after training; nil before
	full FullFunc
}

var _ Index = (*AutoIVF)(nil)

// trainPer is how many vectors per cell the IVF is trained on.
const trainPer = 16

// NewAutoIVF returns an empty, untrained index (zero NList and NProbe take
// their defaults). full serves float32 vectors to rescore int8 candidates;
// nil: no rescoring.
func NewAutoIVF(cfg IVFConfig, full FullFunc) *AutoIVF {
	if cfg.NList == 0 {
		cfg.NList = DefaultNList
	}
	if cfg.NProbe == 0 {
		cfg.NProbe = min(DefaultNProbe, cfg.NList)
	}
	return &AutoIVF{cfg: cfg, buf: NewFlat(cfg.Dim), full: full}
}

// TrainAt is the number of vectors that makes training due.
func (x *AutoIVF) TrainAt() int { return max(trainPer*x.cfg.NList, 1024) }

// IsTrained reports whether the IVF has been trained and installed.
func (x *AutoIVF) IsTrained() bool { return x.ivf != nil }

// Add buffers v until the IVF is trained, then adds it to its cell. It
// does not train (see TrainDue).
func (x *AutoIVF) Add(id uint32, v []float32) error {
	if x.ivf != nil {
		return x.ivf.Add(id, v)
	}
	return x.buf.Add(id, v)
}

// TrainDue reports whether enough vectors are buffered to train the IVF.
func (x *AutoIVF) TrainDue() bool { return x.ivf == nil && x.buf.Len() >= x.TrainAt() }

// Install replaces the buffer by ivf, built by Trained from its contents
// (no write may have come between).
func (x *AutoIVF) Install(ivf *IVF) { x.ivf, x.buf = ivf, nil }

// Trained builds an IVF from the buffered vectors: k-means on them, then
// each into its cell. It only reads x.
func (x *AutoIVF) Trained() (*IVF, error) {
	ivf, err := NewIVF(x.cfg)
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

// Delete drops id and reports whether it was there.
func (x *AutoIVF) Delete(id uint32) bool {
	if x.ivf != nil {
		return x.ivf.Delete(id)
	}
	return x.buf.Delete(id)
}

// Search scans the buffer exactly before training; after, it probes
// nprobe cells (0: the default, capped at NList) and, with int8 codes and
// Full, rescores the best max(4k, 40) candidates in float32.
func (x *AutoIVF) Search(q []float32, k, nprobe int, accept func(uint32) bool) ([]Result, error) {
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
		res[w] = Result{ID: r.ID, Score: s}
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

// Len is the number of vectors held.
func (x *AutoIVF) Len() int {
	if x.ivf != nil {
		return x.ivf.Len()
	}
	return x.buf.Len()
}

// Stats describes the IVF, or the buffer before training.
func (x *AutoIVF) Stats() Stats {
	if x.ivf != nil {
		return x.ivf.Stats()
	}
	return x.buf.Stats()
}

// WriteTo writes a tag byte, then either the untrained table (tag 0: count,
// then id and float32s per vector, then a CRC-32C of those bytes) or the
// IVF in its own format (tag 1).
func (x *AutoIVF) WriteTo(w io.Writer) (int64, error) {
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

// ReadAutoIVF reads what AutoIVF.WriteTo wrote, for an index configured
// as cfg (Dim must match the writer's). Errors wrap ErrCorrupt, or the
// reader's.
func ReadAutoIVF(cfg IVFConfig, r io.Reader, full FullFunc) (*AutoIVF, error) {
	x := NewAutoIVF(cfg, full)
	var tag [1]byte
	if _, err := io.ReadFull(r, tag[:]); err != nil {
		return nil, err
	}
	switch tag[0] {
	case 1:
		ivf, err := ReadIVF(r)
		if err != nil {
			return nil, err
		}
		x.ivf, x.buf = ivf, nil
		return x, nil
	case 0:
	default:
		return nil, fmt.Errorf("%w: ivf tag %d", ErrCorrupt, tag[0])
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
		return nil, fmt.Errorf("%w: ivf buffer of %d vectors", ErrCorrupt, n)
	}
	// Check the checksum before adding: a damaged id would size the table.
	dim := cfg.Dim
	raw := make([]byte, 4+4*dim)
	ids := make([]uint32, 0, min(n, 1<<16))
	var vecs [][]float32
	for i := uint32(0); i < n; i++ {
		if _, err := io.ReadFull(tr, raw); err != nil {
			return nil, err
		}
		v := make([]float32, dim)
		for j := range v {
			v[j] = math.Float32frombits(binary.LittleEndian.Uint32(raw[4+4*j:]))
		}
		ids, vecs = append(ids, binary.LittleEndian.Uint32(raw)), append(vecs, v)
	}
	if _, err := io.ReadFull(r, b[:]); err != nil || binary.LittleEndian.Uint32(b[:]) != crc.Sum32() {
		return nil, fmt.Errorf("%w: ivf buffer checksum mismatch", ErrCorrupt)
	}
	for i, id := range ids {
		if id >= 1<<28 {
			return nil, fmt.Errorf("%w: ivf buffer id %d", ErrCorrupt, id)
		}
		x.buf.Add(id, vecs[i])
	}
	return x, nil
}
