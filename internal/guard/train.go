package guard

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
)

// Example is one labelled text of a {"text","label"} JSONL file.
type Example struct {
	Text  string `json:"text"`
	Label int    `json:"label"` // 1 = injection
}

// MaxLineBytes bounds one JSONL line ReadJSONL accepts.
const MaxLineBytes = 8 << 20

// ReadJSONL reads {"text","label"} lines (other keys ignored, blank lines
// skipped). A bad line fails with its number.
func ReadJSONL(r io.Reader) ([]Example, error) {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64<<10), MaxLineBytes)
	var out []Example
	line := 0
	for sc.Scan() {
		line++
		b := sc.Bytes()
		if len(b) == 0 || (len(b) == 1 && b[0] == '\r') {
			continue
		}
		var e struct {
			Text  *string `json:"text"`
			Label *int    `json:"label"`
		}
		if err := json.Unmarshal(b, &e); err != nil {
			return nil, fmt.Errorf("line %d: %v", line, err)
		}
		if e.Text == nil || e.Label == nil {
			return nil, fmt.Errorf("line %d: want {\"text\": string, \"label\": 0|1}", line)
		}
		if *e.Label != 0 && *e.Label != 1 {
			return nil, fmt.Errorf("line %d: label %d, want 0 or 1", line, *e.Label)
		}
		out = append(out, Example{Text: *e.Text, Label: *e.Label})
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("line %d: %w", line+1, err)
	}
	return out, nil
}

// Featurize returns the cleaned text the encoder should embed for
// training and the rule features of the text, as the detector computes
// them for a text of one window.
func Featurize(text string) (clean string, feats []float32) {
	n := Normalize(text)
	f := features(n)
	return n.Text, f[:]
}

// NumFeatures is the number of rule features Featurize returns.
const NumFeatures = numFeatures

// TrainOptions configure Train. Zero fields mean their defaults.
type TrainOptions struct {
	Hidden int     // hidden units; 0: a linear head (logistic regression)
	Epochs int     // default 300 (linear, full batch) or 150 (MLP, mini-batches of 64)
	LR     float64 // Adam step; default 0.01 (linear) or 0.002 (MLP)
	L2     float64 // weight decay; default 1e-3
	Seed   uint64  // default 1
}

// Train fits a head on raw inputs (embedding followed by the NumFeatures
// rule features), labels (0/1) and per-example weights. It is
// deterministic for a given Seed.
func Train(x [][]float32, y []int, w []float64, encoder string, dim int, o TrainOptions) (*Head, error) {
	if len(x) == 0 || len(x) != len(y) || len(x) != len(w) {
		return nil, fmt.Errorf("guard: train: %d inputs, %d labels, %d weights", len(x), len(y), len(w))
	}
	in := dim + numFeatures
	for i, r := range x {
		if len(r) != in {
			return nil, fmt.Errorf("guard: train: input %d has %d values, want %d", i, len(r), in)
		}
	}
	if o.Seed == 0 {
		o.Seed = 1
	}
	if o.L2 == 0 {
		o.L2 = 1e-3
	}
	if o.Epochs == 0 {
		o.Epochs = 300
		if o.Hidden > 0 {
			o.Epochs = 150
		}
	}
	if o.LR == 0 {
		o.LR = 0.01
		if o.Hidden > 0 {
			o.LR = 0.002
		}
	}
	h := &Head{Version: HeadVersion, Encoder: encoder, Dim: dim, Features: numFeatures, Hidden: o.Hidden, Threshold: 0.5}
	// Standardise.
	h.Mean = make([]float32, in)
	h.Scale = make([]float32, in)
	var wsum float64
	for _, wi := range w {
		wsum += wi
	}
	for j := 0; j < in; j++ {
		var m, v float64
		for i := range x {
			m += w[i] * float64(x[i][j])
		}
		m /= wsum
		for i := range x {
			d := float64(x[i][j]) - m
			v += w[i] * d * d
		}
		v /= wsum
		h.Mean[j] = float32(m)
		h.Scale[j] = float32(1 / math.Sqrt(v+1e-8))
	}
	xs := make([][]float32, len(x))
	for i := range x {
		xs[i] = h.input(x[i][:dim], [numFeatures]float32(x[i][dim:]), nil)
	}
	rng := rand.New(rand.NewPCG(o.Seed, 0x9e3779b97f4a7c15))
	nParams := in + 1
	if o.Hidden > 0 {
		nParams = o.Hidden*in + o.Hidden + o.Hidden + 1
	}
	p := make([]float64, nParams)
	if o.Hidden > 0 {
		std := math.Sqrt(2 / float64(in))
		for k := 0; k < o.Hidden*in; k++ {
			p[k] = rng.NormFloat64() * std
		}
		std = math.Sqrt(1 / float64(o.Hidden))
		for k := 0; k < o.Hidden; k++ {
			p[o.Hidden*in+o.Hidden+k] = rng.NormFloat64() * std
		}
	}
	adam := newAdam(nParams, o.LR)
	g := make([]float64, nParams)
	order := make([]int, len(xs))
	for i := range order {
		order[i] = i
	}
	batch := len(xs)
	if o.Hidden > 0 {
		batch = 64
	}
	act := make([]float64, o.Hidden)
	for ep := 0; ep < o.Epochs; ep++ {
		if o.Hidden > 0 {
			rng.Shuffle(len(order), func(a, b int) { order[a], order[b] = order[b], order[a] })
		}
		for s := 0; s < len(order); s += batch {
			clear(g)
			var bw float64
			for _, i := range order[s:min(s+batch, len(order))] {
				xi := xs[i]
				bw += w[i]
				if o.Hidden == 0 {
					z := p[in]
					for j, v := range xi {
						z += p[j] * float64(v)
					}
					d := w[i] * (sigmoid(z) - float64(y[i]))
					for j, v := range xi {
						g[j] += d * float64(v)
					}
					g[in] += d
					continue
				}
				H := o.Hidden
				w2 := H*in + H
				z := p[w2+H]
				for k := 0; k < H; k++ {
					a := p[H*in+k]
					row := p[k*in : (k+1)*in]
					for j, v := range xi {
						a += row[j] * float64(v)
					}
					if a < 0 {
						a = 0
					}
					act[k] = a
					z += p[w2+k] * a
				}
				d := w[i] * (sigmoid(z) - float64(y[i]))
				g[w2+H] += d
				for k := 0; k < H; k++ {
					g[w2+k] += d * act[k]
					if act[k] <= 0 {
						continue
					}
					dk := d * p[w2+k]
					g[H*in+k] += dk
					grow := g[k*in : (k+1)*in]
					for j, v := range xi {
						grow[j] += dk * float64(v)
					}
				}
			}
			for k := range g {
				g[k] /= bw
			}
			// weight decay on weights only (not biases)
			if o.Hidden == 0 {
				for j := 0; j < in; j++ {
					g[j] += o.L2 * p[j]
				}
			} else {
				for k := 0; k < o.Hidden*in; k++ {
					g[k] += o.L2 * p[k]
				}
				for k := 0; k < o.Hidden; k++ {
					g[o.Hidden*in+o.Hidden+k] += o.L2 * p[o.Hidden*in+o.Hidden+k]
				}
			}
			adam.step(p, g)
		}
	}
	if o.Hidden == 0 {
		h.W2 = f32(p[:in])
		h.B2 = float32(p[in])
	} else {
		H := o.Hidden
		h.W1 = f32(p[:H*in])
		h.B1 = f32(p[H*in : H*in+H])
		h.W2 = f32(p[H*in+H : H*in+2*H])
		h.B2 = float32(p[H*in+2*H])
	}
	return h, h.validate()
}

// ScoreRaw scores a raw input (embedding followed by the rule features).
func (h *Head) ScoreRaw(x []float32) float64 {
	return sigmoid(h.logit(h.input(x[:h.Dim], [numFeatures]float32(x[h.Dim:]), nil)))
}

func f32(p []float64) []float32 {
	out := make([]float32, len(p))
	for i, v := range p {
		out[i] = float32(v)
	}
	return out
}

type adamState struct {
	m, v []float64
	lr   float64
	t    int
}

func newAdam(n int, lr float64) *adamState {
	return &adamState{m: make([]float64, n), v: make([]float64, n), lr: lr}
}

func (a *adamState) step(p, g []float64) {
	const b1, b2, eps = 0.9, 0.999, 1e-8
	a.t++
	c1 := 1 - math.Pow(b1, float64(a.t))
	c2 := 1 - math.Pow(b2, float64(a.t))
	for k := range p {
		a.m[k] = b1*a.m[k] + (1-b1)*g[k]
		a.v[k] = b2*a.v[k] + (1-b2)*g[k]*g[k]
		p[k] -= a.lr * (a.m[k] / c1) / (math.Sqrt(a.v[k]/c2) + eps)
	}
}

// RulesMatch reports whether one of the rule families matches text once
// normalised: the check that stands in for the detector where its model
// is not loaded (a policy's rules-only path).
func RulesMatch(text string) bool {
	_, f := Featurize(text)
	for _, v := range f[:numRules] {
		if v > 0 {
			return true
		}
	}
	return false
}
