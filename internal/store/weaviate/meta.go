package weaviate

import (
	"context"
	"crypto/sha1"
	"fmt"
	"net/http"
	"strconv"
	"time"
)

// namespace is the UUIDv5 namespace of Quarry's object ids.
var namespace = [16]byte{0x6b, 0x1f, 0x3c, 0x52, 0x9d, 0x1e, 0x4e, 0x7a, 0x8f, 0x0a, 0x51, 0x2c, 0x7d, 0x33, 0x90, 0x11}

// uuid5 derives a stable object id from a kind and name parts.
func uuid5(kind string, parts ...string) string {
	h := sha1.New()
	h.Write(namespace[:])
	h.Write([]byte(kind))
	for _, p := range parts {
		h.Write([]byte{0})
		h.Write([]byte(p))
	}
	s := h.Sum(nil)
	s[6] = (s[6] & 0x0f) | 0x50
	s[8] = (s[8] & 0x3f) | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", s[0:4], s[4:6], s[6:8], s[8:10], s[10:16])
}

func (b *Backend) chunkUUID(chunkID string) string { return uuid5("chunk", b.name, chunkID) }
func (b *Backend) docUUID(docID string) string     { return uuid5("doc", b.name, docID) }

// meta is the collection's shared state in QuarryMeta.
type meta struct {
	gen    uint64
	dim    int
	config string
	exists bool
}

type object struct {
	Class      string         `json:"class"`
	ID         string         `json:"id"`
	Properties map[string]any `json:"properties"`
	Vector     []float32      `json:"vector,omitempty"`
	Tenant     string         `json:"tenant,omitempty"`
}

func (b *Backend) cl() string { return "consistency_level=" + b.cfg.Consistency }

// gqlCL is the GraphQL consistency argument; Weaviate offers it only on
// replicated classes.
func (b *Backend) gqlCL() string {
	if !b.replicated {
		return ""
	}
	return ",consistencyLevel:" + b.cfg.Consistency
}

func (b *Backend) readMeta(ctx context.Context) (meta, error) {
	m, err := b.readMetaOnce(ctx)
	if err != nil {
		return m, fmt.Errorf("weaviate: collection %q: reading its state: %w", b.name, err)
	}
	return m, nil
}

func (b *Backend) readMetaOnce(ctx context.Context) (meta, error) {
	var o object
	err := b.c.do(ctx, http.MethodGet, "/v1/objects/"+metaClass+"/"+b.metaID+"?"+b.cl(), nil, &o)
	if isStatus(err, http.StatusNotFound) {
		return meta{}, nil
	}
	if err != nil {
		return meta{}, err
	}
	m := meta{exists: true}
	if s, ok := o.Properties["generation"].(string); ok {
		m.gen, _ = strconv.ParseUint(s, 10, 64)
	}
	if d, ok := o.Properties["dim"].(float64); ok {
		m.dim = int(d)
	}
	m.config, _ = o.Properties["config"].(string)
	return m, nil
}

// writeMeta replaces the meta object with m.
func (b *Backend) writeMeta(ctx context.Context, m meta) error {
	o := object{Class: metaClass, ID: b.metaID, Properties: map[string]any{
		"collection": b.name, "generation": strconv.FormatUint(m.gen, 10), "dim": m.dim, "config": m.config,
	}}
	// A batch write creates or replaces (PUT needs an existing object).
	for _, err := range b.importBatch(ctx, []object{o}) {
		return err
	}
	return nil
}

// patchMeta changes fields of the meta object (read, modify, replace).
func (b *Backend) patchMeta(ctx context.Context, fields map[string]any) error {
	m, err := b.readMeta(ctx)
	if err != nil {
		return err
	}
	if v, ok := fields["config"].(string); ok {
		m.config = v
	}
	if v, ok := fields["dim"].(int); ok {
		m.dim = v
	}
	return b.writeMeta(ctx, m)
}

// bump advances the shared generation after a write (and records dim when
// it was just fixed). The new value is max(stored+1, local+1, now in ns):
// it increases for this process and, as wall-clock nanoseconds, differs
// from any value another process wrote, so a cache keyed on it misses.
func (b *Backend) bump(ctx context.Context, dim int) error {
	m, err := b.readMeta(ctx)
	if err != nil {
		return err
	}
	g := max(m.gen+1, b.gen.Load()+1, uint64(time.Now().UnixNano()))
	m.gen = g
	if dim > 0 && m.dim == 0 {
		m.dim = dim
	}
	if err := b.writeMeta(ctx, m); err != nil {
		return fmt.Errorf("weaviate: collection %q: recording the generation: %w", b.name, err)
	}
	b.observe(m)
	return nil
}
