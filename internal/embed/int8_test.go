package embed

import (
	"context"
	"strings"
	"testing"

	"github.com/quarry-rag/quarry/internal/models/hub"
	"github.com/quarry-rag/quarry/internal/models/transformer"
)

// TestLocalInt8 loads all-MiniLM-L6-v2 through the spec string with
// ?quantization=int8 and embeds the fixture's texts end to end: every
// Linear layer runs int8, the name is the float32 model's, and the vectors
// stay within cosine 0.99 (mean) of the float32 embedder's.
func TestLocalInt8(t *testing.T) {
	const model = "all-MiniLM-L6-v2"
	if _, err := hub.Resolve(model); err != nil {
		t.Skipf("model %s is not in the model cache (%v): run `make models`", model, err)
	}
	f32 := localModel(t, model)
	e, err := Parse(model + "?quantization=int8")
	if err != nil {
		t.Fatal(err)
	}
	i8 := e.(*Local)
	defer i8.Close()
	if i8.Name() != f32.Name() {
		t.Errorf("name %q, float32 %q", i8.Name(), f32.Name())
	}
	if n, total := i8.enc.Int8Layers(); n != total || i8.enc.Quantization() != transformer.Int8 {
		t.Fatalf("int8 layers %d of %d, quantization %v", n, total, i8.enc.Quantization())
	}
	if !strings.Contains(i8.enc.String(), "int8") {
		t.Errorf("encoder description does not say int8: %s", i8.enc)
	}
	items := fixtureTexts(t, model)
	if len(items) > 60 { // passages come first, queries last: some of each
		items = append(items[:40:40], items[len(items)-20:]...)
	}
	for _, kind := range []Kind{Query, Passage} {
		var in []string
		for _, it := range items {
			if it.kind == kind {
				in = append(in, it.text)
			}
		}
		if len(in) == 0 {
			continue
		}
		a, err := f32.Embed(context.Background(), in, kind)
		if err != nil {
			t.Fatal(err)
		}
		b, err := i8.Embed(context.Background(), in, kind)
		if err != nil {
			t.Fatal(err)
		}
		var sum float64
		for i := range a {
			sum += cosine(a[i], b[i])
		}
		mean := sum / float64(len(a))
		t.Logf("%v: %d texts, int8 vs float32 mean cosine %.5f", kind, len(a), mean)
		if mean < 0.99 {
			t.Errorf("%v: mean cosine %.5f < 0.99", kind, mean)
		}
	}
}
