// Command annprep embeds the text data sets of bench/ann_peers into vector
// files, once, so that the ANN benchmark compares every library on the same
// float32 vectors. It uses Quarry's own embedder (internal/embed, pure Go,
// all cores) and writes, under -out (default $QUARRY_HOME/ann/<set>):
//
//	base.fvecs    the vectors to index
//	query.fvecs   the query vectors
//	meta.json     model, sources, counts and the rule that chose the queries
//
// .fvecs is the TEXMEX layout used by ann-benchmarks: per vector an int32
// little-endian dimension followed by that many float32 little-endian
// values. Vectors are L2-normalised by the model (the Normalize module).
//
//	go run ./bench/ann_peers/annprep -set scifact|xquad|wordnet [-out DIR]
//
// Sets:
//   - scifact: BEIR SciFact corpus (title + " " + text, 5,183 passages) and
//     all its queries, all-MiniLM-L6-v2 (max 256 tokens).
//   - xquad: the XQuAD paragraphs of all 7 languages, de-duplicated by text
//     (embedded as passages), and all their questions (as queries),
//     multilingual-e5-small ("passage: " / "query: " prefixes).
//   - wordnet: WordNet 3.0 glosses, all-MiniLM-L6-v2; 1,000 glosses drawn with
//     a seeded permutation (math/rand seed 1) are held out as the queries
//     (embedded like the rest, as passages) and are not in the index.
//
// Environment: QUARRY_HOME (default ~/.cache/quarry), QUARRY_DATASETS
// (default <module root>/../shared/datasets). A benchmark driver, not part
// of Quarry's API.
package main

import (
	"bufio"
	"context"
	"encoding/binary"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"math"
	"math/rand"
	"os"
	"path/filepath"
	"time"

	"github.com/quarry-rag/quarry/internal/embed"
)

type doc struct {
	ID    string `json:"_id"`
	Title string `json:"title"`
	Text  string `json:"text"`
}

type meta struct {
	Set      string   `json:"set"`
	Model    string   `json:"model"`
	Dim      int      `json:"dim"`
	Base     int      `json:"base"`
	Queries  int      `json:"queries"`
	Sources  []string `json:"sources"`
	Rule     string   `json:"rule"`
	EmbedSec float64  `json:"embed_seconds"`
}

func main() {
	set := flag.String("set", "", "scifact, xquad or wordnet")
	out := flag.String("out", "", "output folder (default $QUARRY_HOME/ann/<set>)")
	flag.Parse()
	if err := run(*set, *out); err != nil {
		fmt.Fprintln(os.Stderr, "annprep:", err)
		os.Exit(1)
	}
}

func quarryHome() string {
	if h := os.Getenv("QUARRY_HOME"); h != "" {
		return h
	}
	h, _ := os.UserHomeDir()
	return filepath.Join(h, ".cache", "quarry")
}

func datasets() string {
	if d := os.Getenv("QUARRY_DATASETS"); d != "" {
		return d
	}
	wd, _ := os.Getwd()
	for d := wd; ; d = filepath.Dir(d) {
		if _, err := os.Stat(filepath.Join(d, "go.mod")); err == nil {
			return filepath.Join(filepath.Dir(d), "shared", "datasets")
		}
		if filepath.Dir(d) == d {
			return "../shared/datasets"
		}
	}
}

func run(set, out string) error {
	if out == "" {
		out = filepath.Join(quarryHome(), "ann", set)
	}
	ds := datasets()
	var (
		m            meta
		base, querys []string
		qKind        = embed.Query
	)
	m.Set = set
	switch set {
	case "scifact":
		m.Model = "all-MiniLM-L6-v2"
		c := filepath.Join(ds, "beir", "scifact", "corpus.jsonl")
		q := filepath.Join(ds, "beir", "scifact", "queries.jsonl")
		docs, err := readJSONL(c)
		if err != nil {
			return err
		}
		for _, d := range docs {
			base = append(base, d.Title+" "+d.Text)
		}
		qs, err := readJSONL(q)
		if err != nil {
			return err
		}
		for _, d := range qs {
			querys = append(querys, d.Text)
		}
		m.Sources = []string{c, q}
		m.Rule = "corpus title + \" \" + text as passages; every query of queries.jsonl as a query"
	case "xquad":
		m.Model = "multilingual-e5-small"
		seen := map[string]bool{}
		for _, lang := range []string{"en", "de", "es", "zh", "ar", "hi", "ru"} {
			c := filepath.Join(ds, "xquad", lang, "corpus.jsonl")
			q := filepath.Join(ds, "xquad", lang, "queries.jsonl")
			docs, err := readJSONL(c)
			if err != nil {
				return err
			}
			for _, d := range docs {
				t := d.Title + d.Text
				if !seen[t] {
					seen[t] = true
					base = append(base, t)
				}
			}
			qs, err := readJSONL(q)
			if err != nil {
				return err
			}
			for _, d := range qs {
				querys = append(querys, d.Text)
			}
			m.Sources = append(m.Sources, c, q)
		}
		m.Rule = "paragraphs of en,de,es,zh,ar,hi,ru de-duplicated by text, as passages; every question of the 7 languages as a query"
	case "wordnet":
		m.Model = "all-MiniLM-L6-v2"
		c := filepath.Join(ds, "ann", "wordnet_glosses.jsonl")
		docs, err := readJSONL(c)
		if err != nil {
			return err
		}
		perm := rand.New(rand.NewSource(1)).Perm(len(docs))
		held := map[int]bool{}
		for _, i := range perm[:1000] {
			held[i] = true
			querys = append(querys, docs[i].Text)
		}
		for i, d := range docs {
			if !held[i] {
				base = append(base, d.Text)
			}
		}
		qKind = embed.Passage
		m.Sources = []string{c}
		m.Rule = "1,000 glosses held out by a seeded permutation (Go math/rand seed 1, first 1,000 of Perm(n)) are the queries, embedded as passages and not indexed; the rest, in file order, are the base"
	default:
		return fmt.Errorf("-set %q: want scifact, xquad or wordnet", set)
	}
	emb, err := embed.NewLocal(m.Model, embed.LocalOptions{})
	if err != nil {
		return err
	}
	defer emb.Close()
	m.Dim = emb.Dim()
	if err := os.MkdirAll(out, 0o755); err != nil {
		return err
	}
	t0 := time.Now()
	if err := embedTo(emb, base, embed.Passage, filepath.Join(out, "base.fvecs")); err != nil {
		return err
	}
	if err := embedTo(emb, querys, qKind, filepath.Join(out, "query.fvecs")); err != nil {
		return err
	}
	m.EmbedSec = time.Since(t0).Seconds()
	m.Base, m.Queries = len(base), len(querys)
	b, _ := json.MarshalIndent(m, "", "  ")
	return os.WriteFile(filepath.Join(out, "meta.json"), append(b, '\n'), 0o644)
}

// embedTo embeds texts in slices of 4,096 (so progress shows) and writes
// them to path atomically (path.tmp, then rename).
func embedTo(emb *embed.Local, texts []string, kind embed.Kind, path string) error {
	f, err := os.Create(path + ".tmp")
	if err != nil {
		return err
	}
	defer os.Remove(path + ".tmp")
	w := bufio.NewWriter(f)
	t0 := time.Now()
	const step = 4096
	for i := 0; i < len(texts); i += step {
		vecs, err := emb.Embed(context.Background(), texts[i:min(i+step, len(texts))], kind)
		if err != nil {
			f.Close()
			return err
		}
		for _, v := range vecs {
			if err := writeVec(w, v); err != nil {
				f.Close()
				return err
			}
		}
		fmt.Fprintf(os.Stderr, "annprep: %s %d/%d (%.0f s)\n", filepath.Base(path), min(i+step, len(texts)), len(texts), time.Since(t0).Seconds())
	}
	if err := w.Flush(); err != nil {
		f.Close()
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	return os.Rename(path+".tmp", path)
}

func writeVec(w io.Writer, v []float32) error {
	buf := make([]byte, 4+4*len(v))
	binary.LittleEndian.PutUint32(buf, uint32(len(v)))
	for j, x := range v {
		binary.LittleEndian.PutUint32(buf[4+4*j:], math.Float32bits(x))
	}
	_, err := w.Write(buf)
	return err
}

func readJSONL(path string) ([]doc, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var out []doc
	sc := bufio.NewScanner(f)
	sc.Buffer(nil, 64<<20)
	for n := 1; sc.Scan(); n++ {
		if len(sc.Bytes()) == 0 {
			continue
		}
		var d doc
		if err := json.Unmarshal(sc.Bytes(), &d); err != nil {
			return nil, fmt.Errorf("%s:%d: %w", path, n, err)
		}
		out = append(out, d)
	}
	return out, sc.Err()
}
