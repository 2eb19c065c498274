package transformer

import (
	"context"
	"fmt"
	"log/slog"
	"math"
	"math/rand/v2"

	"github.com/quarry-rag/quarry/internal/kernels"
)

// Quantization selects how the encoder's Linear layers compute.
type Quantization uint8

const (
	// Float32 runs every layer in float32 (the default).
	Float32 Quantization = iota
	// Int8 runs the Linear layers (Q/K/V, attention output, both
	// feed-forward matmuls) with int8 weights (per output channel) and
	// int8 activations (per row, quantized on the fly); attention,
	// softmax, LayerNorm and GELU stay float32. A layer whose int8 output
	// strays from float32 by more than MaxInt8Error on the calibration
	// batch stays float32 (logged).
	Int8
)

// String is the setting's name in configuration ("float32", "int8").
func (q Quantization) String() string {
	switch q {
	case Float32:
		return "float32"
	case Int8:
		return "int8"
	}
	return fmt.Sprintf("Quantization(%d)", uint8(q))
}

// ParseQuantization reads "float32" (or "") and "int8".
func ParseQuantization(s string) (Quantization, error) {
	switch s {
	case "", "float32", "none":
		return Float32, nil
	case "int8":
		return Int8, nil
	}
	return 0, fmt.Errorf("%w: quantization %q (want float32 or int8)", ErrConfig, s)
}

// MaxInt8Error is the largest relative error ‖Y_int8 − Y_f32‖/‖Y_f32‖ of
// one Linear layer on the calibration batch for which it runs in int8.
// all-MiniLM-L6-v2's layers measure at most 2.8%, multilingual-e5-small's
// 3.9% (per-row activation scales, per-channel weight scales); a layer
// with an outlier input column measures ~100%.
const MaxInt8Error = 0.10

// calibration returns the default calibration batch: seeded random token
// ids (the same every load), 4 sequences of 48 tokens.
func calibration(cfg *Config) [][]int32 {
	r := rand.New(rand.NewPCG(19, 8))
	seqs := make([][]int32, 4)
	for i := range seqs {
		s := make([]int32, 48)
		for j := range s {
			s[j] = int32(r.IntN(cfg.VocabSize))
		}
		seqs[i] = s
	}
	return seqs
}

// apply runs lin over rows of in into out and reports whether the caller
// must still add the bias (the float32 path; int8 folds it in).
func (m *model) apply(p *kernels.Pool, ws *workspace, lin *linear, out, in []float32, rows int) bool {
	if lin.q != nil {
		ws.qa.Quantize(p, in, lin.q.K, rows, lin.q.K)
		kernels.MatMulQ(p, out, lin.q.N, &ws.qa, lin.q)
		return false
	}
	n, k := lin.w.N, lin.w.K
	kernels.MatMulPacked(p, out, n, in, k, rows, lin.w)
	if m.probe != nil {
		m.probe(lin, in[:rows*k], out[:rows*n], rows)
	}
	return true
}

// int8Error is the relative error of q against the float32 product want
// (rows × q.N, no bias) on the input rows in (rows × q.K).
func int8Error(q *kernels.QPacked, in, want []float32, rows int) float64 {
	var a kernels.QActs
	a.Quantize(nil, in, q.K, rows, q.K)
	got := make([]float32, rows*q.N)
	kernels.MatMulQ(nil, got, q.N, &a, q)
	var num, den float64
	for i, w := range want {
		d := float64(got[i] - w)
		num += d * d
		den += float64(w) * float64(w)
	}
	if den == 0 {
		if num == 0 {
			return 0
		}
		return math.Inf(1)
	}
	return math.Sqrt(num / den)
}

// quantizeDecision quantizes a float32 layer's weights (n×k) and measures
// its error on the calibration rows; ok reports whether it may run in int8.
func quantizeDecision(raw []float32, n, k int, in, want []float32, rows int) (q *kernels.QPacked, relErr float64, ok bool) {
	q = kernels.QuantizeBT(raw, nil, n, k)
	relErr = int8Error(q, in, want, rows)
	return q, relErr, relErr <= MaxInt8Error
}

// quantize switches the model's Linear layers to int8: it runs calib
// through the float32 model, and each layer whose int8 output on its real
// float32 input stays within MaxInt8Error goes int8; the others stay
// float32 with a warning. The raw weights are released either way.
func (m *model) quantize(ctx context.Context, p *kernels.Pool, calib [][]int32, log *slog.Logger) error {
	type verdict struct {
		q   *kernels.QPacked
		err float64
		ok  bool
	}
	verdicts := map[*linear]*verdict{}
	m.probe = func(lin *linear, in, out []float32, rows int) {
		if verdicts[lin] != nil {
			return
		}
		q, e, ok := quantizeDecision(lin.raw, lin.w.N, lin.w.K, in, out, rows)
		verdicts[lin] = &verdict{q, e, ok}
	}
	defer func() { m.probe = nil }()
	var bt batch
	bt.pack(calib, nil)
	// One forward pass: every layer's input is the float32 activation.
	if err := m.forward(ctx, p, &bt, new(workspace)); err != nil {
		return fmt.Errorf("transformer: int8 calibration: %w", err)
	}
	total, kept := 0, 0
	worst, worstName := 0.0, ""
	for li := range m.layers {
		ly := &m.layers[li]
		for _, lin := range []*linear{&ly.qkv, &ly.attnOut, &ly.inter, &ly.out} {
			total++
			v := verdicts[lin]
			lin.raw = nil
			if v == nil {
				continue
			}
			if !v.ok {
				log.Warn("transformer: int8: layer quantizes badly, keeping float32",
					"layer", lin.name, "relative_error", fmt.Sprintf("%.4f", v.err), "limit", MaxInt8Error)
				continue
			}
			v.q.SetBias(lin.bias)
			lin.q, lin.w = v.q, nil
			kept++
			if v.err > worst {
				worst, worstName = v.err, lin.name
			}
		}
	}
	log.Info("transformer: int8 linear layers", "int8", kept, "of", total,
		"max_relative_error", fmt.Sprintf("%.4f", worst), "worst", worstName,
		"kernels", kernels.Implementation())
	if !kernels.Int8Accelerated() {
		log.Warn("transformer: int8 without an int8 assembly kernel (no AVX2, or the purego build): exact results, but much slower than float32",
			"kernels", kernels.Implementation())
	}
	return nil
}

// dropRaw releases the float32 weights kept for quantization.
// compact moves the float32 weights int8 left in use into a buffer of their
// own (kernels.Compact), so that the arena loadModel packed every layer
// into can be freed.
func (m *model) compact() {
	var ws []*kernels.Packed
	for i := range m.layers {
		ly := &m.layers[i]
		ws = append(ws, ly.qkv.w, ly.attnOut.w, ly.inter.w, ly.out.w)
	}
	kernels.Compact(ws...)
}

func (m *model) dropRaw() {
	for i := range m.layers {
		ly := &m.layers[i]
		ly.qkv.raw, ly.attnOut.raw, ly.inter.raw, ly.out.raw = nil, nil, nil, nil
	}
}
