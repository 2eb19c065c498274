// Command langid compares language identifiers on a labelled set built
// from the shared XQuAD questions and paragraphs (seven languages) and the
// English/German/Chinese prompts of the injection sets: Quarry's
// text.DetectLanguage, plain whatlanggo, and lingua-go (restricted to the
// languages Quarry has analyzers for). It is a separate module so that
// lingua-go's 100 MB of models never enter Quarry's own build.
//
//	cd tools/langid && go run . -datasets $QUARRY_DATASETS
package main

import (
	"bufio"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/abadojack/whatlanggo"
	"github.com/pemistahl/lingua-go"

	"github.com/quarry-rag/quarry/internal/text"
)

type sample struct {
	lang, bucket, text string
}

func main() {
	dir := flag.String("datasets", os.Getenv("QUARRY_DATASETS"), "shared datasets folder")
	flag.Parse()
	samples := load(*dir)
	fmt.Printf("%d labelled samples\n", len(samples))

	iso := map[whatlanggo.Lang]string{}
	for l := range whatlanggo.Langs {
		iso[l] = l.Iso6391()
	}
	var linguaLangs []lingua.Language
	for _, code := range strings.Fields("ar bg bn ca cs da de el en es et eu fa fi fr ga gu he hi hu hy id it ja ka ko lt lv mr nb nl nn pl pt ro ru sk sl sr sv ta te th tr uk ur vi zh") {
		if l := lingua.GetLanguageFromIsoCode639_1(lingua.GetIsoCode639_1FromValue(code)); l != lingua.Unknown {
			linguaLangs = append(linguaLangs, l)
		}
	}
	t0 := time.Now()
	det := lingua.NewLanguageDetectorBuilder().FromLanguages(linguaLangs...).WithPreloadedLanguageModels().Build()
	fmt.Printf("lingua-go: %d languages, models loaded in %s\n", len(linguaLangs), time.Since(t0).Round(time.Millisecond))

	ids := []struct {
		name string
		fn   func(string) string
	}{
		{"quarry DetectLanguage", func(s string) string { l, _ := text.DetectLanguage(s); return l }},
		{"whatlanggo", func(s string) string { return iso[whatlanggo.Detect(s).Lang] }},
		{"lingua-go", func(s string) string {
			l, ok := det.DetectLanguageOf(s)
			if !ok {
				return ""
			}
			c := strings.ToLower(l.IsoCode639_1().String())
			if c == "nb" || c == "nn" {
				c = "no"
			}
			return c
		}},
	}
	for _, id := range ids {
		type key struct{ bucket, lang string }
		ok, n := map[key]int{}, map[key]int{}
		t0 := time.Now()
		for _, s := range samples {
			hit := id.fn(s.text) == s.lang
			// Each sample counts in its source bucket and in its length
			// bucket.
			for _, k := range []key{{s.bucket, s.lang}, {lengthBucket(s.text), s.lang}} {
				n[k]++
				if hit {
					ok[k]++
				}
			}
		}
		el := time.Since(t0)
		var keys []key
		for k := range n {
			keys = append(keys, k)
		}
		sort.Slice(keys, func(i, j int) bool {
			if keys[i].bucket != keys[j].bucket {
				return keys[i].bucket < keys[j].bucket
			}
			return keys[i].lang < keys[j].lang
		})
		fmt.Printf("\n%s (%.1f µs/sample)\n", id.name, float64(el.Microseconds())/float64(len(samples)))
		for _, k := range keys {
			fmt.Printf("  %-22s %-3s %.4f  (%d/%d)\n", k.bucket, k.lang, float64(ok[k])/float64(n[k]), ok[k], n[k])
		}
	}
}

// lengthBucket names a sample's length in characters. The buckets are
// fixed in advance, not fitted to the data: a short keyword query, a
// question, a long question or sentence, a paragraph.
func lengthBucket(s string) string {
	switch n := utf8.RuneCountInString(s); {
	case n <= 30:
		return "length   1-30"
	case n <= 60:
		return "length  31-60"
	case n <= 120:
		return "length 61-120"
	default:
		return "length   >120"
	}
}

func load(dir string) []sample {
	var out []sample
	for _, lang := range []string{"ar", "de", "en", "es", "hi", "ru", "zh"} {
		for _, s := range readField(filepath.Join(dir, "xquad", lang, "queries.jsonl"), "text", "") {
			out = append(out, sample{lang, "xquad question", s})
		}
		for _, s := range readField(filepath.Join(dir, "xquad", lang, "corpus.jsonl"), "text", "") {
			out = append(out, sample{lang, "xquad paragraph", s})
		}
	}
	// The injection sets' languages were guessed by a heuristic (see their
	// PROVENANCE.md); only en, de and zh are used, and errors there may be
	// label errors.
	for _, f := range []string{"deepset_prompt_injections_train.jsonl", "notinject_benign.jsonl"} {
		for _, row := range readRows(filepath.Join(dir, "injection", f)) {
			if row.Lang != "en" && row.Lang != "de" && row.Lang != "zh" {
				continue
			}
			b := "injection short"
			if utf8.RuneCountInString(row.Text) > 200 {
				b = "injection long"
			}
			out = append(out, sample{row.Lang, b, row.Text})
		}
	}
	return out
}

func readField(path, field, _ string) []string {
	var out []string
	for _, r := range readRows(path) {
		out = append(out, r.Text)
	}
	return out
}

type row struct {
	Text string `json:"text"`
	Lang string `json:"lang"`
}

func readRows(path string) []row {
	f, err := os.Open(path)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	defer f.Close()
	var out []row
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 16<<20)
	for sc.Scan() {
		var r row
		if err := json.Unmarshal(sc.Bytes(), &r); err == nil {
			out = append(out, r)
		}
	}
	return out
}
