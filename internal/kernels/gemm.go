package kernels

import (
	"fmt"
	"sync"
)

// Tile shape of the matmul micro-kernel: MR rows of A by NR columns of B.
// Implementations with a tall kernel (impl.kernelTall) cover TallMR rows at
// once where they can.
const (
	MR     = 6
	NR     = 16
	TallMR = 16
)

// Cache blocking. kc is the depth of one pass: a packed panel slice
// (kc·NR floats = 24 KiB) stays in L1 while MR-row strips of A stream from L2.
// mc rows × pg panels is one unit of parallel work; mc is a multiple of
// both MR and TallMR.
const (
	kc = 384
	mc = 48
	pg = 8
)

// Packed holds B (N×K) as column panels of NR: panel p stores, for each k,
// the NR values B[p·NR+j][k] contiguously (zero padded past N). Linear
// weights are packed once at load time; attention packs K and V per head
// into reused buffers.
type Packed struct {
	N, K int
	data []float32
}

func (w *Packed) panels() int { return (w.N + NR - 1) / NR }

// reset sizes w for an n×k matrix, reusing its buffer when large enough.
func (w *Packed) reset(n, k int) {
	w.N, w.K = n, k
	sz := ((n + NR - 1) / NR) * NR * k
	if cap(w.data) < sz {
		w.data = make([]float32, sz)
	}
	w.data = w.data[:sz]
}

// Arena is one buffer for a model's packed weights, starting on a 2 MiB
// boundary and advised for transparent huge pages (Linux; elsewhere
// ordinary memory). A batch-1 forward pass (one short query) reads every
// weight once, as a stream: from one huge-page-backed buffer the hardware
// prefetchers are not stopped at every 4 KiB page and the TLB seldom
// misses. Size it with PackedSize, then pack with its PackBT; matrices sit
// in packing order, each on a cache line. An Arena is not safe for
// concurrent packing; the packed matrices are read-only like any other.
type Arena struct {
	buf []float32
	off int
}

// arenaAlign is the alignment of each matrix in an Arena: a cache line.
const arenaAlign = 16

// PackedSize is the number of floats an n×k matrix takes in an Arena.
func PackedSize(n, k int) int {
	sz := ((n + NR - 1) / NR) * NR * k
	return (sz + arenaAlign - 1) &^ (arenaAlign - 1)
}

// NewArena allocates an arena of floats float32 (a sum of PackedSize).
func NewArena(floats int) *Arena { return &Arena{buf: hugeFloats(floats)} }

// PackBT packs b (n×k, row-major) like PackBT, into the arena; when the
// arena is full it falls back to a buffer of its own.
func (ar *Arena) PackBT(b []float32, n, k int) *Packed {
	w := new(Packed)
	if sz := PackedSize(n, k); ar != nil && ar.off+sz <= len(ar.buf) {
		w.data = ar.buf[ar.off : ar.off+sz : ar.off+sz]
		ar.off += sz
	}
	w.PackBT(b, k, n, k)
	return w
}

// Compact moves the packed data of ws (nil entries skipped) into a new
// Arena, in order. After some of an Arena's matrices are dropped (int8
// replaced them), it lets the rest outlive the big buffer. Results do not
// change.
func Compact(ws ...*Packed) {
	total := 0
	for _, w := range ws {
		if w != nil {
			total += PackedSize(w.N, w.K)
		}
	}
	ar := NewArena(total)
	for _, w := range ws {
		if w == nil {
			continue
		}
		n := len(w.data)
		dst := ar.buf[ar.off : ar.off+n : ar.off+n]
		copy(dst, w.data)
		w.data = dst
		ar.off += PackedSize(w.N, w.K)
	}
}

// PackBT packs b, an n×k row-major matrix (a Linear weight [out, in]), for
// C = A·bᵀ.
func PackBT(b []float32, n, k int) *Packed {
	w := new(Packed)
	w.PackBT(b, k, n, k)
	return w
}

// PackBT repacks w from b, an n×k matrix with row stride ldb, for C = A·bᵀ.
func (w *Packed) PackBT(b []float32, ldb, n, k int) {
	if n > 0 && (len(b) < (n-1)*ldb+k || ldb < k) {
		panic(fmt.Sprintf("kernels: PackBT: len(b)=%d too short for %d×%d stride %d", len(b), n, k, ldb))
	}
	w.reset(n, k)
	for p := 0; p < w.panels(); p++ {
		dst := w.data[p*NR*k : (p+1)*NR*k]
		for j := 0; j < NR; j++ {
			col := p*NR + j
			if col >= n {
				for kk := 0; kk < k; kk++ {
					dst[kk*NR+j] = 0
				}
				continue
			}
			src := b[col*ldb : col*ldb+k]
			for kk, v := range src {
				dst[kk*NR+j] = v
			}
		}
	}
}

// PackB repacks w from b, a k×n matrix with row stride ldb, for C = A·b
// (used for attention's P·V).
func (w *Packed) PackB(b []float32, ldb, k, n int) {
	if k > 0 && (len(b) < (k-1)*ldb+n || ldb < n) {
		panic(fmt.Sprintf("kernels: PackB: len(b)=%d too short for %d×%d stride %d", len(b), k, n, ldb))
	}
	w.reset(n, k)
	for p := 0; p < w.panels(); p++ {
		dst := w.data[p*NR*k : (p+1)*NR*k]
		c0 := p * NR
		c1 := min(c0+NR, n)
		for kk := 0; kk < k; kk++ {
			d := dst[kk*NR : kk*NR+NR]
			copy(d, b[kk*ldb+c0:kk*ldb+c1])
			clear(d[c1-c0:])
		}
	}
}

// MatMul computes C = A·Bᵀ for row-major A (m×k), B (n×k) and C (m×n), the
// layout of a Linear layer's weight [out, in]. It packs B on every call; for
// a fixed B, pack once with PackBT and use MatMulPacked.
func MatMul(p *Pool, c, a, b []float32, m, n, k int) {
	if len(a) < m*k || len(b) < n*k || len(c) < m*n {
		panic(fmt.Sprintf("kernels: MatMul: short slices for %d×%d·(%d×%d)ᵀ", m, k, n, k))
	}
	MatMulPacked(p, c, n, a, k, m, PackBT(b, n, k))
}

// MatMulPacked computes C = A·W where A is m×w.K with row stride lda and C is
// m×w.N with row stride ldc. Rows and panels are split over p; a nil p runs
// on the caller.
func MatMulPacked(p *Pool, c []float32, ldc int, a []float32, lda int, m int, w *Packed) {
	n, k := w.N, w.K
	if m == 0 || n == 0 {
		return
	}
	if lda < k || ldc < n || len(a) < (m-1)*lda+k || len(c) < (m-1)*ldc+n {
		panic(fmt.Sprintf("kernels: MatMulPacked: bad shape m=%d n=%d k=%d lda=%d ldc=%d len(a)=%d len(c)=%d",
			m, n, k, lda, ldc, len(a), len(c)))
	}
	if k == 0 {
		for i := 0; i < m; i++ {
			clear(c[i*ldc : i*ldc+n])
		}
		return
	}
	rowBlocks := (m + mc - 1) / mc
	panelGroups := (w.panels() + pg - 1) / pg
	tasks := rowBlocks * panelGroups
	if p.Size() == 1 || tasks == 1 {
		// The same blocks in order, on the caller: mc rows of A stay in
		// cache across pg panels (one gemmBlock over every row would stream
		// all of A once per panel, ~1.6× slower on a whole batch). No
		// closure on this path: attention calls it per head.
		for rb := 0; rb < rowBlocks; rb++ {
			r0, r1 := rb*mc, min(rb*mc+mc, m)
			for g := 0; g < panelGroups; g++ {
				gemmBlock(active, c, ldc, a, lda, w, r0, r1, g*pg, min(g*pg+pg, w.panels()))
			}
		}
		return
	}
	p.ParallelFor(tasks, func(t int) {
		rb, g := t/panelGroups, t%panelGroups
		r0, r1 := rb*mc, min(rb*mc+mc, m)
		p0, p1 := g*pg, min(g*pg+pg, w.panels())
		gemmBlock(active, c, ldc, a, lda, w, r0, r1, p0, p1)
	})
}

// gemmBlock computes rows [r0,r1) × panels [p0,p1) of C with im's kernel.
func gemmBlock(im *impl, c []float32, ldc int, a []float32, lda int, w *Packed, r0, r1, p0, p1 int) {
	if im.kernelTall != nil {
		gemmBlockTall(im, c, ldc, a, lda, w, r0, r1, p0, p1)
		return
	}
	n, k := w.N, w.K
	var es *edgeScratch // only edge tiles need it
	defer func() {
		if es != nil {
			edgePool.Put(es)
		}
	}()
	for k0 := 0; k0 < k; k0 += kc {
		kl := min(kc, k-k0)
		accum := k0 > 0
		for pi := p0; pi < p1; pi++ {
			panel := w.data[pi*NR*k+k0*NR : pi*NR*k+(k0+kl)*NR]
			col := pi * NR
			fullCols := col+NR <= n
			for i := r0; i < r1; {
				rows := min(MR, r1-i)
				i0 := i
				i += MR
				if rows == MR && fullCols {
					im.kernel(kl, a[i0*lda+k0:], lda, panel, c[i0*ldc+col:], ldc, accum)
					continue
				}
				// Edge tile: pad A to MR rows, compute into tile, copy out.
				if es == nil {
					es = edgePool.Get().(*edgeScratch)
				}
				tile, apad := es.tile[:], es.apad[:]
				as, la := a[i0*lda+k0:], lda
				if rows < MR {
					for r := 0; r < MR; r++ {
						d := apad[r*kl : r*kl+kl]
						if r < rows {
							copy(d, a[(i0+r)*lda+k0:(i0+r)*lda+k0+kl])
						} else {
							clear(d)
						}
					}
					as, la = apad, kl
				}
				im.kernel(kl, as, la, panel, tile, NR, false)
				cols := min(NR, n-col)
				for r := 0; r < rows; r++ {
					dst := c[(i0+r)*ldc+col : (i0+r)*ldc+col+cols]
					src := tile[r*NR : r*NR+cols]
					if accum {
						for j := range dst {
							dst[j] += src[j]
						}
					} else {
						copy(dst, src)
					}
				}
			}
		}
	}
}

// gemmBlockTall is gemmBlock for an implementation with a TallMR-row
// kernel, used for every tile: full strips straight from A into C, and the
// last strip of fewer rows (a query shorter than 16 tokens, the tail of a
// batch) through A rows copied once per k block into a zero-padded
// scratch, computed into a tile and copied out; likewise panels past N.
// Padding costs multiply-adds, not memory traffic, and a short batch is
// bound by reading the weights. When the rows fit in one strip, each panel
// is used once, so k is not blocked: the weights are read as one stream
// (which the kernel prefetches) and C is written once.
func gemmBlockTall(im *impl, c []float32, ldc int, a []float32, lda int, w *Packed, r0, r1, p0, p1 int) {
	n, k := w.N, w.K
	kb := kc
	if r1-r0 <= TallMR {
		kb = k
	}
	full := r0 + (r1-r0)/TallMR*TallMR // rows [r0, full) are whole strips
	var ts *tallScratch
	if full < r1 || p1*NR > n {
		ts = tallPool.Get().(*tallScratch)
		defer tallPool.Put(ts)
	}
	for k0 := 0; k0 < k; k0 += kb {
		kl := min(kb, k-k0)
		accum := k0 > 0
		if full < r1 {
			ts.apad = growFloats(ts.apad, TallMR*kl)
			for r := 0; r < TallMR; r++ {
				d := ts.apad[r*kl : (r+1)*kl]
				if full+r < r1 {
					copy(d, a[(full+r)*lda+k0:(full+r)*lda+k0+kl])
				} else {
					clear(d)
				}
			}
		}
		for pi := p0; pi < p1; pi++ {
			panel := w.data[pi*NR*k+k0*NR : pi*NR*k+(k0+kl)*NR]
			col := pi * NR
			cols := min(NR, n-col)
			for i := r0; i < r1; i += TallMR {
				rows := min(TallMR, r1-i)
				if rows == TallMR && cols == NR {
					im.kernelTall(kl, a[i*lda+k0:], lda, panel, c[i*ldc+col:], ldc, accum)
					continue
				}
				as, la := a[i*lda+k0:], lda
				if rows < TallMR {
					as, la = ts.apad, kl
				}
				tile := ts.tile[:]
				im.kernelTall(kl, as, la, panel, tile, NR, false)
				for r := 0; r < rows; r++ {
					dst := c[(i+r)*ldc+col : (i+r)*ldc+col+cols]
					src := tile[r*NR : r*NR+cols]
					if accum {
						for j := range dst {
							dst[j] += src[j]
						}
					} else {
						copy(dst, src)
					}
				}
			}
		}
	}
}

// tallScratch holds gemmBlockTall's padded A rows and output tile.
type tallScratch struct {
	tile [TallMR * NR]float32
	apad []float32
}

var tallPool = sync.Pool{New: func() any { return new(tallScratch) }}

func growFloats(s []float32, n int) []float32 {
	if cap(s) < n {
		return make([]float32, n)
	}
	return s[:n]
}

// edgeScratch holds the padded A rows and the output tile of edge tiles.
// Kept in a pool: as arguments of an indirect call they would escape to the
// heap on every gemmBlock.
type edgeScratch struct {
	tile [MR * NR]float32
	apad [MR * kc]float32
}

var edgePool = sync.Pool{New: func() any { return new(edgeScratch) }}
