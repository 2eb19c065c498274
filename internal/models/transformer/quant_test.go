package transformer

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/quarry-rag/quarry/internal/kernels"
	"github.com/quarry-rag/quarry/internal/models/weights"
)

// int8Pair loads a model twice, float32 and int8, and returns the int8
// load's log.
func int8Pair(t testing.TB, name string) (f32, i8 *Encoder, log string) {
	t.Helper()
	dir := modelDir(t, name)
	f32, err := Load(dir, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f32.Close() })
	var buf bytes.Buffer
	i8, err = Load(dir, &Options{Quantization: Int8, Logger: slog.New(slog.NewTextHandler(&buf, nil))})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { i8.Close() })
	return f32, i8, buf.String()
}

// TestInt8CosineToFloat32 embeds the parity fixtures (SciFact passages and
// queries) with the real models in float32 and int8: the mean cosine must
// be ≥ 0.99 (the target), and no text below 0.97.
func TestInt8CosineToFloat32(t *testing.T) {
	for _, name := range []string{"all-MiniLM-L6-v2", "multilingual-e5-small"} {
		t.Run(name, func(t *testing.T) {
			f32, i8, log := int8Pair(t, name)
			t.Log(strings.TrimSpace(log))
			if n, total := i8.Int8Layers(); n == 0 || total != 4*f32.Config().NumHiddenLayers {
				t.Fatalf("int8 layers %d of %d", n, total)
			}
			if !strings.Contains(i8.String(), "int8 linear layers") {
				t.Fatalf("String() does not say int8: %s", i8)
			}
			recs := readFixture(t, name)
			ids := make([][]int32, 0, len(recs))
			for _, r := range recs {
				if r.Meta == nil {
					ids = append(ids, r.IDs)
				}
			}
			ctx := context.Background()
			a, err := f32.Embed(ctx, ids)
			if err != nil {
				t.Fatal(err)
			}
			b, err := i8.Embed(ctx, ids)
			if err != nil {
				t.Fatal(err)
			}
			var sum float64
			lo := 1.0
			for i := range a {
				c := cosine(a[i], b[i])
				sum += c
				lo = min(lo, c)
			}
			mean := sum / float64(len(a))
			t.Logf("%s: %d texts, int8 vs float32 cosine mean %.5f min %.5f (kernels %s)", name, len(a), mean, lo, kernels.Implementation())
			if mean < 0.99 || lo < 0.97 {
				t.Fatalf("int8 vs float32 cosine mean %.5f (want ≥ 0.99), min %.5f (want ≥ 0.97)", mean, lo)
			}
		})
	}
}

// TestQuantizeDecisionOutlierColumn: a weight column 1000× the others,
// whose input feature is 1000× smaller (the product unchanged), leaves
// every other weight of each output channel rounding to 0 and the feature
// itself rounding to 0 in every row: the layer must stay float32. The
// same layer without the outlier quantizes well.
func TestQuantizeDecisionOutlierColumn(t *testing.T) {
	r := rand.New(rand.NewPCG(4, 4))
	n, k, rows := 64, 96, 32
	w := make([]float32, n*k)
	x := make([]float32, rows*k)
	for i := range w {
		w[i] = float32(r.NormFloat64() * 0.05)
	}
	for i := range x {
		x[i] = float32(r.NormFloat64())
	}
	decide := func(w, x []float32) (float64, bool) {
		want := make([]float32, rows*n)
		kernels.MatMul(nil, want, x, w, rows, n, k)
		_, e, ok := quantizeDecision(w, n, k, x, want, rows)
		return e, ok
	}
	if e, ok := decide(w, x); !ok || e > 0.03 {
		t.Fatalf("well-behaved layer: relative error %.4f, int8 %v", e, ok)
	}
	const col = 7
	for o := 0; o < n; o++ {
		w[o*k+col] *= 1000
	}
	for r := 0; r < rows; r++ {
		x[r*k+col] /= 1000
	}
	if e, ok := decide(w, x); ok || e < 0.5 {
		t.Fatalf("outlier column: relative error %.4f, int8 %v (want fallback)", e, ok)
	}
}

// TestInt8FallbackPerLayer builds all-MiniLM-L6-v2 with an outlier column
// in layer 2's ffn.output (column ×1000, the matching intermediate unit
// ÷1000): loading it in int8 must keep that one layer float32, say so in
// the log, and still match the float32 model (cosine ≥ 0.99).
func TestInt8FallbackPerLayer(t *testing.T) {
	src := modelDir(t, "all-MiniLM-L6-v2")
	st, err := weights.OpenSafetensors(filepath.Join(src, "model.safetensors"))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	tensors, shapes := map[string][]float32{}, map[string][]int{}
	for _, n := range st.Names() {
		v, err := st.Float32(n)
		if errors.Is(err, weights.ErrDType) {
			continue
		}
		if err != nil {
			t.Fatal(err)
		}
		info, _ := st.Info(n)
		tensors[n], shapes[n] = v, info.Shape
	}
	const col = 7
	out := tensors["encoder.layer.2.output.dense.weight"] // [H, FF]
	FF := shapes["encoder.layer.2.output.dense.weight"][1]
	for o := 0; o < len(out)/FF; o++ {
		out[o*FF+col] *= 1000
	}
	inter := tensors["encoder.layer.2.intermediate.dense.weight"] // [FF, H]
	H := shapes["encoder.layer.2.intermediate.dense.weight"][1]
	for i := 0; i < H; i++ {
		inter[col*H+i] /= 1000
	}
	tensors["encoder.layer.2.intermediate.dense.bias"][col] /= 1000
	dir := t.TempDir()
	writeSafetensors(t, filepath.Join(dir, "model.safetensors"), tensors, shapes)
	for _, f := range []string{"config.json", "modules.json", "sentence_bert_config.json", "1_Pooling/config.json"} {
		b, err := os.ReadFile(filepath.Join(src, f))
		if err != nil {
			continue
		}
		os.MkdirAll(filepath.Dir(filepath.Join(dir, f)), 0o755)
		if err := os.WriteFile(filepath.Join(dir, f), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	f32, err := Load(dir, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer f32.Close()
	var buf bytes.Buffer
	i8, err := Load(dir, &Options{Quantization: Int8, Logger: slog.New(slog.NewTextHandler(&buf, nil))})
	if err != nil {
		t.Fatal(err)
	}
	defer i8.Close()
	log := buf.String()
	t.Log(strings.TrimSpace(log))
	if n, total := i8.Int8Layers(); n != total-1 {
		t.Fatalf("int8 layers %d of %d, want all but one", n, total)
	}
	if !strings.Contains(log, `layer="layer 2 ffn.output"`) || !strings.Contains(log, "level=WARN") {
		t.Fatalf("no warning naming the layer in the log:\n%s", log)
	}
	if i8.m.layers[2].out.q != nil || i8.m.layers[2].out.w == nil {
		t.Fatal("layer 2 ffn.output runs int8")
	}
	recs := readFixture(t, "all-MiniLM-L6-v2")
	var ids [][]int32
	for _, r := range recs[1:41] {
		ids = append(ids, r.IDs)
	}
	ctx := context.Background()
	a, err := f32.Embed(ctx, ids)
	if err != nil {
		t.Fatal(err)
	}
	b, err := i8.Embed(ctx, ids)
	if err != nil {
		t.Fatal(err)
	}
	var sum float64
	for i := range a {
		sum += cosine(a[i], b[i])
	}
	if mean := sum / float64(len(a)); mean < 0.99 {
		t.Fatalf("cosine to float32 %.5f < 0.99", mean)
	} else {
		t.Logf("cosine to float32 of the same model %.5f", mean)
	}
}

func TestParseQuantization(t *testing.T) {
	for s, want := range map[string]Quantization{"": Float32, "float32": Float32, "int8": Int8} {
		if q, err := ParseQuantization(s); err != nil || q != want {
			t.Errorf("%q: %v %v", s, q, err)
		}
	}
	if _, err := ParseQuantization("int4"); !errors.Is(err, ErrConfig) {
		t.Errorf("int4: %v", err)
	}
	if _, err := Load(modelDir(t, "all-MiniLM-L6-v2"), &Options{Quantization: 9}); !errors.Is(err, ErrConfig) {
		t.Errorf("Quantization(9): %v", err)
	}
}

// TestInt8KernelLogLine: the int8 summary names the kernels, and without an
// int8 assembly kernel (the purego build: `go test -tags purego -run
// TestInt8KernelLogLine`) a WARN line says int8 runs the slow exact path.
func TestInt8KernelLogLine(t *testing.T) {
	var buf bytes.Buffer
	enc, err := Load(modelDir(t, "all-MiniLM-L6-v2"), &Options{Quantization: Int8, Logger: slog.New(slog.NewTextHandler(&buf, nil))})
	if err != nil {
		t.Fatal(err)
	}
	defer enc.Close()
	log := buf.String()
	t.Log(strings.TrimSpace(log))
	if !strings.Contains(log, "kernels="+kernels.Implementation()) {
		t.Fatalf("summary does not name the kernels:\n%s", log)
	}
	warned := strings.Contains(log, "without an int8 assembly kernel")
	if warned == kernels.Int8Accelerated() {
		t.Fatalf("kernel warning %v with kernels %s", warned, kernels.Implementation())
	}
	ids := [][]int32{{101, 7592, 2088, 102}} // [CLS] hello world [SEP]
	if _, err := enc.Embed(context.Background(), ids); err != nil {
		t.Fatal(err)
	}
}
