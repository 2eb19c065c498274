package tokenizer

import (
	"math"
	"sort"
	"unicode/utf8"
)

// token is a model output: id, its string, and the byte range within the
// piece it was produced from.
type token struct {
	id    int32
	value string
	a, b  int
}

// model turns one pre-tokenized piece into tokens.
type model interface {
	tokenize(word []byte, out []token, sc *scratch) []token
	tokenID(s string) (int32, bool)
	vocabSize() int
}

// wordPiece is the greedy longest-match-first WordPiece model.
type wordPiece struct {
	vocab     map[string]int32
	byID      []string
	unk       string
	unkID     int32
	prefix    string
	maxChars  int
	maxTokLen int // longest vocabulary entry in bytes, without the prefix
}

func (w *wordPiece) vocabSize() int { return len(w.byID) }

func (w *wordPiece) tokenID(s string) (int32, bool) {
	id, ok := w.vocab[s]
	return id, ok
}

func (w *wordPiece) tokenize(word []byte, out []token, sc *scratch) []token {
	n0 := len(out)
	if w.maxChars >= 0 && utf8.RuneCount(word) > w.maxChars {
		return append(out, token{w.unkID, w.unk, 0, len(word)})
	}
	for start := 0; start < len(word); {
		end := len(word)
		if end-start > w.maxTokLen {
			end = start + w.maxTokLen
			for end > start && !utf8.RuneStart(word[end]) {
				end--
			}
		}
		found := false
		for end > start {
			var id int32
			var ok bool
			if start > 0 {
				sc.key = append(append(sc.key[:0], w.prefix...), word[start:end]...)
				id, ok = w.vocab[string(sc.key)]
			} else {
				id, ok = w.vocab[string(word[start:end])]
			}
			if ok {
				out = append(out, token{id, w.byID[id], start, end})
				found = true
				break
			}
			_, sz := utf8.DecodeLastRune(word[start:end])
			end -= sz
		}
		if !found {
			return append(out[:n0], token{w.unkID, w.unk, 0, len(word)})
		}
		start = end
	}
	return out
}

// unigram is the SentencePiece Unigram model decoded with Viterbi.
type unigram struct {
	pieces   []string
	scores   []float64
	vocab    map[string]int32
	unkID    int32 // -1 if none
	minScore float64
	trie     byteTrie
	byteFB   bool
}

const unkPenalty = 10.0

func (u *unigram) vocabSize() int { return len(u.pieces) }

func (u *unigram) tokenID(s string) (int32, bool) {
	id, ok := u.vocab[s]
	return id, ok
}

type latticeNode struct {
	score float64
	start int32 // -1 = unreached
	id    int32
}

func (u *unigram) tokenize(s []byte, out []token, sc *scratch) []token {
	size := len(s)
	if size == 0 {
		return out
	}
	if cap(sc.lattice) < size+1 {
		sc.lattice = make([]latticeNode, size+1)
	}
	best := sc.lattice[:size+1]
	for i := range best {
		best[i] = latticeNode{start: -1}
	}
	best[0].start = 0
	unkScore := u.minScore - unkPenalty
	for startsAt := 0; startsAt < size; {
		base := best[startsAt].score
		_, mblen := utf8.DecodeRune(s[startsAt:])
		single := false
		node := int32(0)
		for k := startsAt; k < size; k++ {
			node = u.trie.child(node, s[k])
			if node < 0 {
				break
			}
			id := u.trie.value[node]
			if id < 0 {
				continue
			}
			keyPos := k + 1
			cand := base + u.scores[id]
			t := &best[keyPos]
			if t.start < 0 || cand > t.score {
				t.score, t.start, t.id = cand, int32(startsAt), id
			}
			if keyPos-startsAt == mblen {
				single = true
			}
		}
		if !single {
			t := &best[startsAt+mblen]
			cand := base + unkScore
			if t.start < 0 || cand > t.score {
				t.score, t.start, t.id = cand, int32(startsAt), u.unkID
			}
		}
		startsAt += mblen
	}
	// Backtrack, fusing consecutive unknown pieces.
	n0 := len(out)
	for end := size; end > 0; {
		nd := best[end]
		st := int(nd.start)
		if nd.id < 0 {
			// Unknown span and no unk_id: the reference fails; we drop it.
			end = st
			continue
		}
		if nd.id == u.unkID {
			// Extend over preceding unknowns.
			for st > 0 && best[st].id == u.unkID {
				st = int(best[st].start)
			}
			out = append(out, token{u.unkID, string(s[st:end]), st, end})
		} else {
			out = append(out, token{nd.id, u.pieces[nd.id], st, end})
		}
		end = st
	}
	for i, j := n0, len(out)-1; i < j; i, j = i+1, j-1 {
		out[i], out[j] = out[j], out[i]
	}
	// A fused surface that is itself a vocabulary piece keeps its id (the
	// reference looks the surface up again).
	for i := n0; i < len(out); i++ {
		if out[i].id == u.unkID {
			if id, ok := u.vocab[out[i].value]; ok {
				out[i].id = id
			}
		}
	}
	return out
}

// byteTrie is a compact trie over byte strings: the children of a node are
// contiguous and sorted by label.
type byteTrie struct {
	label      []byte
	firstChild []int32
	nChild     []int32
	value      []int32
}

func (t *byteTrie) child(node int32, c byte) int32 {
	lo, n := t.firstChild[node], t.nChild[node]
	if n <= 8 {
		for i := lo; i < lo+n; i++ {
			if t.label[i] == c {
				return i
			}
		}
		return -1
	}
	hi := lo + n
	for lo < hi {
		m := int32(uint32(lo+hi) >> 1)
		if t.label[m] < c {
			lo = m + 1
		} else {
			hi = m
		}
	}
	if lo < t.firstChild[node]+n && t.label[lo] == c {
		return lo
	}
	return -1
}

// buildTrie builds the trie of keys; the value of a key is its index. On
// duplicate keys the first index wins (like a map filled in order).
func buildTrie(keys []string) byteTrie {
	order := make([]int32, len(keys))
	for i := range order {
		order[i] = int32(i)
	}
	sort.SliceStable(order, func(a, b int) bool { return keys[order[a]] < keys[order[b]] })
	var t byteTrie
	newNode := func(label byte) int32 {
		t.label = append(t.label, label)
		t.firstChild = append(t.firstChild, 0)
		t.nChild = append(t.nChild, 0)
		t.value = append(t.value, -1)
		return int32(len(t.label) - 1)
	}
	newNode(0)
	type job struct {
		node   int32
		lo, hi int
		depth  int
	}
	queue := []job{{0, 0, len(order), 0}}
	for len(queue) > 0 {
		j := queue[0]
		queue = queue[1:]
		lo := j.lo
		for lo < j.hi && len(keys[order[lo]]) == j.depth {
			if t.value[j.node] < 0 {
				t.value[j.node] = order[lo]
			}
			lo++
		}
		t.firstChild[j.node] = int32(len(t.label))
		for i := lo; i < j.hi; {
			c := keys[order[i]][j.depth]
			k := i
			for k < j.hi && keys[order[k]][j.depth] == c {
				k++
			}
			child := newNode(c)
			t.nChild[j.node]++
			queue = append(queue, job{child, i, k, j.depth + 1})
			i = k
		}
	}
	return t
}

func minScore(scores []float64) float64 {
	m := math.Inf(1)
	for _, s := range scores {
		if s < m {
			m = s
		}
	}
	if math.IsInf(m, 1) {
		return 0
	}
	return m
}
