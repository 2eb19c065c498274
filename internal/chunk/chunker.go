package chunk

import (
	"context"
	"iter"

	"github.com/quarry-rag/quarry/internal/base"
	"github.com/quarry-rag/quarry/internal/text"
)

// builder collects the chunks of one document.
type builder struct {
	doc   *base.Document
	text  string
	title string // of the region being chunked
	out   []base.Chunk
}

// emit appends the chunk doc.Text[start:end], trimmed of white space;
// a blank range is dropped. Tokens is counted on the final text, so it is
// exact whatever the strategy's own bookkeeping.
func (b *builder) emit(start, end int) {
	s, e := text.TrimSpan(b.text, start, end)
	if s == e {
		return
	}
	ord := len(b.out)
	b.out = append(b.out, base.Chunk{
		ID:       base.ChunkID(b.doc.ID, ord),
		DocID:    b.doc.ID,
		Ordinal:  ord,
		Text:     b.text[s:e],
		Start:    s,
		End:      e,
		Tokens:   text.CountTokens(b.text[s:e]),
		Section:  b.title,
		Language: b.doc.Language,
	})
}

// chunkDoc runs each over the non-blank regions of doc.
func chunkDoc(doc *base.Document, each func(b *builder, r region)) []base.Chunk {
	if s, e := text.TrimSpan(doc.Text, 0, len(doc.Text)); s == e {
		return nil
	}
	b := &builder{doc: doc, text: doc.Text}
	for _, r := range regions(doc.Text, doc.Sections) {
		if s, e := text.TrimSpan(doc.Text, r.start, r.end); s == e {
			continue
		}
		b.title = r.title
		each(b, r)
	}
	return b.out
}

// fixed cuts windows of size tokens overlapping by overlap tokens. A
// window runs from its first token (the region start for the first
// window) to the first token of the next window (the region end for the
// last), so punctuation between windows is never lost.
type fixed struct{ size, overlap int }

func (f *fixed) Chunk(doc *base.Document) []base.Chunk {
	ring := make([]int, f.size) // starts of the tokens of the current window
	return chunkDoc(doc, func(b *builder, r region) {
		n := f.size
		head, count := 0, 0
		winStart := r.start
		for sp := range text.TokensSeq(b.text[r.start:r.end]) {
			start := r.start + sp.Start
			if count == n {
				b.emit(winStart, start)
				drop := n - f.overlap
				head, count = (head+drop)%n, count-drop
				winStart = start
				if count > 0 {
					winStart = ring[head]
				}
			}
			ring[(head+count)%n] = start
			count++
		}
		b.emit(winStart, r.end)
	})
}

// recursive packs pieces into chunks of up to size tokens: paragraphs
// when they fit, else the paragraph's sentences, else a sentence's words.
type recursive struct{ size, overlap int }

func (c *recursive) Chunk(doc *base.Document) []base.Chunk {
	return chunkDoc(doc, func(b *builder, r region) { c.chunkRange(b, r.start, r.end) })
}

// chunkRange emits the chunks of b.text[start:end], which lies in one
// region.
func (c *recursive) chunkRange(b *builder, start, end int) {
	p := packer{b: b, size: c.size, overlap: c.overlap, start: -1}
	for para := range paragraphs(b.text, start, end) {
		if n := countUpTo(b.text[para.Start:para.End], c.size); n <= c.size {
			p.add(para, n)
			continue
		}
		for s := range text.SentencesSeq(b.text[para.Start:para.End]) {
			s.Start += para.Start
			s.End += para.Start
			if n := countUpTo(b.text[s.Start:s.End], c.size); n <= c.size {
				p.add(s, n)
				continue
			}
			p.words(s)
		}
	}
	p.flush(false)
}

// ChunkContext is Chunk, after checking ctx.
func (f *fixed) ChunkContext(ctx context.Context, doc *base.Document) ([]base.Chunk, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	return f.Chunk(doc), nil
}

// ChunkContext is Chunk, after checking ctx.
func (c *recursive) ChunkContext(ctx context.Context, doc *base.Document) ([]base.Chunk, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	return c.Chunk(doc), nil
}

// packer is the open chunk of the recursive strategy.
type packer struct {
	b             *builder
	size, overlap int

	start, end int // the open chunk; start < 0 when there is none
	tokens     int
	// fresh is false while the open chunk holds only sentences carried
	// over from the previous chunk; such a chunk is never emitted.
	fresh bool
	carry []piece // the carried sentences while !fresh
}

type piece struct {
	span   text.Span
	tokens int
}

// add appends a piece of n tokens, emitting the open chunk first if the
// piece does not fit.
func (p *packer) add(s text.Span, n int) {
	if p.start >= 0 && p.tokens+n <= p.size {
		p.end, p.tokens, p.fresh, p.carry = s.End, p.tokens+n, true, p.carry[:0]
		return
	}
	if p.fresh {
		p.flush(true)
	}
	// Only carried sentences are open: keep as many of the last ones as
	// leave room for the piece.
	for len(p.carry) > 0 && p.tokens+n > p.size {
		p.tokens -= p.carry[0].tokens
		p.carry = p.carry[1:]
	}
	if len(p.carry) == 0 {
		p.start, p.tokens = s.Start, 0
	} else {
		p.start = p.carry[0].span.Start
	}
	p.end, p.tokens, p.fresh, p.carry = s.End, p.tokens+n, true, p.carry[:0]
}

// words adds a sentence too long for a chunk one word at a time. A word
// piece runs to the next word, so the punctuation between words stays in
// some chunk.
func (p *packer) words(s text.Span) {
	prev := s.Start
	first := true
	for sp := range text.TokensSeq(p.b.text[s.Start:s.End]) {
		start := s.Start + sp.Start
		if !first {
			p.add(text.Span{Start: prev, End: start}, 1)
			prev = start
		}
		first = false
	}
	if first {
		p.add(s, 0) // no word at all
		return
	}
	p.add(text.Span{Start: prev, End: s.End}, 1)
}

// flush emits the open chunk if it has new content and, when carry is set
// and overlap is configured, opens the next chunk with the longest run of
// trailing sentences of at most overlap tokens (never the first sentence,
// so a chunk is never repeated whole).
func (p *packer) flush(carry bool) {
	if p.start < 0 || !p.fresh {
		p.start, p.fresh, p.carry = -1, false, p.carry[:0]
		return
	}
	p.b.emit(p.start, p.end)
	start, end := p.start, p.end
	p.start, p.tokens, p.fresh, p.carry = -1, 0, false, p.carry[:0]
	if !carry || p.overlap == 0 {
		return
	}
	chunk := p.b.text[start:end]
	first := true
	for s := range text.SentencesSeq(chunk) {
		if first {
			first = false
			continue
		}
		n := text.CountTokens(chunk[s.Start:s.End])
		p.carry = append(p.carry, piece{text.Span{Start: start + s.Start, End: start + s.End}, n})
		p.tokens += n
		for len(p.carry) > 0 && (p.tokens > p.overlap || len(p.carry) > p.overlap+1) {
			p.tokens -= p.carry[0].tokens
			p.carry = p.carry[1:]
		}
	}
	if len(p.carry) > 0 {
		p.start, p.end = p.carry[0].span.Start, p.carry[len(p.carry)-1].span.End
	}
}

// countUpTo returns the number of tokens in s, or limit+1 as soon as it
// knows there are more than limit. Short strings, whose full count costs
// no more than the early stop saves, are counted without the iterator's
// allocation.
func countUpTo(s string, limit int) int {
	if len(s) <= 8*limit+256 {
		return text.CountTokens(s)
	}
	n := 0
	for range text.TokensSeq(s) {
		n++
		if n > limit {
			break
		}
	}
	return n
}

// paragraphs yields the paragraphs of s[start:end]: maximal runs of lines
// that are not blank, each trimmed of white space.
func paragraphs(s string, start, end int) iter.Seq[text.Span] {
	return func(yield func(text.Span) bool) {
		paraStart, paraEnd := -1, -1
		for i := start; i < end; {
			j := i
			for j < end && s[j] != '\n' {
				j++
			}
			if ls, le := text.TrimSpan(s, i, j); ls < le {
				if paraStart < 0 {
					paraStart = ls
				}
				paraEnd = le
			} else if paraStart >= 0 {
				if !yield(text.Span{Start: paraStart, End: paraEnd}) {
					return
				}
				paraStart = -1
			}
			i = j + 1
		}
		if paraStart >= 0 {
			yield(text.Span{Start: paraStart, End: paraEnd})
		}
	}
}
