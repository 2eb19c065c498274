package quarry

import (
	"net/url"
	"regexp"
	"strings"

	"github.com/quarry-rag/quarry/internal/outbound"
)

// urlPolicy builds the engine's outbound URL policy from AllowURLs (nil
// when AllowURLs is nil: no restriction). The engine's own language model
// is always allowed.
func (o *Options) urlPolicy() (*outbound.Policy, error) {
	if o.AllowURLs == nil {
		return nil, nil
	}
	p, err := outbound.New(append([]string{o.LLM.URL}, o.AllowURLs...)...)
	if err != nil {
		return nil, invalidf("allow_urls", "%v", err)
	}
	return p, nil
}

// credentialFor returns key if it may be sent to rawURL under p, else "".
func credentialFor(p *outbound.Policy, rawURL, key string) string {
	if p == nil || key == "" || p.Allowed(rawURL) {
		return key
	}
	return ""
}

// specURL returns the server URL of an HTTP embedding spec
// (openai:URL, ollama:URL, tei:URL), or "" for a local model.
func specURL(spec string) string {
	kind, rest, _ := strings.Cut(strings.TrimSpace(spec), ":")
	switch kind {
	case "openai", "ollama", "tei":
		if u, err := url.Parse(rest); err == nil {
			u.RawQuery = ""
			return u.String()
		}
		return rest
	case "http", "https":
		return strings.TrimSpace(spec)
	}
	return ""
}

// modelName is what a configuration may name as a local model under an
// outbound policy: a cached model's name, never a folder.
var modelName = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$`)

// checkOutbound refuses, under an outbound policy, a configuration that
// names a URL the operator did not allow or a model folder. The answer for
// a folder does not depend on whether it exists, so it cannot map the
// server's directories.
func (e *Engine) checkOutbound(cfg *CollectionConfig) error {
	if e.urls == nil {
		return nil
	}
	if s := cfg.Embedding; s != "" {
		if u := specURL(s); u != "" {
			if !e.urls.Allowed(u) {
				return invalidf("embedding", "the embedding server %s is not among the URLs the operator allowed (serve --allow-url)", redact(u))
			}
		} else if name := localModelName(s); !modelName.MatchString(name) || strings.Contains(s, "..") {
			return invalidf("embedding", "must be a cached model's name (such as all-MiniLM-L6-v2) or an allowed embedding server; model folders cannot be named here")
		}
	}
	if s := cfg.Reranker; s != "" && (!modelName.MatchString(s) || strings.Contains(s, "..")) {
		return invalidf("reranker", "must be a cached model's name; model folders cannot be named here")
	}
	if u := cfg.LLM.URL; u != "" && !e.urls.Allowed(u) {
		return invalidf("llm.url", "the language model %s is not among the URLs the operator allowed (serve --allow-url)", redact(u))
	}
	return nil
}

// localModelName is a local spec without "local:" and without its settings
// (after the last '?', as internal/embed splits it, which accepts only
// quantization=float32|int8 there).
func localModelName(spec string) string {
	s := strings.TrimPrefix(strings.TrimSpace(spec), "local:")
	if i := strings.LastIndexByte(s, '?'); i >= 0 {
		return s[:i]
	}
	return s
}

// redact drops user information and the query from a URL for a message.
func redact(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return "(unparseable URL)"
	}
	u.User, u.RawQuery, u.Fragment = nil, "", ""
	return u.String()
}
