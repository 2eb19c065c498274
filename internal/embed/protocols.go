package embed

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"strconv"
)

var openAIProtocol = protocol{
	name:   "openai",
	suffix: "/v1/embeddings",
	alt:    []string{"/v1"},
	request: func(model string, texts []string) any {
		return struct {
			Model string   `json:"model"`
			Input []string `json:"input"`
		}{model, texts}
	},
	decode: decodeOpenAI,
}

var ollamaProtocol = protocol{
	name:   "ollama",
	suffix: "/api/embed",
	alt:    []string{"/api"},
	request: func(model string, texts []string) any {
		return struct {
			Model string   `json:"model"`
			Input []string `json:"input"`
		}{model, texts}
	},
	decode: decodeOllama,
}

var teiProtocol = protocol{
	name:   "tei",
	suffix: "/embed",
	request: func(_ string, texts []string) any {
		return struct {
			Inputs   []string `json:"inputs"`
			Truncate bool     `json:"truncate"`
		}{texts, true}
	},
	decode: decodeTEI,
}

// decodeOpenAI reads {"data": [{"index": i, "embedding": [...]}, ...]}
// and orders the vectors by index. Without any index field, the array
// order is kept.
func decodeOpenAI(body []byte) ([][]float32, error) {
	var r struct {
		Data *[]struct {
			Index     *int    `json:"index"`
			Embedding *vector `json:"embedding"`
		} `json:"data"`
	}
	if err := unmarshal(body, &r); err != nil {
		return nil, err
	}
	if r.Data == nil {
		return nil, errors.New(`no "data" array`)
	}
	data := *r.Data
	out := make([][]float32, len(data))
	withIndex := 0
	for _, d := range data {
		if d.Index != nil {
			withIndex++
		}
	}
	if withIndex != 0 && withIndex != len(data) {
		return nil, errors.New(`"index" missing on some items of "data"`)
	}
	for i, d := range data {
		if d.Embedding == nil {
			return nil, fmt.Errorf(`data[%d] has no "embedding" array (base64 encoding is not supported)`, i)
		}
		at := i
		if d.Index != nil {
			at = *d.Index
			if at < 0 || at >= len(data) || out[at] != nil {
				return nil, fmt.Errorf(`data[%d] has index %d: want each of 0..%d once`, i, at, len(data)-1)
			}
		}
		out[at] = *d.Embedding
		if out[at] == nil {
			out[at] = []float32{}
		}
	}
	return out, nil
}

// decodeOllama reads {"embeddings": [[...], ...]}.
func decodeOllama(body []byte) ([][]float32, error) {
	var r struct {
		Embeddings *[]vector `json:"embeddings"`
	}
	if err := unmarshal(body, &r); err != nil {
		return nil, err
	}
	if r.Embeddings == nil {
		return nil, errors.New(`no "embeddings" array`)
	}
	return vectors(*r.Embeddings), nil
}

// decodeTEI reads [[...], ...].
func decodeTEI(body []byte) ([][]float32, error) {
	var r *[]vector
	if err := unmarshal(body, &r); err != nil {
		return nil, err
	}
	if r == nil {
		return nil, errors.New("null instead of an array of vectors")
	}
	return vectors(*r), nil
}

func vectors(vs []vector) [][]float32 {
	out := make([][]float32, len(vs))
	for i, v := range vs {
		out[i] = v
		if out[i] == nil {
			out[i] = []float32{}
		}
	}
	return out
}

// vector is a JSON array of numbers that also accepts the non-standard
// NaN, Infinity and -Infinity that Python's json module writes (after
// quoteNonFinite), so that such values are reported as what they are
// rather than as a syntax error.
type vector []float32

func (v *vector) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	if string(b) == "null" {
		*v = nil
		return nil
	}
	if len(b) < 2 || b[0] != '[' || b[len(b)-1] != ']' {
		return fmt.Errorf("want an array of numbers, got %.20s", b)
	}
	out := make([]float32, 0, bytes.Count(b, []byte(","))+1)
	rest := bytes.TrimSpace(b[1 : len(b)-1])
	for len(rest) > 0 {
		tok := rest
		if i := bytes.IndexByte(rest, ','); i >= 0 {
			tok, rest = rest[:i], rest[i+1:]
			if len(bytes.TrimSpace(rest)) == 0 {
				return errors.New("trailing comma in a vector")
			}
		} else {
			rest = nil
		}
		tok = bytes.TrimSpace(tok)
		f, err := parseComponent(tok)
		if err != nil {
			return fmt.Errorf("component %d: %w", len(out), err)
		}
		out = append(out, f)
	}
	*v = out
	return nil
}

// parseComponent parses one JSON number (rounded to float32 as
// encoding/json does) or a quoted non-finite value.
func parseComponent(tok []byte) (float32, error) {
	switch string(tok) {
	case `"NaN"`:
		return float32(math.NaN()), nil
	case `"Infinity"`:
		return float32(math.Inf(1)), nil
	case `"-Infinity"`:
		return float32(math.Inf(-1)), nil
	}
	if len(tok) == 0 || !(tok[0] == '-' || tok[0] >= '0' && tok[0] <= '9') {
		return 0, fmt.Errorf("%.20q is not a number", tok)
	}
	f, err := strconv.ParseFloat(string(tok), 32)
	if err != nil {
		var ne *strconv.NumError
		if errors.As(err, &ne) && errors.Is(ne.Err, strconv.ErrRange) {
			return float32(f), nil // ±Inf (overflow) or 0 (underflow): CheckVector decides
		}
		return 0, fmt.Errorf("%.20q is not a number", tok)
	}
	return float32(f), nil
}

// unmarshal decodes a response body after quoting bare NaN/Infinity
// tokens, which are not JSON but appear in the output of servers written
// in Python.
func unmarshal(body []byte, v any) error {
	if err := json.Unmarshal(quoteNonFinite(body), v); err != nil {
		return fmt.Errorf("malformed JSON: %w", err)
	}
	return nil
}

// quoteNonFinite rewrites the bare tokens NaN, Infinity and -Infinity
// outside JSON strings as the strings "NaN", "Infinity" and "-Infinity".
// Other input is returned unchanged (and not copied).
func quoteNonFinite(b []byte) []byte {
	if !bytes.Contains(b, []byte("NaN")) && !bytes.Contains(b, []byte("Infinity")) {
		return b
	}
	var out []byte
	inString, escaped := false, false
	last := 0
	for i := 0; i < len(b); i++ {
		c := b[i]
		if inString {
			switch {
			case escaped:
				escaped = false
			case c == '\\':
				escaped = true
			case c == '"':
				inString = false
			}
			continue
		}
		var tok string
		switch {
		case c == '"':
			inString = true
			continue
		case c == 'N' && bytes.HasPrefix(b[i:], []byte("NaN")):
			tok = "NaN"
		case c == 'I' && bytes.HasPrefix(b[i:], []byte("Infinity")):
			tok = "Infinity"
		case c == '-' && bytes.HasPrefix(b[i:], []byte("-Infinity")):
			tok = "-Infinity"
		default:
			continue
		}
		out = append(out, b[last:i]...)
		out = append(out, '"')
		out = append(out, tok...)
		out = append(out, '"')
		i += len(tok) - 1
		last = i + 1
	}
	if out == nil {
		return b
	}
	return append(out, b[last:]...)
}
