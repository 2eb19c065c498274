package embed

import (
	"fmt"
	"net/url"
	"strconv"
	"strings"

	"github.com/quarry-rag/quarry/internal/models/transformer"
)

// ParseOptions carry what a spec string does not: credentials, clients,
// timeouts, local model settings. The zero value is valid.
type ParseOptions struct {
	// Local configures local models.
	Local LocalOptions
	// HTTP configures HTTP embedders. A spec's query parameters (dim,
	// max_tokens, batch, query_prefix, passage_prefix) override the
	// matching fields.
	HTTP HTTPOptions
}

// Parse builds an embedder from a configuration string with default
// options (no API key). See ParseWith for the syntax.
func Parse(spec string) (Embedder, error) { return ParseWith(spec, nil) }

// ParseWith builds an embedder from a configuration string:
//
//	all-MiniLM-L6-v2                            a model in the local cache (NewLocal)
//	local:multilingual-e5-small                 the same, explicitly
//	local:/path/to/model                        a model folder
//	all-MiniLM-L6-v2?quantization=int8          a local model with int8 Linear layers
//	openai:https://api.openai.com/v1?model=text-embedding-3-small
//	ollama:http://127.0.0.1:11434?model=nomic-embed-text
//	tei:http://127.0.0.1:8081
//
// A local spec may end in ?quantization=int8 (or float32, the default):
// the encoder's Linear layers then run in int8 (LocalOptions.Quantization).
// An HTTP spec's query may also set dim, max_tokens, batch, query_prefix
// and passage_prefix (URL-encoded: query_prefix=query:%20); other
// parameters are an error. The API key comes only from opts.HTTP.APIKey.
// A nil opts is valid. A local model is loaded now (tens to hundreds of
// megabytes); nothing touches the network.
func ParseWith(spec string, opts *ParseOptions) (Embedder, error) {
	var o ParseOptions
	if opts != nil {
		o = *opts
	}
	p, err := parseSpec(spec)
	if err != nil {
		return nil, err
	}
	switch p.kind {
	case "local":
		if p.quant != transformer.Float32 {
			o.Local.Quantization = p.quant
		}
		return NewLocal(p.target, o.Local)
	}
	p.apply(&o.HTTP)
	switch p.kind {
	case "openai":
		return NewOpenAI(p.target, p.model, o.HTTP)
	case "ollama":
		return NewOllama(p.target, p.model, o.HTTP)
	default:
		return NewTEI(p.target, p.model, o.HTTP)
	}
}

// parsedSpec is a spec string taken apart.
type parsedSpec struct {
	kind   string // "local", "openai", "ollama", "tei"
	target string // model name or folder (local), base URL (HTTP)
	model  string
	quant  transformer.Quantization // local: ?quantization=int8

	dim, maxTokens, batch         int
	queryPrefix, passagePrefix    string
	hasQueryPrefix, hasPassPrefix bool
}

func (p *parsedSpec) apply(o *HTTPOptions) {
	if p.dim > 0 {
		o.Dim = p.dim
	}
	if p.maxTokens > 0 {
		o.MaxTokens = p.maxTokens
	}
	if p.batch > 0 {
		o.MaxBatch = p.batch
	}
	if p.hasQueryPrefix {
		o.QueryPrefix = p.queryPrefix
	}
	if p.hasPassPrefix {
		o.PassagePrefix = p.passagePrefix
	}
}

func parseSpec(spec string) (parsedSpec, error) {
	s := strings.TrimSpace(spec)
	if s == "" {
		return parsedSpec{}, fmt.Errorf("%w: empty", ErrSpec)
	}
	kind, rest, ok := strings.Cut(s, ":")
	switch {
	case ok && kind == "local":
		return parseLocalSpec(spec, rest)
	case ok && (kind == "openai" || kind == "ollama" || kind == "tei"):
		return parseHTTPSpec(spec, kind, rest)
	case ok && (kind == "http" || kind == "https"):
		return parsedSpec{}, fmt.Errorf("%w: %q: say which protocol the server speaks: openai:%s, ollama:%s or tei:%s", ErrSpec, spec, s, s, s)
	}
	return parseLocalSpec(spec, s)
}

// parseLocalSpec reads a local model name or folder with an optional
// ?quantization=float32|int8 (after the last '?').
func parseLocalSpec(spec, s string) (parsedSpec, error) {
	p := parsedSpec{kind: "local", target: s}
	if i := strings.LastIndexByte(s, '?'); i >= 0 {
		p.target = s[:i]
		q, err := url.ParseQuery(s[i+1:])
		if err != nil {
			return parsedSpec{}, fmt.Errorf("%w: %q: query: %v", ErrSpec, spec, err)
		}
		for key, vals := range q {
			if key != "quantization" {
				return parsedSpec{}, fmt.Errorf("%w: %q: unknown parameter %q for a local model (known: quantization)", ErrSpec, spec, key)
			}
			if len(vals) != 1 {
				return parsedSpec{}, fmt.Errorf("%w: %q: parameter %s given %d times", ErrSpec, spec, key, len(vals))
			}
			if p.quant, err = transformer.ParseQuantization(vals[0]); err != nil {
				return parsedSpec{}, fmt.Errorf("%w: %q: quantization=%q (want float32 or int8)", ErrSpec, spec, vals[0])
			}
		}
	}
	if p.target == "" {
		return parsedSpec{}, fmt.Errorf("%w: %q names no model", ErrSpec, spec)
	}
	return p, nil
}

func parseHTTPSpec(spec, kind, rest string) (parsedSpec, error) {
	u, err := url.Parse(rest)
	if err != nil {
		return parsedSpec{}, fmt.Errorf("%w: %q: %v", ErrSpec, spec, err)
	}
	if (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return parsedSpec{}, fmt.Errorf("%w: %q: want %s:http(s)://host[:port][/path][?model=NAME]", ErrSpec, spec, kind)
	}
	if u.Fragment != "" {
		return parsedSpec{}, fmt.Errorf("%w: %q has a #fragment", ErrSpec, spec)
	}
	q, err := url.ParseQuery(u.RawQuery)
	if err != nil {
		return parsedSpec{}, fmt.Errorf("%w: %q: query: %v", ErrSpec, spec, err)
	}
	p := parsedSpec{kind: kind}
	for key, vals := range q {
		if len(vals) != 1 {
			return parsedSpec{}, fmt.Errorf("%w: %q: parameter %s given %d times", ErrSpec, spec, key, len(vals))
		}
		v := vals[0]
		switch key {
		case "model":
			p.model = v
		case "dim", "max_tokens", "batch":
			n, err := strconv.Atoi(v)
			if err != nil || n <= 0 {
				return parsedSpec{}, fmt.Errorf("%w: %q: %s=%q is not a positive integer", ErrSpec, spec, key, v)
			}
			switch key {
			case "dim":
				p.dim = n
			case "max_tokens":
				p.maxTokens = n
			default:
				p.batch = n
			}
		case "query_prefix":
			p.queryPrefix, p.hasQueryPrefix = v, true
		case "passage_prefix":
			p.passagePrefix, p.hasPassPrefix = v, true
		default:
			return parsedSpec{}, fmt.Errorf("%w: %q: unknown parameter %q (known: model, dim, max_tokens, batch, query_prefix, passage_prefix)", ErrSpec, spec, key)
		}
	}
	if kind != "tei" && p.model == "" {
		return parsedSpec{}, fmt.Errorf("%w: %q: %s needs ?model=NAME", ErrSpec, spec, kind)
	}
	u.RawQuery = ""
	u.ForceQuery = false
	p.target = u.String()
	return p, nil
}
