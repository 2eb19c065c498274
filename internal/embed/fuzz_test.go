package embed

import (
	"bytes"
	"encoding/json"
	"math"
	"net/url"
	"strings"
	"testing"

	"github.com/quarry-rag/quarry/internal/models/transformer"
)

func FuzzParseSpec(f *testing.F) {
	for _, s := range []string{
		"all-MiniLM-L6-v2", "local:/tmp/m", "openai:https://h/v1?model=m&dim=3",
		"ollama:http://127.0.0.1:11434?model=nomic-embed-text", "tei:http://h:8081?batch=4&query_prefix=q:%20",
		"http://h", "tei:", "openai:https://h?model=m&model=n", "",
		"all-MiniLM-L6-v2?quantization=int8", "local:/m?x?quantization=float32", "m?quantization=%zz", "?quantization=int8",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, spec string) {
		p, err := parseSpec(spec)
		if err != nil {
			return
		}
		switch p.kind {
		case "local":
			if p.target == "" {
				t.Fatalf("%q: local with no target", spec)
			}
			if p.quant != transformer.Float32 && p.quant != transformer.Int8 {
				t.Fatalf("%q: quantization %v", spec, p.quant)
			}
			if p.quant == transformer.Int8 && !strings.Contains(spec, "quantization=int8") {
				t.Fatalf("%q: int8 without asking", spec)
			}
		case "openai", "ollama", "tei":
			u, err := url.Parse(p.target)
			if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.RawQuery != "" {
				t.Fatalf("%q: target %q is not a bare base URL", spec, p.target)
			}
			if p.kind != "tei" && p.model == "" {
				t.Fatalf("%q: %s without a model", spec, p.kind)
			}
			if p.dim < 0 || p.maxTokens < 0 || p.batch < 0 {
				t.Fatalf("%q: negative parameter", spec)
			}
		default:
			t.Fatalf("%q: kind %q", spec, p.kind)
		}
	})
}

// FuzzDecode feeds arbitrary bodies to the three response decoders: they
// must not panic, and what they accept must be JSON once non-finite
// tokens are quoted.
func FuzzDecode(f *testing.F) {
	for _, s := range []string{
		`[[1,2],[3,4]]`, `{"embeddings":[[0.5,NaN]]}`, `{"data":[{"index":1,"embedding":[1]},{"index":0,"embedding":[2]}]}`,
		`{"data":[{"embedding":[1e39]}]}`, `[[-Infinity, "x"]]`, `{"data":[{"index":0,"embedding":[1]},{"index":0,"embedding":[2]}]}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		for _, p := range []protocol{openAIProtocol, ollamaProtocol, teiProtocol} {
			vecs, err := p.decode(body)
			if err != nil {
				continue
			}
			if !json.Valid(quoteNonFinite(body)) {
				t.Fatalf("%s accepted %q, which is not JSON", p.name, body)
			}
			for i, v := range vecs {
				if v == nil {
					t.Fatalf("%s: vector %d is nil", p.name, i)
				}
			}
		}
	})
}

// FuzzVector checks the hand-written vector decoder against encoding/json:
// whatever encoding/json reads into []float32, vector reads identically.
func FuzzVector(f *testing.F) {
	for _, s := range []string{`[1, 2.5, -3e-7]`, `[]`, `[ 0.1 ,0.2 ]`, `[1e38, -0, 5E+2]`, `[1,]`, `[[1]]`, `["1"]`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		var want []float32
		if json.Unmarshal(b, &want) != nil || bytes.Contains(b, []byte("null")) {
			return
		}
		var got vector
		if err := json.Unmarshal(b, &got); err != nil {
			t.Fatalf("%q: encoding/json reads %v, vector fails: %v", b, want, err)
		}
		if len(got) != len(want) {
			t.Fatalf("%q: %v vs %v", b, got, want)
		}
		for i := range got {
			if math.Float32bits(got[i]) != math.Float32bits(want[i]) {
				t.Fatalf("%q: component %d: %v vs %v", b, i, got[i], want[i])
			}
		}
	})
}

// FuzzQuoteNonFinite: valid JSON passes unchanged; an array of numbers
// with bare non-finite tokens becomes valid JSON.
func FuzzQuoteNonFinite(f *testing.F) {
	for _, s := range []string{`{"a":"NaN Infinity"}`, `[NaN,-Infinity,Infinity,1]`, `"\"NaN"`, `[1,2]`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		out := quoteNonFinite(b)
		if json.Valid(b) && !bytes.Equal(out, b) {
			t.Fatalf("valid JSON %q changed to %q", b, out)
		}
	})
}

func TestQuoteNonFinite(t *testing.T) {
	for in, want := range map[string]string{
		`[NaN,-Infinity,Infinity,1]`:         `["NaN","-Infinity","Infinity",1]`,
		`{"s":"NaN \" Infinity","v":[NaN]}`:  `{"s":"NaN \" Infinity","v":["NaN"]}`,
		`{"embeddings":[[0.1, -Infinity ]]}`: `{"embeddings":[[0.1, "-Infinity" ]]}`,
		`[1,2]`:                              `[1,2]`,
		`"\\"NaN`:                            `"\\""NaN"`,
	} {
		if got := string(quoteNonFinite([]byte(in))); got != want {
			t.Errorf("%s → %s, want %s", in, got, want)
		}
	}
}
