package llm

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"time"
)

// Ollama is a client for Ollama's native API (POST {base}/api/chat).
type Ollama struct{ t *transport }

var _ Chat = (*Ollama)(nil)

// NewOllama returns a client for base, e.g. "http://127.0.0.1:11435". opts may be nil.
func NewOllama(base string, opts *Options) *Ollama { return &Ollama{t: newTransport(base, opts)} }

type olOptions struct {
	Temperature   *float64 `json:"temperature,omitempty"`
	TopP          *float64 `json:"top_p,omitempty"`
	TopK          *int     `json:"top_k,omitempty"`
	Seed          *int64   `json:"seed,omitempty"`
	NumPredict    int      `json:"num_predict,omitempty"`
	Stop          []string `json:"stop,omitempty"`
	RepeatPenalty *float64 `json:"repeat_penalty,omitempty"`
	// Ollama reads OpenAI's penalties as options.
	PresencePenalty  *float64 `json:"presence_penalty,omitempty"`
	FrequencyPenalty *float64 `json:"frequency_penalty,omitempty"`
}

// olOpts maps p to Ollama's options (Format is a top-level field).
func olOpts(p Params) olOptions {
	return olOptions{Temperature: p.Temperature, TopP: p.TopP, TopK: p.TopK, Seed: p.Seed,
		NumPredict: p.MaxTokens, Stop: p.Stop, RepeatPenalty: p.RepeatPenalty,
		PresencePenalty: p.PresencePenalty, FrequencyPenalty: p.FrequencyPenalty}
}

type olRequest struct {
	Model    string          `json:"model"`
	Messages []Message       `json:"messages"`
	Stream   bool            `json:"stream"`
	Options  olOptions       `json:"options"`
	Tools    json.RawMessage `json:"tools,omitempty"`
	// Format is "json" or a JSON Schema: Ollama constrains decoding to it.
	Format json.RawMessage `json:"format,omitempty"`
}

type olResponse struct {
	Message struct {
		Content string `json:"content"`
	} `json:"message"`
	Done            bool   `json:"done"`
	DoneReason      string `json:"done_reason"`
	PromptEvalCount int    `json:"prompt_eval_count"`
	EvalCount       int    `json:"eval_count"`
	Error           string `json:"error"`
}

func (c *Ollama) body(req Request, stream bool) ([]byte, error) {
	if err := req.validate(); err != nil {
		return nil, err
	}
	p := req.Params
	return json.Marshal(olRequest{Model: req.Model, Messages: req.Messages, Stream: stream, Tools: req.Tools,
		Options: olOpts(p), Format: p.Format})
}

// Complete implements Chat.
func (c *Ollama) Complete(ctx context.Context, req Request) (*Response, error) {
	return c.call(ctx, req, false, nil)
}

// Stream implements Chat. It reads NDJSON objects until one has done=true.
func (c *Ollama) Stream(ctx context.Context, req Request, fn func(Delta) error) (*Response, error) {
	return c.call(ctx, req, true, fn)
}

func (c *Ollama) call(ctx context.Context, req Request, stream bool, fn func(Delta) error) (*Response, error) {
	body, err := c.body(req, stream)
	if err != nil {
		return nil, err
	}
	ctx, cancel := context.WithTimeout(ctx, c.t.opts.Timeout)
	defer cancel()
	start := time.Now()
	resp, err := c.t.post(ctx, "/api/chat", body)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	out := &Response{}
	if !stream {
		out.TTFT = time.Since(start)
	}
	err = readNDJSON(resp.Body, func(line []byte) (bool, error) {
		var r olResponse
		if err := json.Unmarshal(line, &r); err != nil {
			return false, fmt.Errorf("bad stream line %q: %w", truncate(line), err)
		}
		if r.Error != "" {
			return false, fmt.Errorf("server error: %s", r.Error)
		}
		if s := r.Message.Content; s != "" {
			if out.TTFT == 0 {
				out.TTFT = time.Since(start)
			}
			out.Content += s
			if fn != nil {
				if err := fn(Delta{Content: s}); err != nil {
					return false, fmt.Errorf("%w: %w", errCallback, err)
				}
			}
		}
		if r.Done {
			out.FinishReason = r.DoneReason
			out.Usage = Usage{r.PromptEvalCount, r.EvalCount}
		}
		return r.Done, nil
	})
	c.t.done(err)
	if err != nil {
		return nil, fmt.Errorf("llm: ollama chat: %w", err)
	}
	out.Duration = time.Since(start)
	return out, nil
}

// readNDJSON calls fn per non-empty line until fn reports done. A stream that
// ends before done is an error (the connection was cut).
func readNDJSON(r interface{ Read([]byte) (int, error) }, fn func([]byte) (bool, error)) error {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64<<10), 4<<20)
	for sc.Scan() {
		if len(sc.Bytes()) == 0 {
			continue
		}
		done, err := fn(sc.Bytes())
		if err != nil || done {
			return err
		}
	}
	if err := sc.Err(); err != nil {
		return fmt.Errorf("stream cut: %w", err)
	}
	return fmt.Errorf("stream ended before done")
}
