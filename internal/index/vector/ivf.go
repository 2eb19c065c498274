package vector

import (
	"fmt"
	"math/rand"
	"runtime"
	"sync"
	"sync/atomic"

	"github.com/quarry-rag/quarry/internal/kernels"
)

// IVFConfig configures an IVF-Flat index. Zero fields take the documented
// defaults in NewIVF.
type IVFConfig struct {
	Dim    int    // required, 1..65536
	Metric Metric // default Dot
	NList  int    // number of k-means cells; default 256, 1..65536
	NProbe int    // default cells scanned per search; default 8, 1..NList
	// Quantize "" stores float32 vectors; "int8" stores per-vector int8
	// codes only (4× smaller) and returns approximate scores.
	Quantize Quantization
	Seed     int64
	// Iterations caps the Lloyd iterations of Train (it stops earlier when
	// no assignment changes); default 10, FAISS's for IVF training, 1..1000.
	// Training only: not persisted.
	Iterations int
}

func (c *IVFConfig) ensureDefaults() {
	if c.NList == 0 {
		c.NList = DefaultNList
	}
	if c.Iterations == 0 {
		c.Iterations = 10
	}
	if c.NProbe == 0 {
		c.NProbe = min(DefaultNProbe, c.NList)
	}
}

// Validate reports a config that NewIVF would reject (after defaults).
func (c IVFConfig) Validate() error {
	c.ensureDefaults()
	switch {
	case c.Dim < 1 || c.Dim > maxDim:
		return fmt.Errorf("%w: Dim %d out of range 1..%d", ErrConfig, c.Dim, maxDim)
	case c.Metric > L2:
		return fmt.Errorf("%w: unknown Metric %d", ErrConfig, c.Metric)
	case c.NList < 1 || c.NList > 65536:
		return fmt.Errorf("%w: NList %d out of range 1..65536", ErrConfig, c.NList)
	case c.NProbe < 1 || c.NProbe > c.NList:
		return fmt.Errorf("%w: NProbe %d out of range 1..NList(%d)", ErrConfig, c.NProbe, c.NList)
	case c.Quantize != QuantNone && c.Quantize != QuantInt8:
		return fmt.Errorf("%w: Quantize %q not supported (want \"\" or \"int8\")", ErrConfig, c.Quantize)
	case c.Iterations < 1 || c.Iterations > 1000:
		return fmt.Errorf("%w: Iterations %d out of range 1..1000", ErrConfig, c.Iterations)
	}
	return nil
}

// ivfList is one inverted list; slot j holds ids[j] and its vector or code.
type ivfList struct {
	ids   []uint32
	vecs  []float32 // float32 mode
	codes []int8    // int8 mode
	meta  []float32 // int8 mode, metaStride per vector
}

type ivfLoc struct{ list, pos uint32 }

// IVF is an inverted-file index over k-means cells with exact (flat) or
// int8 vectors inside each cell. Train it on a sample before adding. Safe
// for concurrent use: one RWMutex (searches share it, writes are
// exclusive).
type IVF struct {
	cfg   IVFConfig
	quant bool
	mu    sync.RWMutex
	// mu protects the fields below.
	centroids []float32 // NList·Dim, nil until trained
	lists     []ivfList
	where     map[uint32]ivfLoc
}

// NewIVF returns an untrained, empty IVF index.
func NewIVF(cfg IVFConfig) (*IVF, error) {
	cfg.ensureDefaults()
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	return &IVF{cfg: cfg, quant: cfg.Quantize == QuantInt8, lists: make([]ivfList, cfg.NList), where: map[uint32]ivfLoc{}}, nil
}

// Trained reports whether Train has run.
func (x *IVF) Trained() bool { x.mu.RLock(); defer x.mu.RUnlock(); return x.centroids != nil }

// Train learns the NList centroids from sample (at least NList vectors)
// with k-means: distinct random seeds, then up to Iterations Lloyd
// iterations; a cell left empty is re-seeded with a random sample vector.
// The assignment step is a matrix product (blocks of points times the
// packed centroids, kernels.MatMulPacked) split over GOMAXPROCS workers:
// one pass over the centroids per block of points instead of one per point. For Dot and Cosine the centroids are normalised (spherical
// k-means). Train must run before Add, on an empty index.
func (x *IVF) Train(sample [][]float32) error {
	d, k := x.cfg.Dim, x.cfg.NList
	if len(sample) < k {
		return fmt.Errorf("%w: Train needs at least NList=%d vectors, got %d", ErrConfig, k, len(sample))
	}
	pts := make([]float32, len(sample)*d)
	for i, v := range sample {
		if _, err := prep(pts[i*d:i*d], v, d, x.cfg.Metric); err != nil {
			return fmt.Errorf("vector: train sample %d: %w", i, err)
		}
	}
	x.mu.Lock()
	defer x.mu.Unlock()
	if len(x.where) > 0 {
		return fmt.Errorf("%w: Train on a non-empty IVF index", ErrConfig)
	}
	n := len(sample)
	r := rand.New(rand.NewSource(x.cfg.Seed))
	cent := make([]float32, k*d)
	for c, p := range r.Perm(n)[:k] {
		copy(cent[c*d:(c+1)*d], pts[p*d:(p+1)*d])
	}
	assign := make([]int32, n)
	var packed kernels.Packed
	half := make([]float32, k) // |c|²/2 for L2
	for iter := 0; iter < x.cfg.Iterations; iter++ {
		packed.PackBT(cent, d, k, d)
		if x.cfg.Metric == L2 {
			for c := range k {
				cv := cent[c*d : (c+1)*d]
				half[c] = kernels.Dot(cv, cv) / 2
			}
		}
		changed := assignBlocks(pts, d, n, &packed, half, assign, iter == 0)
		if changed == 0 {
			break
		}
		clear(cent)
		cnt := make([]int, k)
		for i, a := range assign {
			cnt[a]++
			c := cent[int(a)*d : int(a+1)*d]
			for j, v := range pts[i*d : (i+1)*d] {
				c[j] += v
			}
		}
		for c := range k {
			cv := cent[c*d : (c+1)*d]
			if cnt[c] == 0 {
				p := r.Intn(n)
				copy(cv, pts[p*d:(p+1)*d])
				continue
			}
			inv := 1 / float32(cnt[c])
			for j := range cv {
				cv[j] *= inv
			}
			if x.cfg.Metric != L2 {
				normalize(cv)
			}
		}
	}
	x.centroids = cent
	return nil
}

// assignBlocks sets assign[i] to the centroid nearest point i (the one
// maximising p·c − half[c]: half is zero for Dot and Cosine, whose
// centroids are normalised, and |c|²/2 for L2) and returns how many
// assignments changed (all, when first).
func assignBlocks(pts []float32, d, n int, packed *kernels.Packed, half []float32, assign []int32, first bool) int64 {
	const block = 16 * kernels.MR // rows of points per matrix product
	k := packed.N
	workers := max(1, min(runtime.GOMAXPROCS(0), (n+block-1)/block))
	var changed atomic.Int64
	var next atomic.Int64
	var wg sync.WaitGroup
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			scores := make([]float32, block*k)
			ch := int64(0)
			for {
				lo := int(next.Add(block)) - block
				if lo >= n {
					break
				}
				rows := min(block, n-lo)
				kernels.MatMulPacked(nil, scores, k, pts[lo*d:], d, rows, packed)
				for r := range rows {
					row := scores[r*k : (r+1)*k]
					best, bs := 0, float32(-inf32)
					for c, s := range row {
						if s -= half[c]; s > bs {
							best, bs = c, s
						}
					}
					if int32(best) != assign[lo+r] || first {
						ch++
					}
					assign[lo+r] = int32(best)
				}
			}
			changed.Add(ch)
		}()
	}
	wg.Wait()
	return changed.Load()
}

func nearestCentroid(m Metric, cent []float32, d int, v []float32) int {
	best, bd := 0, float32(inf32)
	for c := 0; c*d < len(cent); c++ {
		if dd := fdist(m, v, cent[c*d:(c+1)*d]); dd < bd {
			best, bd = c, dd
		}
	}
	return best
}

// Add inserts v under id into its nearest cell, replacing an existing id.
func (x *IVF) Add(id uint32, v []float32) error {
	vec, err := prep(nil, v, x.cfg.Dim, x.cfg.Metric)
	if err != nil {
		return fmt.Errorf("vector: add id %d: %w", id, err)
	}
	x.mu.Lock()
	defer x.mu.Unlock()
	if x.centroids == nil {
		return fmt.Errorf("%w: IVF Add before Train", ErrConfig)
	}
	x.deleteLocked(id)
	c := nearestCentroid(x.cfg.Metric, x.centroids, x.cfg.Dim, vec)
	l := &x.lists[c]
	x.where[id] = ivfLoc{uint32(c), uint32(len(l.ids))}
	l.ids = append(l.ids, id)
	if x.quant {
		d := x.cfg.Dim
		l.codes = append(l.codes, make([]int8, d)...)
		l.meta = append(l.meta, make([]float32, metaStride)...)
		p := len(l.ids) - 1
		quantize(l.codes[p*d:], l.meta[p*metaStride:], vec)
	} else {
		l.vecs = append(l.vecs, vec...)
	}
	return nil
}

// Delete removes id. Reports whether it was present.
func (x *IVF) Delete(id uint32) bool {
	x.mu.Lock()
	defer x.mu.Unlock()
	return x.deleteLocked(id)
}

// deleteLocked swap-removes id from its list.
func (x *IVF) deleteLocked(id uint32) bool {
	at, ok := x.where[id]
	if !ok {
		return false
	}
	delete(x.where, id)
	l := &x.lists[at.list]
	last := len(l.ids) - 1
	p, d := int(at.pos), x.cfg.Dim
	if p != last {
		l.ids[p] = l.ids[last]
		x.where[l.ids[p]] = ivfLoc{at.list, uint32(p)}
		if x.quant {
			copy(l.codes[p*d:(p+1)*d], l.codes[last*d:])
			copy(l.meta[p*metaStride:(p+1)*metaStride], l.meta[last*metaStride:])
		} else {
			copy(l.vecs[p*d:(p+1)*d], l.vecs[last*d:])
		}
	}
	l.ids = l.ids[:last]
	if x.quant {
		l.codes, l.meta = l.codes[:last*d], l.meta[:last*metaStride]
	} else {
		l.vecs = l.vecs[:last*d]
	}
	return true
}

// Len is the number of vectors.
func (x *IVF) Len() int { x.mu.RLock(); defer x.mu.RUnlock(); return len(x.where) }

// Search scans the nprobe cells nearest to q (0 = IVFConfig.NProbe) and
// returns the k best ids admitted by accept (nil admits all), best first.
// With a filter the number of cells is scaled up by 1/selectivity (the
// fraction of vectors admitted, estimated from the first cells), so
// selective filters approach an exact scan.
func (x *IVF) Search(q []float32, k, nprobe int, accept func(id uint32) bool) ([]Result, error) {
	if k < 1 || k > maxK {
		return nil, fmt.Errorf("%w: k %d out of range 1..%d", ErrConfig, k, maxK)
	}
	if nprobe < 0 || nprobe > x.cfg.NList {
		return nil, fmt.Errorf("%w: nprobe %d out of range 0..NList(%d)", ErrConfig, nprobe, x.cfg.NList)
	}
	qv, err := prep(nil, q, x.cfg.Dim, x.cfg.Metric)
	if err != nil {
		return nil, fmt.Errorf("vector: search: %w", err)
	}
	if nprobe == 0 {
		nprobe = x.cfg.NProbe
	}
	x.mu.RLock()
	defer x.mu.RUnlock()
	if x.centroids == nil || len(x.where) == 0 {
		return nil, nil
	}
	d := x.cfg.Dim
	sc := ivfScratchPool.Get().(*ivfScratch)
	defer ivfScratchPool.Put(sc)
	sc.dist = sc.dist[:0]
	for c := range x.cfg.NList {
		sc.dist = append(sc.dist, item{fdist(x.cfg.Metric, qv, x.centroids[c*d:(c+1)*d]), uint32(c)})
	}
	cells := nearest(sc, nprobe)
	var qq query
	qq.set(qv)
	var res maxHeap
	seen, admitted := 0, 0
	for ci, probe := 0, nprobe; ci < x.cfg.NList && ci < probe; ci++ {
		if ci == len(cells) {
			// A selective filter widened the probe: rank the cells not
			// yet scanned (by id, so ties cannot scan a cell twice).
			cells = widen(sc, cells)
		}
		l := &x.lists[cells[ci].i]
		for p, id := range l.ids {
			seen++
			if accept != nil && !accept(id) {
				continue
			}
			admitted++
			var dd float32
			if x.quant {
				dd = qdist(x.cfg.Metric, &qq, l.codes[p*d:(p+1)*d], l.meta[p*metaStride:(p+1)*metaStride])
			} else {
				dd = fdist(x.cfg.Metric, qv, l.vecs[p*d:(p+1)*d])
			}
			if len(res) < k {
				res.push(item{dd, id})
			} else if dd < res[0].d {
				res.replaceTop(item{dd, id})
			}
		}
		if accept != nil && ci == nprobe-1 && seen > 0 {
			sel := max(float64(admitted)/float64(seen), 1/float64(len(x.where)))
			probe = min(x.cfg.NList, int(float64(nprobe)/sel)+1)
		}
	}
	c := drainAsc(&res, nil)
	out := make([]Result, len(c))
	for j, it := range c {
		out[j] = Result{ID: it.i, Score: -it.d}
	}
	return out, nil
}

// ivfScratch holds a search's centroid distances and selection heap.
type ivfScratch struct {
	dist []item
	heap maxHeap
	best []item
}

var ivfScratchPool = sync.Pool{New: func() any { return new(ivfScratch) }}

// nearest returns the p items of sc.dist with the smallest distances,
// nearest first, from a bounded max-heap: n·log p instead of the full sort
// that cost a third of a search at small nprobe. sc.dist is left unordered.
func nearest(sc *ivfScratch, p int) []item {
	h := sc.heap[:0]
	for _, it := range sc.dist {
		if len(h) < p {
			h.push(it)
		} else if it.d < h[0].d {
			h.replaceTop(it)
		}
	}
	sc.best = drainAsc(&h, sc.best[:0])
	sc.heap = h
	return sc.best
}

// widen returns done followed by every other cell of sc.dist, nearest
// first.
func widen(sc *ivfScratch, done []item) []item {
	seen := make(map[uint32]bool, len(done))
	for _, it := range done {
		seen[it.i] = true
	}
	rest := sc.dist[:0]
	for _, it := range sc.dist {
		if !seen[it.i] {
			rest = append(rest, it)
		}
	}
	sortAsc(rest)
	return append(done, rest...)
}

// Stats reports counts and memory (centroids, lists, id map at 16 bytes
// per entry).
func (x *IVF) Stats() Stats {
	x.mu.RLock()
	defer x.mu.RUnlock()
	b := 4*cap(x.centroids) + 16*len(x.where)
	for _, l := range x.lists {
		b += 4*cap(l.ids) + 4*cap(l.vecs) + cap(l.codes) + 4*cap(l.meta) + 96
	}
	st := Stats{Vectors: len(x.where), Bytes: b, Quantize: x.cfg.Quantize, FullInIndex: !x.quant}
	if n := len(x.where); n > 0 {
		st.BytesPerVector = b / n
	}
	return st
}

var (
	_ Index = (*HNSW)(nil)
	_ Index = (*IVF)(nil)
)
