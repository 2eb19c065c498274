package server

// The JSON request and response types of the HTTP API. They are the
// server's own, separate from the engine's structs, so the wire format stays
// put when the engine changes; docs/api.md and openapi.json describe them.
// All text offsets on the wire are Unicode code point offsets into the
// document's text.

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/quarry-rag/quarry"
	"github.com/quarry-rag/quarry/internal/base"
)

// documentIn is one document in a write request.
type documentIn struct {
	ID       string     `json:"id"`
	Title    string     `json:"title"`
	Text     string     `json:"text"`
	Source   string     `json:"source"`
	Language string     `json:"language"`
	Tenant   string     `json:"tenant"`
	ACL      []string   `json:"acl"`
	Metadata metadataIn `json:"metadata"`
}

func (d *documentIn) toEngine() quarry.Document {
	return quarry.Document{
		ID: d.ID, Title: d.Title, Text: d.Text, Source: d.Source, Language: d.Language,
		Tenant: d.Tenant, ACL: d.ACL, Metadata: quarry.Metadata(d.Metadata),
	}
}

// upsertBody is the body of POST .../documents: either one document (the
// embedded fields) or {"documents":[...]}.
type upsertBody struct {
	Documents documentList `json:"documents"`
	documentIn
}

// documentList decodes the "documents" array element by element so that
// errors name the element: documents[3].text.
type documentList []documentIn

func (l *documentList) UnmarshalJSON(b []byte) error {
	// Stream the elements out of one decoder: no per-element copies.
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if tok, err := dec.Token(); err != nil || tok != json.Delim('[') {
		return invalid("documents", "must be an array of documents")
	}
	out := documentList{}
	for i := 0; dec.More(); i++ {
		out = append(out, documentIn{})
		if err := dec.Decode(&out[i]); err != nil {
			return decodeError(b, err, fmt.Sprintf("documents[%d]", i))
		}
	}
	*l = out
	return nil
}

// metadataIn decodes metadata values one by one so that a bad value names
// its key. Values are strings, numbers or booleans.
type metadataIn base.Metadata

func (m *metadataIn) UnmarshalJSON(b []byte) error {
	var raws map[string]json.RawMessage
	if err := decodeStrict(b, &raws, "metadata"); err != nil {
		return err
	}
	if raws == nil {
		*m = nil
		return nil
	}
	out := make(metadataIn, len(raws))
	for k, raw := range raws {
		var v base.Value
		if err := v.UnmarshalJSON(raw); err != nil || v.Kind == base.KindNull {
			return invalid(joinPath("metadata", k), "must be a string, number or boolean")
		}
		out[k] = v
	}
	*m = out
	return nil
}

// decodeUpsert decodes the body of POST .../documents. single reports that
// the body was one document rather than a batch.
func decodeUpsert(data []byte) (docs []quarry.Document, single bool, err error) {
	var body upsertBody
	if err := decodeBody(data, &body); err != nil {
		return nil, false, err
	}
	if body.Documents != nil {
		if !body.documentIn.isZero() {
			return nil, false, invalid("documents", "a body is either one document or {\"documents\": [...]}, not both")
		}
		if len(body.Documents) == 0 {
			return nil, false, invalid("documents", "is empty")
		}
		docs = make([]quarry.Document, len(body.Documents))
		for i := range body.Documents {
			docs[i] = body.Documents[i].toEngine()
		}
		return docs, false, nil
	}
	return []quarry.Document{body.documentIn.toEngine()}, true, nil
}

func (d *documentIn) isZero() bool {
	return d.ID == "" && d.Title == "" && d.Text == "" && d.Source == "" && d.Language == "" &&
		d.Tenant == "" && d.ACL == nil && d.Metadata == nil
}

// upsertResult reports what a write did to one document.
type upsertResult struct {
	ID      string `json:"id"`
	Status  string `json:"status"` // created, updated or unchanged
	Version uint64 `json:"version"`
	Chunks  int    `json:"chunks"`
}

type upsertResponse struct {
	Results []upsertResult `json:"results"`
}

func fromUpsertResults(rs []quarry.UpsertResult) []upsertResult {
	out := make([]upsertResult, len(rs))
	for i, r := range rs {
		out[i] = upsertResult{ID: r.ID, Status: string(r.Status), Version: r.Version, Chunks: r.Chunks}
	}
	return out
}

// documentOut is a stored document.
type documentOut struct {
	ID       string                `json:"id"`
	Title    string                `json:"title"`
	Text     string                `json:"text"`
	Source   string                `json:"source"`
	Language string                `json:"language"`
	Tenant   string                `json:"tenant"`
	ACL      []string              `json:"acl"`
	Metadata map[string]base.Value `json:"metadata"`
	Hash     string                `json:"hash"`
	Version  uint64                `json:"version"`
	Created  time.Time             `json:"created"`
	Updated  time.Time             `json:"updated"`
	Chunks   []chunkOut            `json:"chunks,omitempty"` // only with ?chunks=true
}

func fromDocument(d *quarry.Document) documentOut {
	out := documentOut{
		ID: d.ID, Title: d.Title, Text: d.Text, Source: d.Source, Language: d.Language, Tenant: d.Tenant,
		ACL: d.ACL, Metadata: map[string]base.Value(d.Metadata), Hash: d.Hash, Version: d.Version,
		Created: d.Created, Updated: d.Updated,
	}
	if out.ACL == nil {
		out.ACL = []string{}
	}
	if out.Metadata == nil {
		out.Metadata = map[string]base.Value{}
	}
	return out
}

// chunkOut is one chunk of a stored document.
type chunkOut struct {
	ID      string `json:"id"`
	Ordinal int    `json:"ordinal"`
	Start   int    `json:"start"`
	End     int    `json:"end"`
	Tokens  int    `json:"tokens"`
	Section string `json:"section"`
	Text    string `json:"text"`
}

func fromChunks(cs []quarry.Chunk) []chunkOut {
	out := make([]chunkOut, len(cs))
	for i, c := range cs {
		out[i] = chunkOut{
			ID: c.ID, Ordinal: c.Ordinal, Start: c.RuneStart, End: c.RuneStart + utf8.RuneCountInString(c.Text),
			Tokens: c.Tokens, Section: c.Section, Text: c.Text,
		}
	}
	return out
}

// scopeIn is the part of a read request that says what the caller may see.
type scopeIn struct {
	Tenant     string   `json:"tenant"`
	Principals []string `json:"principals"`
	Filter     filterIn `json:"filter"`
}

// filterIn decodes a metadata filter through quarry.Filter's own JSON form,
// which validates itself, and names the field in its errors.
type filterIn quarry.Filter

func (f *filterIn) UnmarshalJSON(b []byte) error {
	if err := (*quarry.Filter)(f).UnmarshalJSON(b); err != nil {
		msg := strings.TrimPrefix(err.Error(), base.ErrInvalidFilter.Error()+": ")
		return invalid("filter", "%s", msg)
	}
	return nil
}

type searchRequest struct {
	Query string `json:"query"`
	// Queries makes the request a batch: each is searched with the other
	// fields, at once on every core (at most quarry.MaxSearchBatch).
	Queries  []string `json:"queries"`
	K        int      `json:"k"`
	Mode     string   `json:"mode"`
	Language string   `json:"language"`
	Fusion   string   `json:"fusion"`
	Alpha    float64  `json:"alpha"`
	RRFK     float64  `json:"rrf_k"`
	// MMR is maximal marginal relevance's lambda in (0, 1]; 0 is off.
	// MMRDepth is its candidate pool.
	MMR      float64 `json:"mmr"`
	MMRDepth int     `json:"mmr_depth"`
	// Ef is the vector index's search effort; Exact scans every vector.
	Ef    int  `json:"ef"`
	Exact bool `json:"exact"`
	// NoRerank skips the collection's reranker (to see the list before it).
	NoRerank bool `json:"no_rerank"`
	scopeIn
}

// toEngine converts the request field by field; the engine validates it.
func (in *searchRequest) toEngine() quarry.SearchRequest {
	return quarry.SearchRequest{
		Query: in.Query, K: in.K, Mode: in.Mode, Language: in.Language,
		Fusion: in.Fusion, Alpha: in.Alpha, RRFK: in.RRFK,
		MMR: in.MMR, MMRDepth: in.MMRDepth, Ef: in.Ef, Exact: in.Exact, NoRerank: in.NoRerank,
		Tenant: in.Tenant, Principals: in.Principals, Filter: quarry.Filter(in.Filter),
	}
}

type askRequest struct {
	Question     string `json:"question"`
	K            int    `json:"k"`
	Mode         string `json:"mode"`
	MaxSentences int    `json:"max_sentences"`
	// Stream asks for Server-Sent Events instead of one JSON object.
	Stream bool `json:"stream"`
	// Method is "extractive" or "llm"; default llm when the server has a
	// language model.
	Method string `json:"method"`
	// Model overrides the language model's name for this request.
	Model string `json:"model"`
	// History is the conversation before the question, oldest first.
	History historyList `json:"history"`
	// Rewrite is "", "multi" or "hyde"; Expansions the paraphrases of multi.
	Rewrite    string `json:"rewrite"`
	Expansions int    `json:"expansions"`
	// NoCache bypasses the answer caches.
	NoCache bool `json:"no_cache"`
	scopeIn
	decodingIn
}

// messageIn is one turn of a conversation's history.
type messageIn struct {
	Role    string `json:"role"`
	Content string `json:"content"`
}

// historyList decodes element by element so that errors name the
// element: history[2].content.
type historyList []messageIn

func (l *historyList) UnmarshalJSON(b []byte) error {
	out, err := decodeList[messageIn](b, "history", "an array of {role, content} messages")
	*l = out
	return err
}

func toMessages(in []messageIn) []quarry.Message {
	if in == nil {
		return nil
	}
	out := make([]quarry.Message, len(in))
	for i, m := range in {
		out[i] = quarry.Message{Role: m.Role, Content: m.Content}
	}
	return out
}

// hitOut is one retrieved chunk.
type hitOut struct {
	DocID   string  `json:"doc_id"`
	ChunkID string  `json:"chunk_id"`
	Score   float64 `json:"score"`
	Text    string  `json:"text"`
	Title   string  `json:"title"`
	Section string  `json:"section"`
	Start   int     `json:"start"`
	End     int     `json:"end"`
	// Injection is the chunk's prompt-injection score, when it was scored.
	Injection *float64 `json:"injection,omitempty"`
}

func fromHits(hs []quarry.Hit) []hitOut {
	out := make([]hitOut, len(hs))
	for i, h := range hs {
		out[i] = hitOut{
			DocID: h.DocID, ChunkID: h.ChunkID, Score: h.Score, Text: h.Text, Title: h.Title, Section: h.Section,
			Start: h.RuneStart, End: h.RuneStart + utf8.RuneCountInString(h.Text), Injection: h.Injection,
		}
	}
	return out
}

// batchSearchResponse answers a request with queries: one response per
// query, in order.
type batchSearchResponse struct {
	Batch  []searchResponse `json:"batch"`
	TookMS float64          `json:"took_ms"`
}

type searchResponse struct {
	Results []hitOut `json:"results"`
	Mode    string   `json:"mode"`
	TookMS  float64  `json:"took_ms"`
	// Guard is what the guardrails found (absent: nothing).
	Guard *guardOut `json:"guard,omitempty"`
}

type citationOut struct {
	Marker  int    `json:"marker"`
	DocID   string `json:"doc_id"`
	ChunkID string `json:"chunk_id"`
	Start   int    `json:"start"`
	End     int    `json:"end"`
	Text    string `json:"text"`
	Title   string `json:"title"`
}

type askResponse struct {
	Answer    string        `json:"answer"`
	Citations []citationOut `json:"citations"`
	Sources   []hitOut      `json:"sources"`
	Method    string        `json:"method"`
	TookMS    float64       `json:"took_ms"`
	// Model is the language model that wrote the answer (method llm).
	Model            string     `json:"model,omitempty"`
	Grounded         bool       `json:"grounded"`
	Abstained        bool       `json:"abstained"`
	InvalidCitations []int      `json:"invalid_citations,omitempty"`
	Query            string     `json:"query,omitempty"`
	Queries          []string   `json:"queries,omitempty"`
	DroppedSources   []int      `json:"dropped_sources,omitempty"`
	FinishReason     string     `json:"finish_reason,omitempty"`
	Cached           string     `json:"cached,omitempty"`
	Usage            *usageOut  `json:"usage,omitempty"`
	Timings          timingsOut `json:"timings"`
	Guard            *guardOut  `json:"guard,omitempty"`
}

// usageOut counts the language model's tokens, as its server reported.
type usageOut struct {
	PromptTokens     int `json:"prompt_tokens"`
	CompletionTokens int `json:"completion_tokens"`
}

// timingsOut breaks an answer's latency down, in milliseconds.
type timingsOut struct {
	Rewrite  float64 `json:"rewrite_ms"`
	Retrieve float64 `json:"retrieve_ms"`
	Rerank   float64 `json:"rerank_ms"`
	Generate float64 `json:"generate_ms"`
	TTFT     float64 `json:"ttft_ms"`
	LLMTTFT  float64 `json:"llm_ttft_ms,omitempty"`
	Total    float64 `json:"total_ms"`
}

func fromAnswer(a *quarry.Answer) askResponse {
	out := askResponse{
		Answer: a.Answer, Citations: fromCitations(a.Citations), Sources: fromHits(a.Sources), Method: a.Method, TookMS: millis(a.Took),
		Model: a.Model, Grounded: a.Grounded, Abstained: a.Abstained, InvalidCitations: a.InvalidCitations,
		Query: a.Query, Queries: a.Queries, DroppedSources: a.DroppedSources, FinishReason: a.FinishReason, Cached: a.Cached,
		Timings: fromTimings(a.Timings), Guard: fromGuard(a.Guard),
	}
	if a.Usage != nil {
		out.Usage = &usageOut{PromptTokens: a.Usage.PromptTokens, CompletionTokens: a.Usage.CompletionTokens}
	}
	return out
}

// fromTimings copies field by field, so that a new engine field does not
// break the wire type.
func fromTimings(t quarry.Timings) timingsOut {
	return timingsOut{Rewrite: t.Rewrite, Retrieve: t.Retrieve, Rerank: t.Rerank, Generate: t.Generate,
		TTFT: t.TTFT, LLMTTFT: t.LLMTTFT, Total: t.Total}
}

func fromCitations(in []quarry.Citation) []citationOut {
	cs := make([]citationOut, len(in))
	for i, c := range in {
		cs[i] = citationOut{Marker: c.Marker, DocID: c.DocID, ChunkID: c.ChunkID, Start: c.Start, End: c.End, Text: c.Text, Title: c.Title}
	}
	return cs
}

func millis(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }

// configJSON is a collection's configuration, in requests and responses.
// Zero fields in a request take their defaults.
type configJSON struct {
	Chunking         chunkingJSON `json:"chunking"`
	BM25             bm25JSON     `json:"bm25"`
	Language         string       `json:"language"`
	MaxDocumentBytes int64        `json:"max_document_bytes"`
	Embedding        string       `json:"embedding,omitempty"`
	Reranker         string       `json:"reranker,omitempty"`
	// LLM overrides the server's language model for this collection.
	LLM *llmJSON `json:"llm,omitempty"`
	// Vector selects and tunes the dense index.
	Vector vectorJSON `json:"vector"`
	// Guard sets the prompt-injection guardrails (absent: the server's).
	Guard *guardJSON `json:"guard,omitempty"`
	// PII sets the personal-data policy (absent: keep).
	PII *piiJSON `json:"pii,omitempty"`
}

// vectorJSON is a collection's vector index configuration; zero fields
// take their defaults, which responses show.
type vectorJSON struct {
	Index          string `json:"index,omitempty"`
	M              int    `json:"m,omitempty"`
	EfConstruction int    `json:"ef_construction,omitempty"`
	EfSearch       int    `json:"ef_search,omitempty"`
	Quantization   string `json:"quantization,omitempty"`
	NList          int    `json:"nlist,omitempty"`
	NProbe         int    `json:"nprobe,omitempty"`
}

func (c *vectorJSON) UnmarshalJSON(b []byte) error {
	type plain vectorJSON
	return decodeStrict(b, (*plain)(c), "vector")
}

func (c *vectorJSON) toEngine() quarry.VectorConfig {
	return quarry.VectorConfig{Index: c.Index, M: c.M, EfConstruction: c.EfConstruction, EfSearch: c.EfSearch,
		Quantization: c.Quantization, NList: c.NList, NProbe: c.NProbe}
}

func fromVectorConfig(c quarry.VectorConfig) vectorJSON {
	return vectorJSON{Index: c.Index, M: c.M, EfConstruction: c.EfConstruction, EfSearch: c.EfSearch,
		Quantization: c.Quantization, NList: c.NList, NProbe: c.NProbe}
}

// llmJSON is a collection's language-model override; zero fields keep
// the server's settings.
type llmJSON struct {
	URL           string  `json:"url,omitempty"`
	Model         string  `json:"model,omitempty"`
	Provider      string  `json:"provider,omitempty"`
	ContextWindow int     `json:"context_window,omitempty"`
	AnswerTokens  int     `json:"answer_tokens,omitempty"`
	PromptStyle   string  `json:"prompt_style,omitempty"`
	MinScore      float64 `json:"min_score,omitempty"`
}

func (c *llmJSON) UnmarshalJSON(b []byte) error {
	type plain llmJSON
	return decodeStrict(b, (*plain)(c), "llm")
}

func (c *llmJSON) toEngine() quarry.CollectionLLM {
	if c == nil {
		return quarry.CollectionLLM{}
	}
	return quarry.CollectionLLM{URL: c.URL, Model: c.Model, Provider: c.Provider, ContextWindow: c.ContextWindow,
		AnswerTokens: c.AnswerTokens, PromptStyle: c.PromptStyle, MinScore: c.MinScore}
}

func fromCollectionLLM(c quarry.CollectionLLM) *llmJSON {
	out := llmJSON{URL: c.URL, Model: c.Model, Provider: c.Provider, ContextWindow: c.ContextWindow,
		AnswerTokens: c.AnswerTokens, PromptStyle: c.PromptStyle, MinScore: c.MinScore}
	if out == (llmJSON{}) {
		return nil
	}
	return &out
}

type chunkingJSON struct {
	Strategy string `json:"strategy"`
	Size     int    `json:"size"`
	Overlap  int    `json:"overlap"`
}

// UnmarshalJSON decodes strictly, so an unknown key names its path
// (chunking.sise).
func (c *chunkingJSON) UnmarshalJSON(b []byte) error {
	type plain chunkingJSON
	return decodeStrict(b, (*plain)(c), "chunking")
}

type bm25JSON struct {
	K1         float64 `json:"k1"`
	B          float64 `json:"b"`
	TitleBoost float64 `json:"title_boost"`
}

func (c *bm25JSON) UnmarshalJSON(b []byte) error {
	type plain bm25JSON
	return decodeStrict(b, (*plain)(c), "bm25")
}

func (c *configJSON) toEngine() *quarry.CollectionConfig {
	return &quarry.CollectionConfig{
		Chunking:         quarry.ChunkingConfig{Strategy: c.Chunking.Strategy, Size: c.Chunking.Size, Overlap: c.Chunking.Overlap},
		BM25:             quarry.BM25Config{K1: c.BM25.K1, B: c.BM25.B, TitleBoost: c.BM25.TitleBoost},
		Language:         c.Language,
		MaxDocumentBytes: c.MaxDocumentBytes,
		Embedding:        c.Embedding,
		Reranker:         c.Reranker,
		LLM:              c.LLM.toEngine(),
		Vector:           c.Vector.toEngine(),
		Guard:            c.Guard.toEngine(),
		PII:              c.PII.toEngine(),
	}
}

func fromConfig(c quarry.CollectionConfig) configJSON {
	return configJSON{
		Chunking:         chunkingJSON{Strategy: c.Chunking.Strategy, Size: c.Chunking.Size, Overlap: c.Chunking.Overlap},
		BM25:             bm25JSON{K1: c.BM25.K1, B: c.BM25.B, TitleBoost: c.BM25.TitleBoost},
		Language:         c.Language,
		MaxDocumentBytes: c.MaxDocumentBytes,
		Embedding:        c.Embedding,
		Reranker:         c.Reranker,
		LLM:              fromCollectionLLM(c.LLM),
		Vector:           fromVectorConfig(c.Vector),
		Guard:            fromGuardConfig(c.Guard),
		PII:              fromPIIConfig(c.PII),
	}
}

type collectionOut struct {
	Name    string     `json:"name"`
	Config  configJSON `json:"config"`
	Created bool       `json:"created"`
}

type statsOut struct {
	Documents  int            `json:"documents"`
	Chunks     int            `json:"chunks"`
	Terms      int            `json:"terms"`
	Postings   int64          `json:"postings"`
	IndexBytes int64          `json:"index_bytes"`
	DiskBytes  int64          `json:"disk_bytes"`
	Generation uint64         `json:"generation"`
	Languages  map[string]int `json:"languages"`
	// Vectors counts the indexed chunk vectors, of Dimension components;
	// VectorBytes is their memory, index links included, and
	// BytesPerVector that per vector.
	Vectors        int   `json:"vectors"`
	Dimension      int   `json:"dimension"`
	VectorBytes    int64 `json:"vector_bytes"`
	BytesPerVector int64 `json:"bytes_per_vector"`
}

type collectionInfo struct {
	Name   string     `json:"name"`
	Config configJSON `json:"config"`
	Stats  statsOut   `json:"stats"`
}

func fromStats(s quarry.Stats) statsOut {
	out := statsOut{
		Documents: s.Documents, Chunks: s.Chunks, Terms: s.Terms, Postings: s.Postings,
		IndexBytes: s.IndexBytes, DiskBytes: s.DiskBytes, Generation: s.Generation, Languages: s.Languages,
		Vectors: s.Vectors, Dimension: s.Dimension, VectorBytes: s.VectorBytes, BytesPerVector: s.BytesPerVector,
	}
	if out.Languages == nil {
		out.Languages = map[string]int{}
	}
	return out
}

type collectionsOut struct {
	Collections []string `json:"collections"`
	// Unavailable are the collections whose store could not be opened.
	Unavailable []unavailableOut `json:"unavailable,omitempty"`
}

type unavailableOut struct {
	Name  string `json:"name"`
	Error string `json:"error"`
}

type deletedOut struct {
	Deleted string `json:"deleted"`
}

type statusOut struct {
	Status string `json:"status"`
}
