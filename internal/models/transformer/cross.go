package transformer

import (
	"context"
	"fmt"
	"math"

	"github.com/quarry-rag/quarry/internal/kernels"
	"github.com/quarry-rag/quarry/internal/models/weights"
)

// CrossEncoder scores (query, passage) pairs with a sequence-classification
// head on the first token's state: logits = W_out·tanh(W_dense·h[0]+b)+b.
// That is BertForSequenceClassification (bert.pooler.dense + classifier) and
// XLMRobertaForSequenceClassification (classifier.dense +
// classifier.out_proj) alike. Safe for concurrent use; Close it when done.
type CrossEncoder struct {
	enc          *Encoder
	denseW, outW []float32 // [H,H], [labels,H]
	denseB, outB []float32
	labels       int
}

// headNames are the (dense, out) tensor name pairs of known heads.
var headNames = [][2]string{
	{"pooler.dense", "classifier"},              // BERT (pooler lives under the bert. prefix)
	{"classifier.dense", "classifier.out_proj"}, // RoBERTa / XLM-R
}

// LoadCrossEncoder reads a sequence-classification model folder
// (config.json + model.safetensors with a classification head). Reranking
// with it is one line once the weights are at hand:
//
//	ce, err := transformer.LoadCrossEncoder(dir, nil)
func LoadCrossEncoder(dir string, opts *Options) (*CrossEncoder, error) {
	c := &CrossEncoder{}
	enc, err := load(dir, opts, func(src tensorSource, m *model) error {
		H := m.cfg.HiddenSize
		for _, hn := range headNames {
			dense := hn[0]
			if dense == "pooler.dense" {
				dense = m.prefix + dense
			}
			if _, ok := src.Info(dense + ".weight"); !ok {
				continue
			}
			info, ok := src.Info(hn[1] + ".weight")
			if !ok || len(info.Shape) != 2 || info.Shape[1] != H || info.Shape[0] < 1 {
				return fmt.Errorf("%w: classification head %q missing or misshapen (%v)", weights.ErrNotFound, hn[1]+".weight", info.Shape)
			}
			c.labels = info.Shape[0]
			l := &loader{src: src}
			c.denseW = l.get(dense+".weight", H, H)
			c.denseB = l.get(dense+".bias", H)
			c.outW = l.get(hn[1]+".weight", c.labels, H)
			c.outB = l.get(hn[1]+".bias", c.labels)
			return l.err
		}
		return fmt.Errorf("transformer: no sequence-classification head (pooler.dense or classifier.dense): %w", weights.ErrNotFound)
	})
	if err != nil {
		return nil, err
	}
	c.enc = enc
	return c, nil
}

// Labels is the number of classifier outputs.
func (c *CrossEncoder) Labels() int { return c.labels }

// MaxLen is the longest pair, in tokens, fed to the model.
func (c *CrossEncoder) MaxLen() int { return c.enc.MaxLen() }

// Close releases the encoder's own worker pool.
func (c *CrossEncoder) Close() error { return c.enc.Close() }

// Logits returns the classifier outputs for each pair. Each Input is the
// tokenizer's pair encoding ([CLS] q [SEP] p [SEP] or <s> q </s></s> p </s>)
// with its token type ids (nil for models without segment embeddings).
func (c *CrossEncoder) Logits(ctx context.Context, pairs []Input) ([][]float32, error) {
	H := c.enc.cfg.HiddenSize
	out := rows(len(pairs), c.labels)
	err := c.enc.run(ctx, pairs, func(ws *workspace, bt *batch, b, i int) {
		out := out[i]
		h := ws.x[bt.start[b]*H : bt.start[b]*H+H]
		pooled := make([]float32, H)
		for j := range pooled {
			v := kernels.Dot(c.denseW[j*H:(j+1)*H], h) + c.denseB[j]
			pooled[j] = float32(math.Tanh(float64(v)))
		}
		for j := range out {
			out[j] = kernels.Dot(c.outW[j*H:(j+1)*H], pooled) + c.outB[j]
		}
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// Score returns one relevance score per pair: the logit for a one-label
// head (ms-marco style rerankers), otherwise the softmax probability of the
// last label.
func (c *CrossEncoder) Score(ctx context.Context, pairs []Input) ([]float32, error) {
	logits, err := c.Logits(ctx, pairs)
	if err != nil {
		return nil, err
	}
	s := make([]float32, len(logits))
	for i, l := range logits {
		if len(l) == 1 {
			s[i] = l[0]
			continue
		}
		kernels.Softmax(l)
		s[i] = l[len(l)-1]
	}
	return s, nil
}
