package text

import "sync"

// AnalyzerCache hands out one Analyzer per language, built on first use.
// Analyzers are safe for concurrent use, and so is the cache.
type AnalyzerCache struct {
	force string // when set, every language maps to this one
	mu    sync.Mutex
	m     map[string]*Analyzer
}

// NewAnalyzerCache returns an empty cache. A non-empty force makes Get
// ignore its argument and always use that language (a collection with one
// forced language).
func NewAnalyzerCache(force string) *AnalyzerCache {
	return &AnalyzerCache{force: force, m: make(map[string]*Analyzer)}
}

// Get returns the analyzer of lang (ISO 639-1), or the language-neutral
// chain for a language without its own.
func (a *AnalyzerCache) Get(lang string) *Analyzer {
	if a.force != "" {
		lang = a.force
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	if an, ok := a.m[lang]; ok {
		return an
	}
	an, err := NewAnalyzer(AnalyzerConfig{Language: lang})
	if err != nil {
		// Unknown language: fall back to the language-neutral chain.
		an, err = NewAnalyzer(AnalyzerConfig{})
		if err != nil {
			panic(err) // the neutral config is always valid
		}
	}
	a.m[lang] = an
	return an
}
