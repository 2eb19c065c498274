package weaviate

import (
	"context"
	"crypto/sha1"
	"encoding/hex"
	"fmt"
	"net/http"
	"sort"
	"strings"

	"github.com/quarry-rag/quarry/internal/base"
)

// escape maps s to [a-z0-9_]: every other byte, and '_' itself, becomes
// _XX. The mapping is injective, and lower-case only (Weaviate compares
// class names case-insensitively).
func escape(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		if (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') {
			b.WriteByte(c)
			continue
		}
		fmt.Fprintf(&b, "_%02x", c)
	}
	return b.String()
}

func chunkClass(collection string) string { return "Quarry_" + escape(collection) + "_C" }
func docClass(collection string) string   { return "Quarry_" + escape(collection) + "_D" }

const metaClass = "QuarryMeta"

// metaProp names the property holding metadata key of kind k.
func metaProp(key string, k base.Kind) string {
	e := escape(key)
	if len(e) > 180 {
		sum := sha1.Sum([]byte(key))
		e = "h" + hex.EncodeToString(sum[:])
	}
	suffix := map[base.Kind]string{base.KindString: "_s", base.KindNumber: "_n", base.KindBool: "_b"}[k]
	return "m_" + e + suffix
}

// metaKeyTag is the metaKeys entry saying a document has key as kind k.
func metaKeyTag(key string, k base.Kind) string {
	return map[base.Kind]string{base.KindString: "s:", base.KindNumber: "n:", base.KindBool: "b:"}[k] + key
}

type property struct {
	Name            string   `json:"name"`
	DataType        []string `json:"dataType"`
	Tokenization    string   `json:"tokenization,omitempty"`
	IndexFilterable *bool    `json:"indexFilterable,omitempty"`
	IndexSearchable *bool    `json:"indexSearchable,omitempty"`
}

func ptr(b bool) *bool { return &b }

// text property kinds.
func fieldProp(name string) property {
	return property{Name: name, DataType: []string{"text"}, Tokenization: "field", IndexFilterable: ptr(true), IndexSearchable: ptr(false)}
}
func fieldArrayProp(name string) property {
	return property{Name: name, DataType: []string{"text[]"}, Tokenization: "field", IndexFilterable: ptr(true), IndexSearchable: ptr(false)}
}
func storedProp(name string) property {
	return property{Name: name, DataType: []string{"text"}, Tokenization: "field", IndexFilterable: ptr(false), IndexSearchable: ptr(false)}
}
func intProp(name string, filterable bool) property {
	return property{Name: name, DataType: []string{"int"}, IndexFilterable: ptr(filterable)}
}

func chunkProps() []property {
	return []property{
		fieldProp("docId"), fieldProp("chunkId"), intProp("ordinal", true),
		storedProp("text"), fieldProp("title"), storedProp("section"), storedProp("chunkLanguage"),
		intProp("byteStart", false), intProp("byteEnd", false), intProp("runeStart", false), intProp("tokens", false),
		fieldProp("language"), fieldProp("source"), fieldProp("tenantKey"),
		fieldArrayProp("acl"), {Name: "restricted", DataType: []string{"boolean"}, IndexFilterable: ptr(true)},
		fieldArrayProp("metaKeys"),
		{Name: "terms", DataType: []string{"text"}, Tokenization: "whitespace", IndexFilterable: ptr(false), IndexSearchable: ptr(true)},
	}
}

func docProps() []property {
	return []property{
		fieldProp("docId"), storedProp("text"), storedProp("title"), storedProp("source"), fieldProp("language"),
		storedProp("tenant"), storedProp("acl"), storedProp("metadata"), storedProp("sections"),
		storedProp("hash"), storedProp("version"), storedProp("created"), storedProp("updated"),
		intProp("numChunks", false),
	}
}

func metaProps() []property {
	return []property{fieldProp("collection"), storedProp("generation"), intProp("dim", false), storedProp("config")}
}

type class struct {
	Class               string         `json:"class"`
	Description         string         `json:"description,omitempty"`
	Vectorizer          string         `json:"vectorizer"`
	VectorIndexType     string         `json:"vectorIndexType,omitempty"`
	VectorIndexConfig   map[string]any `json:"vectorIndexConfig,omitempty"`
	InvertedIndexConfig map[string]any `json:"invertedIndexConfig,omitempty"`
	ReplicationConfig   map[string]any `json:"replicationConfig,omitempty"`
	Properties          []property     `json:"properties"`
}

func (b *Backend) classDef(name string, props []property, vectors bool) class {
	c := class{
		Class: name, Vectorizer: "none", Properties: props,
		Description:         "Quarry " + b.name,
		InvertedIndexConfig: map[string]any{"stopwords": map[string]any{"preset": "none"}, "bm25": map[string]any{"k1": b.cfg.K1, "b": b.cfg.B}},
		ReplicationConfig:   map[string]any{"factor": b.cfg.Replication},
	}
	switch {
	case vectors && b.cfg.Flat:
		c.VectorIndexType = "flat"
		c.VectorIndexConfig = map[string]any{"distance": "dot"}
		if b.cfg.Quantization == "binary" {
			c.VectorIndexConfig["bq"] = map[string]any{"enabled": true}
		}
	case vectors:
		c.VectorIndexType = "hnsw"
		c.VectorIndexConfig = map[string]any{"distance": "dot", "ef": b.cfg.Ef, "efConstruction": 128, "maxConnections": 32}
		if b.cfg.Quantization == "int8" {
			c.VectorIndexConfig["sq"] = map[string]any{"enabled": true}
		}
	default:
		c.VectorIndexType = "flat"
		c.VectorIndexConfig = map[string]any{"distance": "dot"}
	}
	return c
}

// ensureClass creates the class, or checks that an existing one has the
// properties, tokenization and vector distance Quarry needs (schema drift
// is an error naming the difference, never silently used). It returns the
// set of property names the class has.
func (b *Backend) ensureClass(ctx context.Context, want class) (map[string]property, error) {
	var have class
	err := b.c.do(ctx, http.MethodGet, "/v1/schema/"+want.Class, nil, &have)
	if isStatus(err, http.StatusNotFound) {
		err = b.c.do(ctx, http.MethodPost, "/v1/schema", want, nil)
		if err != nil && !isStatus(err, http.StatusUnprocessableEntity) {
			return nil, fmt.Errorf("weaviate: creating class %s: %w", want.Class, err)
		}
		// 422 may be a concurrent creation by another Quarry process:
		// read back and check.
		have = class{}
		err = b.c.do(ctx, http.MethodGet, "/v1/schema/"+want.Class, nil, &have)
	}
	if err != nil {
		return nil, fmt.Errorf("weaviate: reading class %s: %w", want.Class, err)
	}
	if err := checkDrift(want, have); err != nil {
		return nil, err
	}
	if bmw, _ := have.InvertedIndexConfig["usingBlockMaxWAND"].(bool); bmw && want.Class == b.chunks {
		// Read-your-writes: block-max WAND scores fresh writes with
		// statistics computed when memtables flush and segments compact,
		// so BM25 results change after a write is acknowledged.
		b.cfg.Logger.Warn("weaviate: the chunk class uses block-max WAND: BM25 scores of fresh writes change until Weaviate flushes and compacts them; start Weaviate with USE_INVERTED_SEARCHABLE=false (scripts/weaviate.sh does) for scores that are final when a write is acknowledged",
			"class", want.Class)
	}
	if f, _ := have.ReplicationConfig["factor"].(float64); f > 1 && want.Class == b.chunks {
		b.replicated = true
	}
	props := make(map[string]property, len(have.Properties))
	for _, p := range have.Properties {
		props[p.Name] = p
	}
	return props, nil
}

// quantizerOn reports whether a vector index config enables quantizer q.
func quantizerOn(cfg map[string]any, q string) bool {
	m, _ := cfg[q].(map[string]any)
	on, _ := m["enabled"].(bool)
	return on
}

// checkDrift compares an existing class with the one Quarry would create.
func checkDrift(want, have class) error {
	fail := func(format string, args ...any) error {
		return fmt.Errorf("weaviate: class %s exists with a different schema: %s; drop it or use another collection name", want.Class, fmt.Sprintf(format, args...))
	}
	if have.Vectorizer != "" && have.Vectorizer != "none" {
		return fail("vectorizer is %q, want \"none\"", have.Vectorizer)
	}
	if want.VectorIndexConfig != nil {
		if d, _ := have.VectorIndexConfig["distance"].(string); d != "" && d != want.VectorIndexConfig["distance"] {
			return fail("vector distance is %q, want %q", d, want.VectorIndexConfig["distance"])
		}
		if have.VectorIndexType != "" && have.VectorIndexType != want.VectorIndexType {
			return fail("vector index is %q, want %q", have.VectorIndexType, want.VectorIndexType)
		}
		for _, q := range []string{"sq", "bq"} {
			if h, w := quantizerOn(have.VectorIndexConfig, q), quantizerOn(want.VectorIndexConfig, q); h != w {
				return fail("quantizer %s enabled is %v, want %v", q, h, w)
			}
		}
	}
	hp := make(map[string]property, len(have.Properties))
	for _, p := range have.Properties {
		hp[p.Name] = p
	}
	for _, w := range want.Properties {
		h, ok := hp[w.Name]
		if !ok {
			return fail("property %q is missing", w.Name)
		}
		if strings.Join(h.DataType, ",") != strings.Join(w.DataType, ",") {
			return fail("property %q has type %v, want %v", w.Name, h.DataType, w.DataType)
		}
		if w.Tokenization != "" && h.Tokenization != w.Tokenization {
			return fail("property %q has tokenization %q, want %q", w.Name, h.Tokenization, w.Tokenization)
		}
	}
	return nil
}

// ensureMetaProps adds the metadata properties that docs need and the
// chunk class lacks.
func (b *Backend) ensureMetaProps(ctx context.Context, need map[string]base.Kind) error {
	b.schemaMu.Lock()
	defer b.schemaMu.Unlock()
	var names []string
	for n := range need {
		if _, ok := b.props[n]; !ok {
			names = append(names, n)
		}
	}
	sort.Strings(names)
	for _, n := range names {
		var p property
		switch need[n] {
		case base.KindString:
			p = fieldProp(n)
		case base.KindNumber:
			p = property{Name: n, DataType: []string{"number"}, IndexFilterable: ptr(true)}
		case base.KindBool:
			p = property{Name: n, DataType: []string{"boolean"}, IndexFilterable: ptr(true)}
		}
		err := b.c.do(ctx, http.MethodPost, "/v1/schema/"+b.chunks+"/properties", p, nil)
		if err != nil && !isStatus(err, http.StatusUnprocessableEntity) {
			return fmt.Errorf("weaviate: adding metadata property %s: %w", n, err)
		}
		if err != nil {
			// Added concurrently by another process? Re-read the schema.
			props, rerr := b.ensureClass(ctx, b.classDef(b.chunks, chunkProps(), true))
			if rerr != nil {
				return rerr
			}
			if hp, ok := props[n]; !ok || strings.Join(hp.DataType, ",") != strings.Join(p.DataType, ",") {
				return fmt.Errorf("weaviate: adding metadata property %s: %w", n, err)
			}
		}
		b.props[n] = p
	}
	return nil
}

// hasProp reports whether the chunk class has property n (metadata
// properties appear on first use; a filter on one that does not exist yet
// matches nothing).
func (b *Backend) hasProp(n string) bool {
	b.schemaMu.Lock()
	defer b.schemaMu.Unlock()
	_, ok := b.props[n]
	return ok
}

// refreshProps re-reads the chunk class's properties (another process may
// have added metadata properties).
func (b *Backend) refreshProps(ctx context.Context) error {
	var have class
	if err := b.c.do(ctx, http.MethodGet, "/v1/schema/"+b.chunks, nil, &have); err != nil {
		return err
	}
	b.schemaMu.Lock()
	defer b.schemaMu.Unlock()
	for _, p := range have.Properties {
		b.props[p.Name] = p
	}
	return nil
}
