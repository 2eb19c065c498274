package embedded

import (
	"sync"

	"github.com/quarry-rag/quarry/internal/text"
)

// analyzers caches one analyzer per language. Analyzers are safe for
// concurrent use.
type analyzers struct {
	force string // when set, every language maps to this one
	mu    sync.Mutex
	m     map[string]*text.Analyzer
}

func newAnalyzers(force string) *analyzers {
	return &analyzers{force: force, m: make(map[string]*text.Analyzer)}
}

func (a *analyzers) get(lang string) *text.Analyzer {
	if a.force != "" {
		lang = a.force
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	if an, ok := a.m[lang]; ok {
		return an
	}
	an, err := text.NewAnalyzer(text.AnalyzerConfig{Language: lang})
	if err != nil {
		// Unknown language: fall back to the language-neutral chain.
		an, err = text.NewAnalyzer(text.AnalyzerConfig{})
		if err != nil {
			panic(err) // the neutral config is always valid
		}
	}
	a.m[lang] = an
	return an
}
