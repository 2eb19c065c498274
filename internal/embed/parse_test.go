package embed

import (
	"errors"
	"testing"
	"time"

	"github.com/quarry-rag/quarry/internal/models/hub"
	"github.com/quarry-rag/quarry/internal/models/transformer"
)

func TestParseSpec(t *testing.T) {
	for _, tc := range []struct {
		spec string
		want parsedSpec
		err  error
	}{
		{"all-MiniLM-L6-v2", parsedSpec{kind: "local", target: "all-MiniLM-L6-v2"}, nil},
		{"  multilingual-e5-small ", parsedSpec{kind: "local", target: "multilingual-e5-small"}, nil},
		{"local:/path/to/dir", parsedSpec{kind: "local", target: "/path/to/dir"}, nil},
		{"/path/to/dir", parsedSpec{kind: "local", target: "/path/to/dir"}, nil},
		{"local:C:\\models\\e5", parsedSpec{kind: "local", target: "C:\\models\\e5"}, nil},
		{"openai:https://host/v1?model=text-embedding-3-small",
			parsedSpec{kind: "openai", target: "https://host/v1", model: "text-embedding-3-small"}, nil},
		{"ollama:http://127.0.0.1:11434?model=nomic-embed-text",
			parsedSpec{kind: "ollama", target: "http://127.0.0.1:11434", model: "nomic-embed-text"}, nil},
		{"tei:http://127.0.0.1:8081", parsedSpec{kind: "tei", target: "http://127.0.0.1:8081"}, nil},
		{"tei:http://h:8081/?model=bge-small-en-v1.5&dim=384&max_tokens=512&batch=16&query_prefix=Represent%20this:%20&passage_prefix=",
			parsedSpec{kind: "tei", target: "http://h:8081/", model: "bge-small-en-v1.5", dim: 384, maxTokens: 512, batch: 16,
				queryPrefix: "Represent this: ", hasQueryPrefix: true, hasPassPrefix: true}, nil},
		{"all-MiniLM-L6-v2?quantization=int8", parsedSpec{kind: "local", target: "all-MiniLM-L6-v2", quant: transformer.Int8}, nil},
		{"local:/m/e5?quantization=float32", parsedSpec{kind: "local", target: "/m/e5"}, nil},
		{"all-MiniLM-L6-v2?quantization=int4", parsedSpec{}, ErrSpec},
		{"all-MiniLM-L6-v2?quantization=int8&quantization=int8", parsedSpec{}, ErrSpec},
		{"all-MiniLM-L6-v2?batch=3", parsedSpec{}, ErrSpec},
		{"local:?quantization=int8", parsedSpec{}, ErrSpec},
		{"", parsedSpec{}, ErrSpec},
		{"local:", parsedSpec{}, ErrSpec},
		{"openai:https://host/v1", parsedSpec{}, ErrSpec},          // no model
		{"ollama:http://h?model=a&model=b", parsedSpec{}, ErrSpec}, // twice
		{"ollama:http://h?model=a&api_key=sk", parsedSpec{}, ErrSpec},
		{"tei:http://h?dim=-3", parsedSpec{}, ErrSpec},
		{"tei:http://h?batch=x", parsedSpec{}, ErrSpec},
		{"tei:127.0.0.1:8081", parsedSpec{}, ErrSpec},
		{"tei:http://h#frag", parsedSpec{}, ErrSpec},
		{"tei:http://h?%zz", parsedSpec{}, ErrSpec},
		{"http://127.0.0.1:11434", parsedSpec{}, ErrSpec}, // which protocol?
	} {
		got, err := parseSpec(tc.spec)
		if !errors.Is(err, tc.err) || (tc.err == nil && got != tc.want) {
			t.Errorf("parseSpec(%q) = %+v, %v; want %+v, %v", tc.spec, got, err, tc.want, tc.err)
		}
	}
}

func TestParseWithHTTP(t *testing.T) {
	emb, err := ParseWith("openai:https://api.example.com/v1?model=text-embedding-3-small&dim=1536&batch=100",
		&ParseOptions{HTTP: HTTPOptions{APIKey: "sk-test", Timeout: time.Second, MaxBatch: 7}})
	if err != nil {
		t.Fatal(err)
	}
	h := emb.(*HTTP)
	defer h.Close()
	if h.Name() != "openai:text-embedding-3-small" || h.Dim() != 1536 || h.opts.MaxBatch != 100 ||
		h.opts.APIKey != "sk-test" || h.opts.Timeout != time.Second || h.Endpoint() != "https://api.example.com/v1/embeddings" {
		t.Errorf("got %s dim %d opts %+v endpoint %s", h.Name(), h.Dim(), h.opts, h.Endpoint())
	}
	emb, err = Parse("ollama:http://127.0.0.1:11434?model=nomic-embed-text&query_prefix=search_query:%20&passage_prefix=search_document:%20")
	if err != nil {
		t.Fatal(err)
	}
	o := emb.(*HTTP)
	defer o.Close()
	if o.opts.QueryPrefix != "search_query: " || o.opts.PassagePrefix != "search_document: " || o.opts.APIKey != "" {
		t.Errorf("opts %+v", o.opts)
	}
}

func TestParseLocalMissing(t *testing.T) {
	_, err := Parse("no-such-model-xyz")
	if !errors.Is(err, hub.ErrNotFound) {
		t.Errorf("err = %v, want hub.ErrNotFound", err)
	}
	_, err = Parse("local:" + t.TempDir())
	if !errors.Is(err, hub.ErrNotFound) {
		t.Errorf("empty folder: err = %v, want hub.ErrNotFound", err)
	}
}
