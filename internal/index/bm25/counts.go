package bm25

import "math"

// Counts are one document's analysed terms, counted: each distinct term
// once, in the order of its first occurrence (the body's terms, then the
// title's), with its frequency in the body and in the title, and the
// lengths of both. Add keeps no more than this of a document's terms, so a
// caller that analyses a batch of documents before it takes the index's
// lock (the embedded store) can hold them counted, at 24 bytes a distinct
// term, instead of as token lists at 16 bytes a token. AddCounts indexes
// them.
type Counts struct {
	Terms       []string
	Body, Title []uint32 // Body[i], Title[i]: occurrences of Terms[i]
	// BodyLen and TitleLen are the numbers of tokens, repeats included.
	BodyLen, TitleLen uint32
}

// A Counter counts analysed terms into Counts, reusing its scratch space
// across calls. The zero value is ready to use; a Counter is not safe for
// concurrent use.
type Counter struct {
	seen        map[string]int32 // term → its index in terms
	terms       []string
	body, title []uint32
}

// Count returns the counts of a document's title and body terms, sized
// exactly (two allocations). The result refers to the term strings but not
// to the title and body slices, which the caller may reuse.
func (c *Counter) Count(title, body []string) Counts {
	if c.seen == nil {
		c.seen = make(map[string]int32)
	}
	clear(c.seen)
	c.terms, c.body, c.title = c.terms[:0], c.body[:0], c.title[:0]
	for _, t := range body {
		c.index(t, true)
	}
	for _, t := range title {
		c.index(t, false)
	}
	n := len(c.terms)
	out := Counts{
		Terms:    append(make([]string, 0, n), c.terms...),
		BodyLen:  uint32(min(len(body), math.MaxUint32)),
		TitleLen: uint32(min(len(title), math.MaxUint32)),
	}
	freq := make([]uint32, 2*n)
	copy(freq, c.body)
	copy(freq[n:], c.title)
	out.Body, out.Title = freq[:n:n], freq[n:]
	clear(c.terms) // do not pin the strings until the next call
	return out
}

// index counts one occurrence of t, in the body or the title.
func (c *Counter) index(t string, inBody bool) {
	i, ok := c.seen[t]
	if !ok {
		i = int32(len(c.terms))
		c.seen[t] = i
		c.terms = append(c.terms, t)
		c.body = append(c.body, 0)
		c.title = append(c.title, 0)
	}
	if inBody {
		c.body[i]++
	} else {
		c.title[i]++
	}
}
