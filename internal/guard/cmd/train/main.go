// Command train rebuilds the prompt-injection detector's classifier head
// (internal/guard/model/head.json and its .sha256) from the shared
// injection sets, and reports k-fold cross-validation and leave-one-set-out
// figures:
//
//	go run ./internal/guard/cmd/train [--datasets DIR] [--xquad DIR] [--out FILE] [--hidden N]
//
// It embeds every text with the local multilingual-e5-small (no network;
// `make models` fetches it), as a query and as a passage, caching vectors
// under $QUARRY_HOME/guard so that a rerun takes seconds. The result is
// deterministic for a given --seed.
package main

import (
	"context"
	"crypto/sha256"
	"encoding/gob"
	"encoding/hex"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/quarry-rag/quarry/internal/embed"
	"github.com/quarry-rag/quarry/internal/guard"
)

// sets are the training files, in a fixed order.
var sets = []string{
	"deepset_prompt_injections_train",
	"giskard_prompt_injections",
	"malignant_jailbreak_vs_conversation",
	"notinject_benign",
	"tensor_trust_attacks",
	"wildguard_benign",
	// benign multilingual questions and passages from XQuAD (every 8th
	// question and every 6th paragraph of each language): without them
	// the only non-English texts are deepset's, half of them attacks, and
	// a head learns "German means injection".
	"xquad_questions",
	"xquad_passages",
	// benign passages of other kinds than Wikipedia prose — technical
	// documentation with tables, code and imperative how-tos (this
	// repository's docs/, minus the security and agent pages that quote
	// attacks), dictionary glosses (WordNet) and scientific abstracts
	// (SciFact's corpus). Without them a passage that reads like
	// instructions to a human ("run quarry ingest with --k 8") scored as
	// an injection: half the paragraphs of samples/ did.
	"docs_paragraphs",
	"wordnet_glosses",
	"scifact_corpus",
}

var xquadLangs = []string{"ar", "de", "en", "es", "hi", "ru", "zh"}

// readXQuAD reads the benign XQuAD texts of a set.
func readXQuAD(dir, name string) ([]guard.Example, error) {
	file, every := "queries.jsonl", 8
	if name == "xquad_passages" {
		file, every = "corpus.jsonl", 6
	}
	var out []guard.Example
	for _, l := range xquadLangs {
		b, err := os.ReadFile(filepath.Join(dir, l, file))
		if err != nil {
			return nil, err
		}
		for i, line := range strings.Split(strings.TrimSpace(string(b)), "\n") {
			if i%every != 0 {
				continue
			}
			var r struct{ Text string }
			if err := json.Unmarshal([]byte(line), &r); err != nil {
				return nil, fmt.Errorf("%s/%s/%s line %d: %w", dir, l, file, i+1, err)
			}
			out = append(out, guard.Example{Text: r.Text, Label: 0})
		}
	}
	return out, nil
}

// readBenignDocs reads a benign passage set: paragraphs of the repo's
// docs/*.md (not security.md or agents.md, which quote attacks), every
// 200th WordNet gloss, every 17th SciFact abstract. Paragraphs the
// injection rules match are left out, so no attack quoted as an example
// is learnt as benign.
func readBenignDocs(name, shared string) ([]guard.Example, error) {
	var texts []string
	switch name {
	case "docs_paragraphs":
		files, err := filepath.Glob("docs/*.md")
		if err != nil || len(files) == 0 {
			return nil, fmt.Errorf("docs_paragraphs: no docs/*.md (run from the repository root)")
		}
		sort.Strings(files)
		for _, f := range files {
			if b := filepath.Base(f); b == "security.md" || b == "agents.md" {
				continue
			}
			raw, err := os.ReadFile(f)
			if err != nil {
				return nil, err
			}
			for _, p := range strings.Split(string(raw), "\n\n") {
				if p = strings.TrimSpace(p); len(p) >= 80 {
					texts = append(texts, p)
				}
			}
		}
	case "wordnet_glosses", "scifact_corpus":
		file, every := filepath.Join(shared, "ann", "wordnet_glosses.jsonl"), 200
		if name == "scifact_corpus" {
			file, every = filepath.Join(shared, "beir", "scifact", "corpus.jsonl"), 17
		}
		raw, err := os.ReadFile(file)
		if err != nil {
			return nil, err
		}
		for i, line := range strings.Split(strings.TrimSpace(string(raw)), "\n") {
			if i%every != 0 {
				continue
			}
			var r struct{ Title, Text string }
			if err := json.Unmarshal([]byte(line), &r); err != nil {
				return nil, fmt.Errorf("%s line %d: %w", file, i+1, err)
			}
			t := r.Text
			if r.Title != "" {
				t = r.Title + "\n" + t
			}
			texts = append(texts, t)
		}
	}
	var out []guard.Example
	for _, t := range texts {
		if len(out) >= 1500 {
			break
		}
		if !guard.RulesMatch(t) {
			out = append(out, guard.Example{Text: t, Label: 0})
		}
	}
	return out, nil
}

// nk is the number of embedding kinds trained on (query, and passage
// with --passage).
var nk = 1

type example struct {
	set   int
	label int
	feats []float32
	vec   [2][]float32 // query, passage
}

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "train:", err)
		os.Exit(1)
	}
}

func run() error {
	home := os.Getenv("QUARRY_HOME")
	if home == "" {
		h, _ := os.UserHomeDir()
		home = filepath.Join(h, ".cache", "quarry")
	}
	ds := os.Getenv("QUARRY_DATASETS")
	if ds == "" {
		ds = "../shared/datasets"
	}
	dir := flag.String("datasets", filepath.Join(ds, "injection"), "folder of the injection JSONL sets")
	xquad := flag.String("xquad", filepath.Join(ds, "xquad"), "folder of XQuAD (benign multilingual questions and passages)")
	model := flag.String("model", "multilingual-e5-small", "local encoder")
	out := flag.String("out", "internal/guard/model/head.json", "head file to write (\"\" = do not write)")
	hidden := flag.Int("hidden", 32, "hidden units (0 = logistic regression)")
	folds := flag.Int("folds", 5, "cross-validation folds (0 = skip)")
	loso := flag.Bool("loso", true, "report leave-one-set-out figures")
	seed := flag.Uint64("seed", 1, "seed")
	l2 := flag.Float64("l2", 0, "weight decay (0 = default)")
	epochs := flag.Int("epochs", 0, "epochs (0 = default)")
	threshold := flag.Float64("threshold", 0.5, "decision threshold written into the head")
	showErrors := flag.Int("errors", 0, "print up to N cross-validation errors per set (to stderr)")
	sweep := flag.String("sweep", "", "comma-separated thresholds to report cross-validation figures at")

	maxTok := flag.Int("max-tokens", 128, "encoder truncation for training (the detector scores windows of about this size)")
	passage := flag.Bool("passage", true, "also train on passage-prefixed embeddings (chunks and tool results are scored as passages)")
	flag.Parse()
	emb, err := embed.NewLocal(*model, embed.LocalOptions{MaxTokens: *maxTok})
	if err != nil {
		return err
	}
	defer emb.Close()
	var exs []example
	var texts []string
	for si, name := range sets {
		var rows []guard.Example
		if strings.HasPrefix(name, "xquad_") {
			if rows, err = readXQuAD(*xquad, name); err != nil {
				return err
			}
		} else if name == "docs_paragraphs" || name == "wordnet_glosses" || name == "scifact_corpus" {
			if rows, err = readBenignDocs(name, ds); err != nil {
				return err
			}
		} else {
			f, err := os.Open(filepath.Join(*dir, name+".jsonl"))
			if err != nil {
				return err
			}
			rows, err = guard.ReadJSONL(f)
			f.Close()
			if err != nil {
				return fmt.Errorf("%s: %w", name, err)
			}
		}
		for _, r := range rows {
			clean, feats := guard.Featurize(r.Text)
			exs = append(exs, example{set: si, label: r.Label, feats: feats})
			texts = append(texts, clean)
		}
	}
	cache := filepath.Join(home, "guard", fmt.Sprintf("embcache-%s-%d.gob", strings.ReplaceAll(emb.Name(), ":", "_"), *maxTok))
	kinds := []embed.Kind{embed.Query}
	if *passage {
		kinds = append(kinds, embed.Passage)
	}
	nk = len(kinds)
	for k, kind := range kinds {
		vecs, err := embedCached(emb, cache, texts, kind)
		if err != nil {
			return err
		}
		for i := range exs {
			exs[i].vec[k] = vecs[i]
		}
	}
	topts := guard.TrainOptions{Hidden: *hidden, Seed: *seed, L2: *l2, Epochs: *epochs}
	dim := emb.Dim()
	fmt.Printf("# guard head: %d examples, encoder %s, hidden %d, seed %d\n\n", len(exs), emb.Name(), *hidden, *seed)
	if *folds > 1 {
		fold := assignFolds(exs, *folds, *seed)
		pred := make([][2]float64, len(exs))
		for k := 0; k < *folds; k++ {
			var tr []int
			for i := range exs {
				if fold[i] != k {
					tr = append(tr, i)
				}
			}
			h, err := fit(exs, tr, emb.Name(), dim, topts)
			if err != nil {
				return err
			}
			for i := range exs {
				if fold[i] == k {
					for kd := 0; kd < nk; kd++ {
						pred[i][kd] = h.ScoreRaw(raw(exs[i], kd))
					}
				}
			}
		}
		fmt.Printf("## %d-fold cross-validation (threshold %.2f)\n\n", *folds, *threshold)
		report(exs, pred, *threshold)
		if *showErrors > 0 {
			shown := map[int]int{}
			for i, e := range exs {
				if (pred[i][0] >= *threshold) != (e.label == 1) && shown[e.set] < *showErrors {
					shown[e.set]++
					t := []rune(texts[i])
					fmt.Fprintf(os.Stderr, "%s label %d score %.2f: %q\n", sets[e.set], e.label, pred[i][0], string(t[:min(len(t), 160)]))
				}
			}
		}
		for _, ts := range strings.Split(*sweep, ",") {
			var th float64
			if _, err := fmt.Sscan(ts, &th); err != nil || th <= 0 || th >= 1 {
				continue
			}
			fmt.Printf("### threshold %.2f\n\n", th)
			report(exs, pred, th)
		}
	}
	if *loso {
		fmt.Printf("## leave one set out: trained without the set, tested on it\n\n")
		pred := make([][2]float64, len(exs))
		for s := range sets {
			var tr []int
			for i := range exs {
				if exs[i].set != s {
					tr = append(tr, i)
				}
			}
			h, err := fit(exs, tr, emb.Name(), dim, topts)
			if err != nil {
				return err
			}
			for i := range exs {
				if exs[i].set == s {
					for kd := 0; kd < nk; kd++ {
						pred[i][kd] = h.ScoreRaw(raw(exs[i], kd))
					}
				}
			}
		}
		report(exs, pred, *threshold)
	}
	if *out == "" {
		return nil
	}
	all := make([]int, len(exs))
	for i := range all {
		all[i] = i
	}
	h, err := fit(exs, all, emb.Name(), dim, topts)
	if err != nil {
		return err
	}
	h.MaxTokens = *maxTok
	h.Threshold = *threshold
	h.Trained = fmt.Sprintf("go run ./internal/guard/cmd/train --hidden %d --seed %d --max-tokens %d --passage=%v --threshold %g; sets %s; %d examples", *hidden, *seed, *maxTok, *passage, *threshold, strings.Join(sets, ","), len(exs))
	b, err := h.Marshal()
	if err != nil {
		return err
	}
	if err := writeFile(*out, b); err != nil {
		return err
	}
	if err := writeFile(*out+".sha256", []byte(guard.Checksum(b)+"  "+filepath.Base(*out)+"\n")); err != nil {
		return err
	}
	fmt.Printf("wrote %s (%d bytes, sha256 %s)\n", *out, len(b), guard.Checksum(b))
	return nil
}

func raw(e example, kind int) []float32 {
	r := make([]float32, 0, len(e.vec[kind])+len(e.feats))
	return append(append(r, e.vec[kind]...), e.feats...)
}

// fit trains on the examples idx, each as a query and as a passage.
// Weights: every (set, label) group weighs by the square root of its size
// (large sets count more, but not linearly), then both classes weigh the
// same in total.
func fit(exs []example, idx []int, encoder string, dim int, o guard.TrainOptions) (*guard.Head, error) {
	type key struct{ set, label int }
	n := map[key]int{}
	for _, i := range idx {
		n[key{exs[i].set, exs[i].label}]++
	}
	var x [][]float32
	var y []int
	var w []float64
	var cls [2]float64
	for _, i := range idx {
		e := exs[i]
		wi := 1 / math.Sqrt(float64(n[key{e.set, e.label}]))
		for kd := 0; kd < nk; kd++ {
			x = append(x, raw(e, kd))
			y = append(y, e.label)
			w = append(w, wi)
			cls[e.label] += wi
		}
	}
	for i := range w {
		w[i] *= float64(len(w)) / (2 * cls[y[i]])
	}
	return guard.Train(x, y, w, encoder, dim, o)
}

// assignFolds stratifies by (set, label): each group is shuffled and dealt
// round-robin into k folds.
func assignFolds(exs []example, k int, seed uint64) []int {
	rng := rand.New(rand.NewPCG(seed, 7))
	groups := map[[2]int][]int{}
	for i, e := range exs {
		g := [2]int{e.set, e.label}
		groups[g] = append(groups[g], i)
	}
	keys := make([][2]int, 0, len(groups))
	for g := range groups {
		keys = append(keys, g)
	}
	sort.Slice(keys, func(a, b int) bool {
		return keys[a][0] < keys[b][0] || keys[a][0] == keys[b][0] && keys[a][1] < keys[b][1]
	})
	fold := make([]int, len(exs))
	for _, g := range keys {
		m := groups[g]
		rng.Shuffle(len(m), func(a, b int) { m[a], m[b] = m[b], m[a] })
		for j, i := range m {
			fold[i] = j % k
		}
	}
	return fold
}

func report(exs []example, pred [][2]float64, threshold float64) {
	fmt.Println("| set | n | accuracy | precision | recall | FPR | accuracy (as passage) |")
	fmt.Println("|---|--:|--:|--:|--:|--:|--:|")
	for s, name := range sets {
		var c [2]counts
		for i, e := range exs {
			if e.set != s {
				continue
			}
			for kd := 0; kd < nk; kd++ {
				c[kd].add(e.label, pred[i][kd] >= threshold)
			}
		}
		pacc := "–"
		if nk > 1 {
			pacc = fmt.Sprintf("%.3f", c[1].acc())
		}
		fmt.Printf("| %s | %d | %.3f | %s | %s | %s | %s |\n", name, c[0].n(), c[0].acc(), c[0].fmtPrec(), c[0].fmtRecall(), c[0].fmtFPR(), pacc)
	}
	fmt.Println()
}

type counts struct{ tp, fp, tn, fn int }

func (c *counts) add(label int, pos bool) {
	switch {
	case label == 1 && pos:
		c.tp++
	case label == 1:
		c.fn++
	case pos:
		c.fp++
	default:
		c.tn++
	}
}
func (c counts) n() int       { return c.tp + c.fp + c.tn + c.fn }
func (c counts) acc() float64 { return float64(c.tp+c.tn) / float64(max(c.n(), 1)) }
func (c counts) fmtPrec() string {
	if c.tp+c.fp == 0 {
		return "–"
	}
	return fmt.Sprintf("%.3f", float64(c.tp)/float64(c.tp+c.fp))
}
func (c counts) fmtRecall() string {
	if c.tp+c.fn == 0 {
		return "–"
	}
	return fmt.Sprintf("%.3f", float64(c.tp)/float64(c.tp+c.fn))
}
func (c counts) fmtFPR() string {
	if c.fp+c.tn == 0 {
		return "–"
	}
	return fmt.Sprintf("%.3f", float64(c.fp)/float64(c.fp+c.tn))
}

// embedCached embeds texts as kind, reusing vectors cached in file.
func embedCached(emb *embed.Local, file string, texts []string, kind embed.Kind) ([][]float32, error) {
	cache := map[string][]float32{}
	if f, err := os.Open(file); err == nil {
		err := gob.NewDecoder(f).Decode(&cache)
		f.Close()
		if err != nil && err != io.EOF {
			cache = map[string][]float32{} // corrupt: rebuild
		}
	}
	keys := make([]string, len(texts))
	var todo []int
	for i, t := range texts {
		s := sha256.Sum256([]byte(kind.String() + "\x00" + t))
		keys[i] = hex.EncodeToString(s[:])
		if _, ok := cache[keys[i]]; !ok {
			todo = append(todo, i)
		}
	}
	start := time.Now()
	for b := 0; b < len(todo); b += 64 {
		batch := todo[b:min(b+64, len(todo))]
		in := make([]string, len(batch))
		for j, i := range batch {
			in[j] = texts[i]
		}
		vs, err := emb.Embed(context.Background(), in, kind)
		if err != nil {
			return nil, err
		}
		for j, i := range batch {
			cache[keys[i]] = vs[j]
		}
		fmt.Fprintf(os.Stderr, "embedded %d/%d %s texts (%.0fs)\n", min(b+64, len(todo)), len(todo), kind, time.Since(start).Seconds())
		if (b/64)%10 == 9 || b+64 >= len(todo) {
			if err := saveCache(file, cache); err != nil {
				return nil, err
			}
		}
	}
	out := make([][]float32, len(texts))
	for i := range texts {
		out[i] = cache[keys[i]]
	}
	return out, nil
}

func saveCache(file string, cache map[string][]float32) error {
	if err := os.MkdirAll(filepath.Dir(file), 0o755); err != nil {
		return err
	}
	tmp := file + ".tmp"
	f, err := os.Create(tmp)
	if err != nil {
		return err
	}
	if err := gob.NewEncoder(f).Encode(cache); err != nil {
		f.Close()
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	return os.Rename(tmp, file)
}

// writeFile writes atomically: temp file, sync, rename.
func writeFile(path string, b []byte) error {
	tmp := path + ".tmp"
	f, err := os.Create(tmp)
	if err != nil {
		return err
	}
	if _, err := f.Write(b); err != nil {
		f.Close()
		return err
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	return os.Rename(tmp, path)
}
