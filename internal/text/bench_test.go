package text

import (
	"bufio"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// datasets returns the shared datasets directory (env QUARRY_DATASETS,
// default ../shared/datasets relative to the repository root).
func datasets() string {
	if d := os.Getenv("QUARRY_DATASETS"); d != "" {
		return d
	}
	return filepath.Join("..", "..", "..", "shared", "datasets")
}

// readCorpus reads the "title" and "text" fields of a BEIR-style
// corpus.jsonl, skipping the test when the file is absent.
func readCorpus(tb testing.TB, path string) []string {
	tb.Helper()
	f, err := os.Open(path)
	if os.IsNotExist(err) {
		tb.Skipf("dataset %s not present (set QUARRY_DATASETS)", path)
	}
	if err != nil {
		tb.Fatal(err)
	}
	defer f.Close()
	var docs []string
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 16<<20)
	for sc.Scan() {
		var d struct{ Title, Text string }
		if err := json.Unmarshal(sc.Bytes(), &d); err != nil {
			tb.Fatal(err)
		}
		docs = append(docs, strings.TrimSpace(d.Title+"\n"+d.Text))
	}
	if err := sc.Err(); err != nil {
		tb.Fatal(err)
	}
	return docs
}

// englishSample is a few kilobytes of English prose used when the
// datasets are absent.
var englishSample = strings.Repeat(`Alterations of the architecture of cerebral white matter in the developing
human brain can affect cortical development and result in functional disabilities. A line scan
diffusion-weighted magnetic resonance imaging (MRI) sequence with diffusion tensor analysis was applied
to measure the apparent diffusion coefficient, to calculate relative anisotropy, and to delineate
three-dimensional fiber architecture in cerebral white matter in preterm (n = 17) and full-term infants
(n = 7). To assess effects of prematurity on cerebral white matter development, early gestation preterm
infants (n = 10) were studied a second time at term. `, 8)

func BenchmarkAppendTerms(b *testing.B) {
	a, err := NewAnalyzer(AnalyzerConfig{Language: "en"})
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(len(englishSample)))
	b.ReportAllocs()
	var dst []string
	for b.Loop() {
		dst = a.AppendTerms(dst[:0], englishSample)
	}
}

func BenchmarkAnalyze(b *testing.B) {
	a, err := NewAnalyzer(AnalyzerConfig{Language: "en"})
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(len(englishSample)))
	b.ReportAllocs()
	for b.Loop() {
		a.Analyze(englishSample)
	}
}

// BenchmarkAppendTermsSciFact analyses the whole SciFact corpus (5,183
// abstracts) with a fresh analyzer each time, as a BM25 build would.
func BenchmarkAppendTermsSciFact(b *testing.B) {
	docs := readCorpus(b, filepath.Join(datasets(), "beir", "scifact", "corpus.jsonl"))
	n := 0
	for _, d := range docs {
		n += len(d)
	}
	b.SetBytes(int64(n))
	b.ReportAllocs()
	for b.Loop() {
		a, err := NewAnalyzer(AnalyzerConfig{Language: "en"})
		if err != nil {
			b.Fatal(err)
		}
		var dst []string
		for _, d := range docs {
			dst = a.AppendTerms(dst[:0], d)
		}
	}
}

// BenchmarkAnalyzeThai measures dictionary segmentation (maximal matching)
// on Thai prose without spaces between words.
func BenchmarkAnalyzeThai(b *testing.B) {
	s := strings.Repeat("นักวิจัยไทยเผยแพร่ผลการศึกษาใหม่เกี่ยวกับการเปลี่ยนแปลงสภาพภูมิอากาศ ", 40)
	a := mustAnalyzer(b, AnalyzerConfig{Language: "th"})
	a.AppendTerms(nil, s) // load the dictionary
	b.SetBytes(int64(len(s)))
	var dst []string
	for b.Loop() {
		dst = a.AppendTerms(dst[:0], s)
	}
}

// BenchmarkLoadThaiDictionary measures the one-time cost of the embedded
// Thai word list (decompress, parse, sort).
func BenchmarkLoadThaiDictionary(b *testing.B) {
	for b.Loop() {
		loadDict("data/dict/th.txt.gz")
	}
}

// BenchmarkAnalyzeGerman measures German analysis with a cold word cache
// (a new analyzer per round, the dictionary already loaded), with and
// without compound splitting: every distinct word is split once.
func BenchmarkAnalyzeGerman(b *testing.B) {
	s := strings.Repeat("Die Verteidigung der Panthers gab nur 308 Punkte ab und belegte den sechsten Platz in der Liga. "+
		"Die Touristeneisenbahnen fahren auf Schmalspurstrecken; die Verhandlungsstrategie der Gewerkschaften "+
		"und die Straßenverkehrssicherheitsgesetze wurden im Gerichtsverfahren geprüft. ", 20)
	decompounders["de"]()
	for _, c := range []struct {
		name string
		off  bool
	}{{"decompound", false}, {"off", true}} {
		b.Run(c.name, func(b *testing.B) {
			b.SetBytes(int64(len(s)))
			var dst []string
			for b.Loop() {
				a := mustAnalyzer(b, AnalyzerConfig{Language: "de", NoDecompound: c.off})
				dst = a.AppendTerms(dst[:0], s)
			}
		})
	}
}

// BenchmarkLoadGermanNouns measures the one-time cost of the embedded
// German noun forms used to split compounds.
func BenchmarkLoadGermanNouns(b *testing.B) {
	for b.Loop() {
		loadDict("data/dict/de-nouns.txt.gz")
	}
}

// BenchmarkAnalyzeArabic measures Arabic analysis of the XQuAD ar
// paragraphs with a cold word cache (a new analyzer per round, the lexicon
// already loaded): with the lexicon-checked clitic stemmer, and without
// stemming (normalisation and stopwords only).
func BenchmarkAnalyzeArabic(b *testing.B) {
	docs := readCorpus(b, filepath.Join(datasets(), "xquad", "ar", "corpus.jsonl"))
	n := 0
	for _, d := range docs {
		n += len(d)
	}
	arabicLexicon()
	for _, c := range []struct {
		name   string
		noStem bool
	}{{"stem", false}, {"nostem", true}} {
		b.Run(c.name, func(b *testing.B) {
			b.SetBytes(int64(n))
			var dst []string
			for b.Loop() {
				a := mustAnalyzer(b, AnalyzerConfig{Language: "ar", NoStem: c.noStem})
				for _, d := range docs {
					dst = a.AppendTerms(dst[:0], d)
				}
			}
		})
	}
}

// BenchmarkLoadArabicLexicon measures the one-time cost of the embedded
// Arabic lexicon (decompress, normalise, add the light stems, sort).
func BenchmarkLoadArabicLexicon(b *testing.B) {
	for b.Loop() {
		loadArabicLexicon()
	}
}
