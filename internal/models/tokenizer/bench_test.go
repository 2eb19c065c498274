package tokenizer

import (
	"bufio"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func datasetsDir() string {
	if d := os.Getenv("QUARRY_DATASETS"); d != "" {
		return d
	}
	return filepath.Join("..", "..", "..", "..", "shared", "datasets")
}

// benchText returns about 1 MB of text from a corpus file of the datasets.
func benchText(b *testing.B, rel string) string {
	f, err := os.Open(filepath.Join(datasetsDir(), rel))
	if err != nil {
		b.Skipf("dataset %s not available: %v", rel, err)
	}
	defer f.Close()
	var sb strings.Builder
	sc := bufio.NewScanner(f)
	sc.Buffer(nil, 1<<24)
	for sc.Scan() && sb.Len() < 1<<20 {
		var r struct{ Text string }
		if json.Unmarshal(sc.Bytes(), &r) == nil {
			sb.WriteString(r.Text)
			sb.WriteString("\n")
		}
	}
	return sb.String()
}

// benchEncode encodes the text as paragraphs (one Encode call per line), the
// way documents reach an embedder.
func benchEncode(b *testing.B, model, rel string) {
	text := benchText(b, rel)
	tk := loadModelTokenizer(b, model)
	lines := strings.Split(text, "\n")
	b.SetBytes(int64(len(text)))
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		for _, l := range lines {
			tk.Encode(l)
		}
	}
}

func BenchmarkWordPieceEnglish(b *testing.B) {
	benchEncode(b, "all-MiniLM-L6-v2", "beir/scifact/corpus.jsonl")
}

func BenchmarkUnigramEnglish(b *testing.B) {
	benchEncode(b, "multilingual-e5-small", "beir/scifact/corpus.jsonl")
}

func BenchmarkUnigramChinese(b *testing.B) {
	benchEncode(b, "multilingual-e5-small", "xquad/zh/corpus.jsonl")
}
