package main

import (
	"context"
	"errors"
	"fmt"
	"github.com/spf13/pflag"
	"os"
	"time"

	"github.com/quarry-rag/quarry"
)

// llmFlags are the language-model flags of serve, ask and eval. Each
// defaults to its QUARRY_LLM_* environment variable.
type llmFlags struct {
	url, model, apiKey, provider, style string
	contextWindow                       int
	timeout                             time.Duration
}

func (l *llmFlags) bind(fs *pflag.FlagSet) {
	fs.StringVar(&l.url, "llm-url", os.Getenv("QUARRY_LLM_URL"), "language model server URL, e.g. http://127.0.0.1:11434 (default $QUARRY_LLM_URL; empty: extractive answers)")
	fs.StringVar(&l.model, "llm-model", os.Getenv("QUARRY_LLM_MODEL"), "language model name (default $QUARRY_LLM_MODEL)")
	fs.StringVar(&l.apiKey, "llm-api-key", os.Getenv("QUARRY_LLM_API_KEY"), "bearer token for the language model server (default $QUARRY_LLM_API_KEY)")
	fs.StringVar(&l.provider, "llm-provider", os.Getenv("QUARRY_LLM_PROVIDER"), "openai or ollama (default: inferred from the URL)")
	fs.StringVar(&l.style, "llm-prompt", os.Getenv("QUARRY_LLM_PROMPT"), "prompt style: instruct (chat models) or base (completion models)")
	fs.IntVar(&l.contextWindow, "llm-context", 0, "the model's context window in tokens (default 4096)")
	fs.DurationVar(&l.timeout, "llm-timeout", 0, "bound on one language-model call, streaming included (default 2m)")
}

// apply copies the flags into engine options.
func (l *llmFlags) apply(o *quarry.Options) {
	o.LLM.URL, o.LLM.Model, o.LLM.APIKey, o.LLM.Provider = l.url, l.model, l.apiKey, l.provider
	o.LLM.PromptStyle, o.LLM.ContextWindow, o.LLM.Timeout = l.style, l.contextWindow, l.timeout
}

// openCollectionLLM opens an existing collection like openCollection, with
// the language model configured.
func openCollectionLLM(ctx context.Context, env *cliEnv, l *llmFlags) (*quarry.Engine, *quarry.Collection, error) {
	opts := engineOptions(env)
	l.apply(opts)
	eng, err := quarry.Open(env.dataDir, opts)
	if err != nil {
		return nil, nil, err
	}
	col, err := eng.Collection(ctx, env.collection)
	if err != nil {
		eng.Close()
		if errors.Is(err, quarry.ErrNotFound) {
			return nil, nil, fmt.Errorf("collection %q does not exist in %s (ingest something first)", env.collection, env.dataDir)
		}
		return nil, nil, err
	}
	return eng, col, nil
}
