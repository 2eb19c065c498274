package embed

import (
	"context"
	"errors"
	"fmt"
	"math"
	"sync/atomic"
)

// Kind tells an embedder what a text is for: models trained with
// asymmetric prompts (e5, bge) embed queries and passages differently.
// The zero Kind is invalid.
type Kind uint8

const (
	// Query is a search query.
	Query Kind = iota + 1
	// Passage is a document chunk to be retrieved.
	Passage
)

func (k Kind) String() string {
	switch k {
	case Query:
		return "query"
	case Passage:
		return "passage"
	}
	return fmt.Sprintf("Kind(%d)", uint8(k))
}

// Embedder turns texts into vectors. Implementations are safe for
// concurrent use.
type Embedder interface {
	// Embed returns one vector per text, in the order of texts. Texts
	// longer than the model accepts are embedded truncated, never
	// rejected. The result belongs to the caller.
	Embed(ctx context.Context, texts []string, kind Kind) ([][]float32, error)
	// Dim is the vector dimension; 0 while an HTTP embedder has not yet
	// seen a response and was not told the dimension.
	Dim() int
	// Name is a stable identifier of the model, stored with a collection:
	// "local:all-MiniLM-L6-v2", "openai:text-embedding-3-small", ...
	Name() string
	// MaxTokens is the model's maximum input length in tokens (special
	// tokens included); 0 when unknown.
	MaxTokens() int
}

// Sentinel errors. Every error the package returns names the operation and
// wraps one of these, a *StatusError, or a context error.
var (
	// ErrClosed: the embedder was closed.
	ErrClosed = errors.New("embed: embedder is closed")
	// ErrInvalid: a bad argument (an unknown Kind, bad options).
	ErrInvalid = errors.New("embed: invalid argument")
	// ErrSpec: a configuration string Parse cannot read.
	ErrSpec = errors.New("embed: invalid embedder spec")
	// ErrVector: a vector of the wrong dimension or with a NaN or an
	// infinite component (see CheckVector).
	ErrVector = errors.New("embed: invalid vector")
	// ErrResponse: an embedding server answered 2xx with a body that is
	// not what the protocol promises (malformed JSON, a vector count that
	// differs from the text count, a dimension change, invalid vectors).
	ErrResponse = errors.New("embed: bad response")
)

// CheckVector reports whether v is a usable embedding: dim components
// (any non-zero length when dim is 0), all finite. The error wraps
// ErrVector and names the first bad component.
func CheckVector(v []float32, dim int) error {
	if len(v) == 0 {
		return fmt.Errorf("%w: empty", ErrVector)
	}
	if dim > 0 && len(v) != dim {
		return fmt.Errorf("%w: dimension %d, want %d", ErrVector, len(v), dim)
	}
	for i, x := range v {
		if x != x {
			return fmt.Errorf("%w: component %d is NaN", ErrVector, i)
		}
		if math.IsInf(float64(x), 0) {
			return fmt.Errorf("%w: component %d is %v", ErrVector, i, x)
		}
	}
	return nil
}

// Stats are an embedder's cumulative counters since it was made. Fields
// that do not apply to an implementation stay zero.
type Stats struct {
	Calls     int64 // Embed calls that returned vectors
	Texts     int64 // texts embedded
	Truncated int64 // texts cut at MaxTokens (local models; servers truncate unseen)
	Tokens    int64 // tokens fed to the model, special tokens included (local)
	Requests  int64 // HTTP requests sent, retries included (HTTP)
	Retries   int64 // HTTP requests that were retries (HTTP)
}

// counters back Stats.
type counters struct {
	calls, texts, truncated, tokens, requests, retries atomic.Int64
}

func (c *counters) snapshot() Stats {
	return Stats{
		Calls:     c.calls.Load(),
		Texts:     c.texts.Load(),
		Truncated: c.truncated.Load(),
		Tokens:    c.tokens.Load(),
		Requests:  c.requests.Load(),
		Retries:   c.retries.Load(),
	}
}

// checkKind rejects the zero Kind and unknown values.
func checkKind(k Kind) error {
	if k != Query && k != Passage {
		return fmt.Errorf("%w: kind %v (want embed.Query or embed.Passage)", ErrInvalid, k)
	}
	return nil
}

// withPrefix returns texts with prefix prepended, or texts itself (never
// modified) when prefix is empty.
func withPrefix(texts []string, prefix string) []string {
	if prefix == "" {
		return texts
	}
	out := make([]string, len(texts))
	for i, t := range texts {
		out[i] = prefix + t
	}
	return out
}
