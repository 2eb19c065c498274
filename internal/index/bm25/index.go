package bm25

import (
	"errors"
	"fmt"
	"math"
	"strings"
	"unsafe"
)

// NoID is never a valid internal id.
const NoID = math.MaxUint32

const (
	blockShift = 7
	// blockSize is the number of postings summarised by one block (its last
	// doc id, max term frequency and min document length), the unit of
	// skipping and of block-max score bounds.
	blockSize = 1 << blockShift
)

var (
	// ErrDuplicateKey is returned by Add for a key that is already live.
	ErrDuplicateKey = errors.New("bm25: duplicate key")
	// ErrEmptyKey is returned by Add for an empty key.
	ErrEmptyKey = errors.New("bm25: empty key")
	// ErrFull is returned by Add once 2³²−1 ids have been handed out since
	// the last Compact.
	ErrFull = errors.New("bm25: id space exhausted")
)

// block summarises up to blockSize consecutive postings of one term. Its
// maxTf and minDl bound every posting in it independently, so
// f(maxTf, minDl) bounds their BM25 term score whatever avgdl is.
type block struct {
	last  uint32  // doc id of the block's last posting
	maxTf float32 // largest combined term frequency
	minDl float32 // smallest combined document length
}

// postings is one term's posting list: parallel doc ids (increasing) and
// combined term frequencies, plus one block per blockSize postings. It may
// hold postings of deleted documents until Compact.
type postings struct {
	docs   []uint32
	tfs    []float32
	blocks []block
}

func (p *postings) add(d uint32, tf, dl float32, t uint32) {
	n := len(p.docs)
	if n == cap(p.docs) && n >= staggerAfter {
		p.grow(t)
	}
	p.docs = append(p.docs, d)
	p.tfs = append(p.tfs, tf)
	if n&(blockSize-1) == 0 {
		p.blocks = append(p.blocks, block{last: d, maxTf: tf, minDl: dl})
		return
	}
	b := &p.blocks[len(p.blocks)-1]
	b.last = d
	b.maxTf = max(b.maxTf, tf)
	b.minDl = min(b.minDl, dl)
}

// staggerAfter is the length from which posting lists grow by grow rather
// than by append.
const staggerAfter = 4096

// grow makes room in the full posting list of term t. append grows a long
// slice by a quarter, and lists of equal length, which terms that occur in
// nearly every document have (stop words kept, a small vocabulary), then
// reach capacity at the same Add: all of them are copied at once, and the
// old and the new arrays are held together until the next collection —
// 14 MB at once near the end of a 100 MB upload with a 20-word vocabulary,
// over the whole index's size (docs/benchmarks.md, issue 15). Here the
// extra room is an eighth of the list plus up to another eighth chosen by
// the term id, so such lists are reallocated at different Adds. Capacity
// never changes what the index holds.
func (p *postings) grow(t uint32) {
	n := len(p.docs)
	share := uint64(t*0x9E3779B1) >> 29 // 0..7, spread over term ids
	extra := n/8 + int(uint64(n/8)*share/8)
	// Not slices.Grow: growslice would round extra up to its own quarter.
	docs := make([]uint32, n, n+extra)
	copy(docs, p.docs)
	tfs := make([]float32, n, n+extra)
	copy(tfs, p.tfs)
	p.docs, p.tfs = docs, tfs
}

// buildBlocks recomputes p.blocks from p.docs and p.tfs into dst.
func (p *postings) buildBlocks(dst []block, dl []float32) []block {
	for i := 0; i < len(p.docs); i += blockSize {
		j := min(i+blockSize, len(p.docs))
		b := block{last: p.docs[j-1], maxTf: p.tfs[i], minDl: dl[p.docs[i]]}
		for k := i + 1; k < j; k++ {
			b.maxTf = max(b.maxTf, p.tfs[k])
			b.minDl = min(b.minDl, dl[p.docs[k]])
		}
		dst = append(dst, b)
	}
	return dst
}

// Index is an in-memory BM25 inverted index. See the package documentation
// for the concurrency contract.
type Index struct {
	p Params

	// Terms, by term id.
	termIDs map[string]uint32
	terms   []string
	post    []postings
	df      []uint32 // live documents containing the term

	// Documents, by internal id. Deleted ids keep their slot with key ""
	// and the dead bit set until Compact renumbers the live ones.
	keys     []string
	byKey    keyTable  // key → id of the live documents (keys.go)
	dl       []float32 // combined length: body + TitleBoost·title
	lenBody  []uint32
	lenTitle []uint32
	dead     []uint64 // bitset
	live     int
	deleted  int // deleted documents whose postings are still stored
	sumBody  uint64
	sumTitle uint64

	// Forward index: the term ids of document d are
	// fwd[fwdStart[d]:fwdStart[d+1]]. It lets Delete decrement df exactly.
	// It is built lazily (for a new index too, and after Read or Compact)
	// by the first Delete and then kept up to date by Add; fwdOK says
	// whether it is current. An index that only grows never holds it (4
	// bytes per posting: 7 MB of a 27 MB index in an upload of 100 MB).
	fwd      []uint32
	fwdStart []int
	fwdOK    bool

	// Add's scratch, by term id.
	cntBody, cntTitle []uint32
	touched           []uint32
}

// New returns an empty index. It panics if p is invalid (see
// Params.Validate); callers validate configuration first.
func New(p Params) *Index {
	if err := p.Validate(); err != nil {
		panic(err)
	}
	return &Index{
		p:       p,
		termIDs: make(map[string]uint32),
		byKey:   newKeyTable(0),
	}
}

// Params returns the index's scoring parameters.
func (ix *Index) Params() Params { return ix.p }

// Len returns the number of live documents.
func (ix *Index) Len() int { return ix.live }

// Key returns the key of a live document, or "" if id is not live.
func (ix *Index) Key(id uint32) string {
	if int64(id) >= int64(len(ix.keys)) {
		return ""
	}
	return ix.keys[id]
}

// ID returns the internal id of a live key.
func (ix *Index) ID(key string) (uint32, bool) {
	return ix.byKey.get(ix.keys, key)
}

func (ix *Index) isDead(id uint32) bool { return ix.dead[id>>6]&(1<<(id&63)) != 0 }

// Add indexes a document under key and returns its internal id. title and
// body are analysed terms; they are not retained. Ids are dense and
// increase with each Add until Compact renumbers them. A key may be added
// again after Delete (it gets a new id).
func (ix *Index) Add(key string, title, body []string) (uint32, error) {
	id, err := ix.nextID(key)
	if err != nil {
		return 0, err
	}
	boost := ix.p.TitleBoost
	touched := ix.touched[:0]
	for _, tok := range body {
		t := ix.intern(tok)
		if ix.cntBody[t] == 0 && ix.cntTitle[t] == 0 {
			touched = append(touched, t)
		}
		ix.cntBody[t]++
	}
	if boost > 0 {
		for _, tok := range title {
			t := ix.intern(tok)
			if ix.cntBody[t] == 0 && ix.cntTitle[t] == 0 {
				touched = append(touched, t)
			}
			ix.cntTitle[t]++
		}
	}
	nb, nt := uint32(min(len(body), math.MaxUint32)), uint32(min(len(title), math.MaxUint32))
	ix.addTouched(key, id, touched, nb, nt)
	return id, nil
}

// AddCounts is Add with the terms already counted (Counter.Count): the
// index it leaves is identical to Add's with the terms c was counted from,
// term ids and forward index included. Terms whose counts are both zero
// are skipped, and a term listed twice has its counts summed.
func (ix *Index) AddCounts(key string, c *Counts) (uint32, error) {
	if len(c.Body) != len(c.Terms) || len(c.Title) != len(c.Terms) {
		return 0, fmt.Errorf("bm25: counts of %d terms have %d body and %d title frequencies", len(c.Terms), len(c.Body), len(c.Title))
	}
	id, err := ix.nextID(key)
	if err != nil {
		return 0, err
	}
	boost := ix.p.TitleBoost
	touched := ix.touched[:0]
	for i, tok := range c.Terms {
		nb, nt := c.Body[i], c.Title[i]
		if boost <= 0 {
			nt = 0 // as Add: title terms are not even interned
		}
		if nb == 0 && nt == 0 {
			continue
		}
		t := ix.intern(tok)
		if ix.cntBody[t] == 0 && ix.cntTitle[t] == 0 {
			touched = append(touched, t)
		}
		ix.cntBody[t] += nb
		ix.cntTitle[t] += nt
	}
	ix.addTouched(key, id, touched, c.BodyLen, c.TitleLen)
	return id, nil
}

// nextID checks that key can be added and returns the id it will get.
func (ix *Index) nextID(key string) (uint32, error) {
	if key == "" {
		return 0, ErrEmptyKey
	}
	if _, ok := ix.byKey.get(ix.keys, key); ok {
		return 0, fmt.Errorf("%w: %q", ErrDuplicateKey, key)
	}
	if len(ix.keys) >= NoID {
		return 0, ErrFull
	}
	return uint32(len(ix.keys)), nil
}

// addTouched completes Add and AddCounts: document id gets a posting in
// each touched term, whose counts are in cntBody and cntTitle (reset
// here), and lengths nb and nt.
func (ix *Index) addTouched(key string, id uint32, touched []uint32, nb, nt uint32) {
	boost := ix.p.TitleBoost
	dl := combine(nb, nt, boost)
	for _, t := range touched {
		ix.post[t].add(id, combine(ix.cntBody[t], ix.cntTitle[t], boost), dl, t)
		ix.df[t]++
		ix.cntBody[t], ix.cntTitle[t] = 0, 0
	}
	ix.touched = touched
	if ix.fwdOK {
		ix.fwd = append(ix.fwd, touched...)
		ix.fwdStart = append(ix.fwdStart, len(ix.fwd))
	}
	ix.keys = append(ix.keys, strings.Clone(key))
	ix.byKey.insert(ix.keys, id)
	ix.dl = append(ix.dl, dl)
	ix.lenBody = append(ix.lenBody, nb)
	ix.lenTitle = append(ix.lenTitle, nt)
	if id&63 == 0 {
		ix.dead = append(ix.dead, 0)
	}
	ix.live++
	ix.sumBody += uint64(nb)
	ix.sumTitle += uint64(nt)
}

// combine returns the BM25F combined frequency body + boost·title.
func combine(body, title uint32, boost float64) float32 {
	return float32(float64(body) + float64(boost*float64(title)))
}

// intern returns the id of term s, creating it if new.
func (ix *Index) intern(s string) uint32 {
	if t, ok := ix.termIDs[s]; ok {
		return t
	}
	t := uint32(len(ix.terms))
	s = strings.Clone(s) // do not pin the caller's (possibly large) backing string
	ix.termIDs[s] = t
	ix.terms = append(ix.terms, s)
	ix.post = append(ix.post, postings{})
	ix.df = append(ix.df, 0)
	ix.cntBody = append(ix.cntBody, 0)
	ix.cntTitle = append(ix.cntTitle, 0)
	return t
}

// Delete removes a live document and reports whether key was live. The
// document never appears in results again, and N, avgdl and every df are
// updated at once, so scores equal those of an index built without it.
// Its postings stay in place (skipped at query time) until Compact.
func (ix *Index) Delete(key string) bool {
	id, ok := ix.byKey.remove(ix.keys, key)
	if !ok {
		return false
	}
	ix.ensureForward()
	for _, t := range ix.fwd[ix.fwdStart[id]:ix.fwdStart[id+1]] {
		ix.df[t]--
	}
	ix.keys[id] = ""
	ix.dead[id>>6] |= 1 << (id & 63)
	ix.live--
	ix.deleted++
	ix.sumBody -= uint64(ix.lenBody[id])
	ix.sumTitle -= uint64(ix.lenTitle[id])
	return true
}

// ensureForward builds the forward index from the posting lists if it is
// not current: one counting pass and one filling pass over all postings.
func (ix *Index) ensureForward() {
	if ix.fwdOK {
		return
	}
	n := len(ix.keys)
	start := make([]int, n+1)
	for t := range ix.post {
		for _, d := range ix.post[t].docs {
			start[d+1]++
		}
	}
	for d := range n {
		start[d+1] += start[d]
	}
	fwd := make([]uint32, start[n])
	next := make([]int, n)
	copy(next, start[:n])
	for t := range ix.post {
		for _, d := range ix.post[t].docs {
			fwd[next[d]] = uint32(t)
			next[d]++
		}
	}
	ix.fwd, ix.fwdStart, ix.fwdOK = fwd, start, true
}

// Deleted returns the number of deleted documents that still hold an id
// (and postings) until Compact: the store's measure of when compacting is
// worth it.
func (ix *Index) Deleted() int { return ix.deleted }

// Compact rewrites the index without its deleted documents: their postings
// go, terms no live document contains are dropped, and the live documents
// are renumbered densely, 0..Len()-1 in their id order — the numbering Read
// gives. Because the order is kept, every posting list stays sorted and
// scores and rankings are unchanged; memory and query time return to those
// of an index built from the live documents alone, so an index under churn
// stays bounded and never reaches ErrFull.
//
// It returns the renumbering: remap[old] is the new id of old id, NoID for
// a deleted one. Callers keying data by id must apply it before the next
// call (the store does so under the same lock). It returns nil, and changes
// nothing, when no document was deleted.
func (ix *Index) Compact() (remap []uint32) {
	if ix.deleted == 0 {
		return nil
	}
	n := len(ix.keys)
	remap = make([]uint32, n)
	keys := make([]string, 0, ix.live)
	byKey := newKeyTable(ix.live)
	dl := make([]float32, 0, ix.live)
	lenBody := make([]uint32, 0, ix.live)
	lenTitle := make([]uint32, 0, ix.live)
	for d := range n {
		if ix.isDead(uint32(d)) {
			remap[d] = NoID
			continue
		}
		id := uint32(len(keys))
		remap[d] = id
		keys = append(keys, ix.keys[d])
		byKey.insert(keys, id)
		dl = append(dl, ix.dl[d])
		lenBody = append(lenBody, ix.lenBody[d])
		lenTitle = append(lenTitle, ix.lenTitle[d])
	}
	var total int
	nt := 0
	for t := range ix.post {
		if ix.df[t] > 0 {
			total += int(ix.df[t])
			nt++
		}
	}
	docs := make([]uint32, total)
	tfs := make([]float32, total)
	blocks := make([]block, 0, total/blockSize+nt)
	termIDs := make(map[string]uint32, nt)
	terms := make([]string, 0, nt)
	post := make([]postings, 0, nt)
	df := make([]uint32, 0, nt)
	off := 0
	for t := range ix.post {
		if ix.df[t] == 0 {
			continue
		}
		p := &ix.post[t]
		k := int(ix.df[t])
		nd, ntf := docs[off:off:off+k], tfs[off:off:off+k]
		for i, d := range p.docs {
			if r := remap[d]; r != NoID {
				nd = append(nd, r)
				ntf = append(ntf, p.tfs[i])
			}
		}
		off += k
		np := postings{docs: nd, tfs: ntf}
		b0 := len(blocks)
		blocks = np.buildBlocks(blocks, dl)
		np.blocks = blocks[b0:len(blocks):len(blocks)]
		termIDs[ix.terms[t]] = uint32(len(terms))
		terms = append(terms, ix.terms[t])
		post = append(post, np)
		df = append(df, ix.df[t])
	}
	ix.termIDs, ix.terms, ix.post, ix.df = termIDs, terms, post, df
	ix.keys, ix.byKey, ix.dl, ix.lenBody, ix.lenTitle = keys, byKey, dl, lenBody, lenTitle
	ix.dead = make([]uint64, (len(keys)+63)/64)
	ix.cntBody, ix.cntTitle, ix.touched = make([]uint32, nt), make([]uint32, nt), nil
	ix.fwd, ix.fwdStart, ix.fwdOK = nil, nil, false
	ix.deleted = 0
	return remap
}

// Stats describes an index.
type Stats struct {
	Docs     int   // live documents
	Deleted  int   // deleted documents whose postings await Compact
	Terms    int   // distinct terms in the dictionary
	Postings int64 // stored postings, including those of deleted documents
	Bytes    int64 // approximate heap footprint
}

// Stats returns the index's statistics.
func (ix *Index) Stats() Stats {
	st := Stats{Docs: ix.live, Deleted: ix.deleted, Terms: len(ix.terms)}
	var b int64
	for t := range ix.post {
		p := &ix.post[t]
		st.Postings += int64(len(p.docs))
		b += int64(cap(p.docs))*4 + int64(cap(p.tfs))*4 + int64(cap(p.blocks))*int64(unsafe.Sizeof(block{}))
		b += int64(len(ix.terms[t])) + 16 + 24*3 + 4 + 8 // string, header, slice headers, df, cnt
		b += 48                                          // map entry, roughly
	}
	for _, k := range ix.keys {
		b += int64(len(k)) + 16
	}
	b += ix.byKey.bytes()
	b += int64(cap(ix.dl))*4 + int64(cap(ix.lenBody)+cap(ix.lenTitle))*4 + int64(cap(ix.dead))*8
	b += int64(cap(ix.fwd))*4 + int64(cap(ix.fwdStart))*8
	st.Bytes = b
	return st
}

// avgdl returns the mean combined length of live documents.
func (ix *Index) avgdl() float64 {
	if ix.live == 0 {
		return 0
	}
	return (float64(ix.sumBody) + ix.p.TitleBoost*float64(ix.sumTitle)) / float64(ix.live)
}

// idf is Lucene's BM25 idf, log(1 + (N − df + 0.5)/(df + 0.5)), always > 0.
func idf(n int, df uint32) float64 {
	return math.Log(1 + (float64(n)-float64(df)+0.5)/(float64(df)+0.5))
}

// check verifies the index's invariants; tests and the fuzzer call it.
func (ix *Index) check() error {
	n := len(ix.keys)
	if len(ix.dl) != n || len(ix.lenBody) != n || len(ix.lenTitle) != n || len(ix.dead) != (n+63)/64 {
		return errors.New("per-document arrays disagree in length")
	}
	live := 0
	var sb, st uint64
	for d := range n {
		if ix.isDead(uint32(d)) {
			if ix.keys[d] != "" {
				return fmt.Errorf("dead doc %d keeps key", d)
			}
			continue
		}
		live++
		sb += uint64(ix.lenBody[d])
		st += uint64(ix.lenTitle[d])
		if id, ok := ix.byKey.get(ix.keys, ix.keys[d]); !ok || id != uint32(d) {
			return fmt.Errorf("doc %d key %q not mapped", d, ix.keys[d])
		}
		if want := combine(ix.lenBody[d], ix.lenTitle[d], ix.p.TitleBoost); ix.dl[d] != want {
			return fmt.Errorf("doc %d dl %v, want %v", d, ix.dl[d], want)
		}
	}
	if live != ix.live || ix.byKey.len() != live || sb != ix.sumBody || st != ix.sumTitle {
		return fmt.Errorf("live %d/%d/%d or length sums disagree", live, ix.live, ix.byKey.len())
	}
	if len(ix.terms) != len(ix.post) || len(ix.df) != len(ix.post) || len(ix.termIDs) != len(ix.post) {
		return errors.New("term arrays disagree in length")
	}
	deadPostings := false
	for t := range ix.post {
		p := &ix.post[t]
		if ix.termIDs[ix.terms[t]] != uint32(t) {
			return fmt.Errorf("term %q not mapped", ix.terms[t])
		}
		if len(p.tfs) != len(p.docs) || len(p.blocks) != (len(p.docs)+blockSize-1)/blockSize {
			return fmt.Errorf("term %q: array lengths disagree", ix.terms[t])
		}
		var df uint32
		for i, d := range p.docs {
			if int(d) >= n || (i > 0 && d <= p.docs[i-1]) {
				return fmt.Errorf("term %q: doc ids not increasing and in range", ix.terms[t])
			}
			if !(p.tfs[i] > 0) || math.IsInf(float64(p.tfs[i]), 0) {
				return fmt.Errorf("term %q: bad tf %v", ix.terms[t], p.tfs[i])
			}
			if ix.isDead(d) {
				deadPostings = true
			} else {
				df++
			}
			b := p.blocks[i>>blockShift]
			if p.tfs[i] > b.maxTf || ix.dl[d] < b.minDl || d > b.last {
				return fmt.Errorf("term %q: block %d does not bound posting %d", ix.terms[t], i>>blockShift, i)
			}
		}
		if df != ix.df[t] {
			return fmt.Errorf("term %q: df %d, want %d", ix.terms[t], ix.df[t], df)
		}
	}
	if deadPostings && ix.deleted == 0 {
		return errors.New("dead postings but no deletion recorded")
	}
	return nil
}
