package storetest

import (
	"context"
	"math/rand/v2"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/quarry-rag/quarry/internal/store"
)

// mmWords are the metamorphic run's vocabulary: one analysed term each.
var mmWords = strings.Fields("granite marble slate basalt quartz feldspar mica gneiss schist shale chalk flint jade onyx opal")

// MetamorphicOptions shape a Metamorphic run.
type MetamorphicOptions struct {
	Seed uint64
	Ops  int
	// Reopen closes and reopens the backend; nil: never.
	Reopen Reopener
	// Crash stops the backend the way a crash would (the embedded store's
	// vfs drops unsynced data) and opens it again; nil: never.
	Crash Reopener
	// ExactDense also checks that an exact dense search returns every
	// document (backends without exact search leave it off).
	ExactDense bool
}

// Metamorphic runs a seeded random sequence of upserts, deletes, searches,
// flushes (for a store.Flusher), reopens and crashes against b, and checks
// every search and Get against a plain map of what was acknowledged:
// read-your-writes, with no wait between a write and the search after it.
// It returns the backend it ended with (reopens replace it) and whether
// the run held; a failing run names the operation, and the caller prints
// how to replay the seed.
func Metamorphic(t *testing.T, b store.Backend, o MetamorphicOptions) (store.Backend, bool) {
	t.Helper()
	seed, ops := o.Seed, o.Ops
	ctx := context.Background()
	rng := rand.New(rand.NewPCG(seed, 0x9e3779b97f4a7c15))
	model := map[string][]string{} // doc id → its words (one chunk per doc)
	for op := range ops {
		switch r := rng.IntN(100); {
		case r < 45: // upsert a few documents
			var batch []store.DocChunks
			for range 1 + rng.IntN(3) {
				id := "d" + strconv.Itoa(rng.IntN(40))
				if slices.ContainsFunc(batch, func(d store.DocChunks) bool { return d.Doc.ID == id }) {
					continue
				}
				words := make([]string, 2+rng.IntN(4))
				for i := range words {
					words[i] = mmWords[rng.IntN(len(mmWords))]
				}
				batch = append(batch, Doc(id, E(rng.IntN(Dim), rng.Float32()), strings.Join(words, " ")))
				model[id] = words
			}
			if err := b.Upsert(ctx, batch); err != nil {
				t.Fatalf("op %d upsert: %v", op, err)
			}
		case r < 60: // delete
			id := "d" + strconv.Itoa(rng.IntN(40))
			found, err := b.Delete(ctx, id)
			_, want := model[id]
			if err != nil || found != want {
				t.Errorf("op %d delete %s: found %v, err %v; model says %v", op, id, found, err, want)
				return b, false
			}
			delete(model, id)
		case r < 88: // search a word: exactly the documents holding it
			w := mmWords[rng.IntN(len(mmWords))]
			hits, err := b.Lexical(ctx, store.LexicalQuery{Text: w, K: 100, Language: "en", NoText: true})
			if err != nil {
				t.Fatalf("op %d search: %v", op, err)
			}
			var got, want []string
			for _, h := range hits {
				got = append(got, h.DocID)
			}
			for id, words := range model {
				if slices.Contains(words, w) {
					want = append(want, id)
				}
			}
			slices.Sort(got)
			slices.Sort(want)
			if !slices.Equal(got, want) {
				t.Errorf("op %d search %q: got %v, want %v", op, w, got, want)
				return b, false
			}
			if o.ExactDense {
				dense, err := b.Dense(ctx, store.DenseQuery{Vector: E(0, 0.5), K: 100, Exact: true})
				if err != nil || len(dense) != len(model) {
					t.Errorf("op %d exact dense search: %d hits, model holds %d documents (%v)", op, len(dense), len(model), err)
					return b, false
				}
			}
		case r < 94:
			if f, ok := b.(store.Flusher); ok {
				if err := f.Flush(ctx); err != nil {
					t.Fatalf("op %d flush: %v", op, err)
				}
			}
		case r < 97:
			if o.Reopen != nil {
				b = o.Reopen(t, b)
			}
		default:
			if o.Crash != nil {
				b = o.Crash(t, b)
			}
		}
	}
	for id, words := range model {
		d, err := b.Get(ctx, id)
		if err != nil || d.Text != strings.Join(words, " ") {
			t.Errorf("get %s: %q, %v; want %q", id, d.Text, err, strings.Join(words, " "))
			return b, false
		}
	}
	st, err := b.Stats(ctx)
	if err != nil || st.Documents != len(model) {
		t.Errorf("stats: %d documents, model holds %d (%v)", st.Documents, len(model), err)
		return b, false
	}
	return b, !t.Failed()
}
