package chunk

import (
	"context"
	"errors"
	"fmt"
	"math"
	"slices"

	"github.com/quarry-rag/quarry/internal/base"
	"github.com/quarry-rag/quarry/internal/text"
)

// Embedder embeds texts for the semantic strategy: one vector per text,
// in order, all of one dimension. The chunk package does not depend on the
// embedding package; the caller adapts its model, choosing for instance
// passage rather than query embeddings.
type Embedder interface {
	Embed(ctx context.Context, texts []string) ([][]float32, error)
}

// EmbedFunc adapts a function to Embedder.
type EmbedFunc func(ctx context.Context, texts []string) ([][]float32, error)

// Embed calls f.
func (f EmbedFunc) Embed(ctx context.Context, texts []string) ([][]float32, error) {
	return f(ctx, texts)
}

// ErrEmbedding is wrapped by the semantic chunker's error when the
// embedder returned vectors it cannot use: not one per text, of differing
// dimensions, empty, or with a NaN or an infinite component.
var ErrEmbedding = errors.New("chunk: unusable embeddings")

// alike is the distance below which two gaps count as equal, so that
// rounding does not turn a document whose sentences are all alike into
// one with boundaries.
const alike = 1e-9

// semantic splits each region between sentences at the largest drops in
// similarity, then merges segments too small to stand alone and splits
// those too large with the recursive strategy (whose size and overlap it
// shares).
type semantic struct {
	recursive
	embed      Embedder
	percentile float64 // in (0, 100]
	window     int     // sentences added to each side of a gap, ≥ 0
}

// part is a non-blank region and its sentences (offsets into doc.Text).
type part struct {
	r     region
	sents []text.Span
	// gaps[i] is the semantic distance across the gap between sentences i
	// and i+1 (see setGaps); nil when the region has a single sentence.
	gaps []float64
}

// segment is a run of sentences first..last of a part.
type segment struct {
	first, last int
	tokens      int
}

// Chunk returns the semantic chunks of doc. If ChunkContext fails (the
// embedder returned an error or unusable vectors), Chunk returns the
// recursive strategy's chunks of doc instead; it never panics on such an
// error. Use ChunkContext to see the error.
func (c *semantic) Chunk(doc *base.Document) []base.Chunk {
	cs, err := c.ChunkContext(context.Background(), doc)
	if err != nil {
		return c.recursive.Chunk(doc)
	}
	return cs
}

// ChunkContext embeds the sentences of doc in one call to the embedder
// and returns the semantic chunks. On error it returns no chunks.
func (c *semantic) ChunkContext(ctx context.Context, doc *base.Document) ([]base.Chunk, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if s, e := text.TrimSpan(doc.Text, 0, len(doc.Text)); s == e {
		return nil, nil
	}
	parts, texts := c.sentences(doc)
	if len(texts) > 0 {
		vecs, err := c.embed.Embed(ctx, texts)
		if err == nil {
			err = c.setGaps(parts, vecs, len(texts))
		}
		if err != nil {
			return nil, fmt.Errorf("chunk: semantic: embed %d sentences of %q: %w", len(texts), doc.ID, err)
		}
	}
	threshold, floor := c.cutoff(parts)

	b := &builder{doc: doc, text: doc.Text}
	var segs []segment
	for _, p := range parts {
		b.title = p.r.title
		segs = segments(segs[:0], doc.Text, p, threshold, floor)
		segs = c.mergeSmall(segs, p)
		for _, s := range segs {
			start, end := p.sents[s.first].Start, p.sents[s.last].End
			if countUpTo(b.text[start:end], c.size) <= c.size {
				b.emit(start, end)
			} else {
				c.chunkRange(b, start, end)
			}
		}
	}
	return b.out, nil
}

// sentences returns the non-blank regions of doc with their sentences,
// and the texts to embed: the sentences of the regions with more than one,
// sliced from doc.Text.
func (c *semantic) sentences(doc *base.Document) ([]part, []string) {
	var parts []part
	var texts []string
	for _, r := range regions(doc.Text, doc.Sections) {
		if s, e := text.TrimSpan(doc.Text, r.start, r.end); s == e {
			continue
		}
		sents := text.Sentences(doc.Text[r.start:r.end])
		for i := range sents {
			sents[i].Start += r.start
			sents[i].End += r.start
		}
		parts = append(parts, part{r: r, sents: sents})
		if len(sents) > 1 {
			for _, s := range sents {
				texts = append(texts, doc.Text[s.Start:s.End])
			}
		}
	}
	return parts, texts
}

// setGaps checks the n vectors returned for the sentences and fills the
// gaps of every part with more than one sentence, whose sentences come in
// part order. The gap after sentence i is the cosine distance between the
// sums of the unit vectors of sentences i−window..i and i+1..i+1+window
// (within the part), kept as running sums.
func (c *semantic) setGaps(parts []part, vecs [][]float32, n int) error {
	if len(vecs) != n {
		return fmt.Errorf("%w: %d vectors for %d texts", ErrEmbedding, len(vecs), n)
	}
	if n == 0 {
		return nil
	}
	dim := len(vecs[0])
	scale := make([]float64, n) // 1/‖v‖, 0 for a zero vector
	for i, v := range vecs {
		if len(v) == 0 || len(v) != dim {
			return fmt.Errorf("%w: vector %d has dimension %d, vector 0 %d", ErrEmbedding, i, len(v), dim)
		}
		var sum float64
		for j, x := range v {
			if math.IsNaN(float64(x)) || math.IsInf(float64(x), 0) {
				return fmt.Errorf("%w: vector %d: component %d is %v", ErrEmbedding, i, j, x)
			}
			sum += float64(x) * float64(x)
		}
		if sum > 0 {
			scale[i] = 1 / math.Sqrt(sum)
		}
	}
	left, right := make([]float64, dim), make([]float64, dim)
	add := func(sum []float64, i int, sign float64) {
		f := sign * scale[i]
		for j, x := range vecs[i] {
			sum[j] += f * float64(x)
		}
	}
	k := 0 // index of the part's first sentence in vecs
	for pi := range parts {
		p := &parts[pi]
		m := len(p.sents)
		if m < 2 {
			continue
		}
		clear(left)
		clear(right)
		add(left, k, 1)
		for j := 1; j <= min(1+c.window, m-1); j++ {
			add(right, k+j, 1)
		}
		p.gaps = make([]float64, m-1)
		for i := range p.gaps {
			if i > 0 { // slide both blocks one sentence on
				add(left, k+i, 1)
				if out := i - c.window - 1; out >= 0 {
					add(left, k+out, -1)
				}
				add(right, k+i, -1)
				if in := i + 1 + c.window; in < m {
					add(right, k+in, 1)
				}
			}
			p.gaps[i] = cosineDistance(left, right)
		}
		k += m
	}
	return nil
}

// cosineDistance is 1 − cos(a, b) in [0, 2] for sums of unit vectors. A
// zero vector, or one so short that it is the rounding left by the
// running sums (unit vectors that cancel out), is at distance 1 from
// every vector.
func cosineDistance(a, b []float64) float64 {
	var dot, na, nb float64
	for i := range a {
		dot += a[i] * b[i]
		na += a[i] * a[i]
		nb += b[i] * b[i]
	}
	const tiny = 1e-12 // squared length
	if na < tiny || nb < tiny {
		return 1
	}
	cos := dot / math.Sqrt(na*nb)
	return 1 - min(max(cos, -1), 1)
}

// cutoff returns the distance at the break percentile of all gaps of the
// document and the smallest gap plus alike; a gap is a boundary when it is
// at least the first and above the second. With no gaps, no gap is a
// boundary.
func (c *semantic) cutoff(parts []part) (threshold, floor float64) {
	var all []float64
	for _, p := range parts {
		all = append(all, p.gaps...)
	}
	if len(all) == 0 {
		return math.Inf(1), math.Inf(1)
	}
	slices.Sort(all)
	return percentile(all, c.percentile), all[0] + alike
}

// percentile returns the p-th percentile (0 ≤ p ≤ 100) of sorted, a
// non-empty ascending slice, interpolating linearly between the closest
// ranks (numpy's default method).
func percentile(sorted []float64, p float64) float64 {
	r := p / 100 * float64(len(sorted)-1)
	lo := int(r)
	if lo >= len(sorted)-1 {
		return sorted[len(sorted)-1]
	}
	return sorted[lo] + (r-float64(lo))*(sorted[lo+1]-sorted[lo])
}

// segments appends to segs the runs of sentences of p between the
// boundaries, with their token counts (the sums of their sentences').
func segments(segs []segment, doc string, p part, threshold, floor float64) []segment {
	cur := segment{first: 0, last: -1}
	for i, s := range p.sents {
		cur.last = i
		cur.tokens += text.CountTokens(doc[s.Start:s.End])
		if i < len(p.gaps) && p.gaps[i] >= threshold && p.gaps[i] > floor {
			segs = append(segs, cur)
			cur = segment{first: i + 1}
		}
	}
	return append(segs, cur)
}

// mergeSmall joins every segment of fewer than size/8 tokens to a
// neighbour, as long as the two together fit in size: to the neighbour
// across the smaller gap (the earlier on a tie). A joined segment that is
// still small is joined again. One pass, time linear in len(segs); segs is
// reused.
func (c *semantic) mergeSmall(segs []segment, p part) []segment {
	small := c.size / 8
	if small == 0 || len(segs) < 2 {
		return segs
	}
	out := segs[:0] // len(out) < next index read: never overwrites unread
	cur, next := segs[0], 1
	for {
		if cur.tokens < small {
			n := len(out)
			left := n > 0 && out[n-1].tokens+cur.tokens <= c.size
			right := next < len(segs) && cur.tokens+segs[next].tokens <= c.size
			switch {
			case left && (!right || p.gaps[out[n-1].last] <= p.gaps[cur.last]):
				cur = segment{first: out[n-1].first, last: cur.last, tokens: out[n-1].tokens + cur.tokens}
				out = out[:n-1]
				continue
			case right:
				cur = segment{first: cur.first, last: segs[next].last, tokens: cur.tokens + segs[next].tokens}
				next++
				continue
			}
		}
		out = append(out, cur)
		if next == len(segs) {
			return out
		}
		cur = segs[next]
		next++
	}
}
