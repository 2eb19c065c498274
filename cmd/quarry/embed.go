package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"github.com/spf13/pflag"
	"io"
	"math"
	"os"
	"strings"

	"golang.org/x/term"

	"github.com/quarry-rag/quarry/internal/embed"
	"github.com/quarry-rag/quarry/internal/models/hub"
)

// embedStdin is where `quarry embed` reads texts when none are given.
var embedStdin = os.Stdin

// runEmbed implements `quarry embed [--model SPEC] [--query] [--json] [TEXT...]`:
// one vector per text, texts from the arguments or else from stdin, one
// per line.
func setupEmbed(env *cliEnv, fs *pflag.FlagSet) runFunc {
	model := fs.String("model", "all-MiniLM-L6-v2",
		"embedding model: a cached model name, a model folder, or openai:URL?model=M, ollama:URL?model=M, tei:URL; with --server, a model the server has cached or a collection (its model)")
	query := fs.Bool("query", false, "embed the texts as queries (the model's query prefix), not passages")
	keyEnv := fs.String("api-key-env", "QUARRY_EMBED_API_KEY", "environment variable holding the API key of an HTTP embedder")
	return func(ctx context.Context, texts []string) error {
		var err error
		if len(texts) == 0 {
			if texts, err = readLines(embedStdin); err != nil {
				return err
			}
			if len(texts) == 0 {
				return usagef("give TEXT arguments, or texts on stdin, one per line")
			}
		}
		kind := embed.Passage
		if *query {
			kind = embed.Query
		}
		cl, err := remote(env)
		if err != nil {
			return err
		}
		if cl != nil {
			// Client mode: POST /v1/embeddings with a model the server
			// has cached, or a collection's name for its model.
			vecs, err := cl.embed(ctx, *model, texts, *query)
			if err != nil {
				return err
			}
			return printVectors(env, *model, texts, vecs, kind)
		}
		var opts embed.ParseOptions
		if *keyEnv != "" {
			opts.HTTP.APIKey = os.Getenv(*keyEnv)
		}
		emb, err := embed.ParseWith(*model, &opts)
		if err != nil {
			if errors.Is(err, hub.ErrNotFound) {
				return fmt.Errorf("%w (fetch it with `quarry models pull %s`)", err, *model)
			}
			if errors.Is(err, embed.ErrSpec) || errors.Is(err, embed.ErrInvalid) {
				return usageError{err.Error()}
			}
			return err
		}
		if c, ok := emb.(io.Closer); ok {
			defer c.Close()
		}
		type statser interface{ Stats() embed.Stats }
		var before embed.Stats
		if s, ok := emb.(statser); ok {
			before = s.Stats()
		}
		vecs, err := emb.Embed(ctx, texts, kind)
		if err != nil {
			return err
		}
		if s, ok := emb.(statser); ok {
			if n := s.Stats().Truncated - before.Truncated; n > 0 {
				fmt.Fprintf(env.stderr, "quarry embed: %d of %d texts are longer than %d tokens and were embedded truncated\n",
					n, len(texts), emb.MaxTokens())
			}
		}
		return printVectors(env, emb.Name(), texts, vecs, kind)
	}
}

// printVectors prints the vectors of texts embedded by model: JSON, or
// one line per text with the first components.
func printVectors(env *cliEnv, model string, texts []string, vecs [][]float32, kind embed.Kind) error {
	if env.json {
		return writeVectorsJSON(env.stdout, vecs)
	}
	dim := 0
	if len(vecs) > 0 {
		dim = len(vecs[0])
	}
	as := "passages"
	if kind == embed.Query {
		as = "queries"
	}
	fmt.Fprintf(env.stdout, "%s: %d dimensions, %d texts as %s\n", model, dim, len(texts), as)
	for i, v := range vecs {
		var b strings.Builder
		for j, x := range v[:min(8, len(v))] {
			if j > 0 {
				b.WriteByte(' ')
			}
			fmt.Fprintf(&b, "%+.4f", x)
		}
		if len(v) > 8 {
			b.WriteString(" …")
		}
		fmt.Fprintf(env.stdout, "%d\tnorm %.4f\t[%s]\t%s\n", i, l2norm(v), b.String(), preview(texts[i], 40))
	}
	return nil
}

// writeVectorsJSON prints a JSON array with one array of numbers per line;
// float32 values in their shortest round-trip form.
func writeVectorsJSON(w io.Writer, vecs [][]float32) error {
	bw := bufio.NewWriter(w)
	bw.WriteString("[")
	for i, v := range vecs {
		b, err := json.Marshal(v)
		if err != nil {
			return err
		}
		if i > 0 {
			bw.WriteString(",")
		}
		bw.WriteString("\n  ")
		bw.Write(b)
	}
	if len(vecs) > 0 {
		bw.WriteString("\n")
	}
	bw.WriteString("]\n")
	return bw.Flush()
}

// readLines reads one text per line (a final newline is optional; CR LF
// endings are accepted). It refuses to wait on an interactive terminal.
func readLines(f *os.File) ([]string, error) {
	if f == nil || term.IsTerminal(int(f.Fd())) {
		return nil, nil
	}
	sc := bufio.NewScanner(f)
	sc.Buffer(nil, 64<<20)
	var lines []string
	for sc.Scan() {
		lines = append(lines, strings.TrimSuffix(sc.Text(), "\r"))
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("reading texts from stdin: %w", err)
	}
	return lines, nil
}

func l2norm(v []float32) float64 {
	var s float64
	for _, x := range v {
		s += float64(x) * float64(x)
	}
	return math.Sqrt(s)
}

// preview is text on one line, cut to n runes.
func preview(text string, n int) string {
	s := strings.Join(strings.Fields(text), " ")
	if r := []rune(s); len(r) > n {
		s = string(r[:n]) + "…"
	}
	return fmt.Sprintf("%q", s)
}
