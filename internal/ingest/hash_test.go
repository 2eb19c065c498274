package ingest

import (
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"math"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/quarry-rag/quarry/internal/base"
)

func sampleDoc() base.Document {
	return base.Document{
		ID: "d1", Title: "T", Text: "body", Language: "en", Tenant: "acme",
		ACL:      []string{"bob", "alice"},
		Metadata: base.Metadata{"year": base.Number(2020), "k": base.String("v"), "b": base.Bool(true)},
		Sections: []base.Section{{Title: "T", Level: 1, Start: 0, End: 4}},
	}
}

func TestContentHashStable(t *testing.T) {
	d := sampleDoc()
	h := ContentHash(&d)
	// Golden value, checked against an independent Python encoding of the
	// same format. A change means every stored document looks modified.
	const golden = "ec07d6542fbd5d1d13ba0c18122e37149c1c401733b9e2145e09bf8032cee59c"
	if h != golden {
		t.Errorf("ContentHash = %s, golden %s (update only with a hash version bump)", h, golden)
	}
	// Same content built differently: other map insertion order, ACL order
	// and duplicates, -0, and non-content fields changed.
	e := base.Document{
		ID: "other", Source: "elsewhere", Hash: "x", Version: 9, Created: time.Now(),
		Title: "T", Text: "body", Language: "en", Tenant: "acme",
		ACL:      []string{"alice", "bob", "alice"},
		Metadata: base.Metadata{},
		Sections: []base.Section{{Title: "T", Level: 1, Start: 0, End: 4}},
	}
	e.Metadata["b"] = base.Bool(true)
	e.Metadata["k"] = base.String("v")
	e.Metadata["year"] = base.Number(2020)
	for i := 0; i < 20; i++ {
		if got := ContentHash(&e); got != h {
			t.Fatalf("equal content hashed differently: %s vs %s", got, h)
		}
	}
	if d.ACL[0] != "bob" {
		t.Error("ContentHash reordered the caller's ACL")
	}
	z1 := base.Document{Metadata: base.Metadata{"x": base.Number(0)}}
	z2 := base.Document{Metadata: base.Metadata{"x": base.Number(math.Copysign(0, -1))}}
	if ContentHash(&z1) != ContentHash(&z2) {
		t.Error("0 and -0 hash differently")
	}
}

func TestContentHashSensitive(t *testing.T) {
	base0 := sampleDoc()
	h0 := ContentHash(&base0)
	changes := map[string]func(d *base.Document){
		"title":          func(d *base.Document) { d.Title = "U" },
		"text":           func(d *base.Document) { d.Text = "body." },
		"language":       func(d *base.Document) { d.Language = "de" },
		"tenant":         func(d *base.Document) { d.Tenant = "" },
		"acl":            func(d *base.Document) { d.ACL = []string{"bob"} },
		"acl empty":      func(d *base.Document) { d.ACL = nil },
		"meta value":     func(d *base.Document) { d.Metadata["year"] = base.Number(2021) },
		"meta kind":      func(d *base.Document) { d.Metadata["year"] = base.String("2020") },
		"meta bool":      func(d *base.Document) { d.Metadata["b"] = base.Bool(false) },
		"meta key":       func(d *base.Document) { delete(d.Metadata, "k"); d.Metadata["j"] = base.String("v") },
		"meta null":      func(d *base.Document) { d.Metadata["n"] = base.Value{} },
		"section bounds": func(d *base.Document) { d.Sections[0].End = 3 },
		"section level":  func(d *base.Document) { d.Sections[0].Level = 2 },
		"no sections":    func(d *base.Document) { d.Sections = nil },
		// Length prefixes: moving bytes between adjacent fields must matter.
		"shift title/text":  func(d *base.Document) { d.Title, d.Text = "Tb", "ody" },
		"shift lang/tenant": func(d *base.Document) { d.Language, d.Tenant = "ena", "cme" },
	}
	seen := map[string]string{h0: "original"}
	for name, change := range changes {
		d := sampleDoc()
		change(&d)
		h := ContentHash(&d)
		if prev, ok := seen[h]; ok {
			t.Errorf("%s: same hash as %s", name, prev)
		}
		seen[h] = name
	}
}

// TestContentHashLongText: a text longer than the encoder's piece buffer,
// with multi-byte runes across its boundaries, hashes as the plain
// encoding of the same bytes, and hashing it does not copy it.
func TestContentHashLongText(t *testing.T) {
	var sb strings.Builder
	for i := 0; sb.Len() < 300_000; i++ {
		fmt.Fprintf(&sb, "Zeile %d: Grüße, 東京, ", i)
	}
	d := base.Document{Title: "T", Text: sb.String(), Language: "de"}
	ref := sha256.New()
	str := func(s string) {
		ref.Write(binary.AppendUvarint(nil, uint64(len(s))))
		ref.Write([]byte(s))
	}
	str(hashVersion)
	str(d.Title)
	str(d.Text)
	str(d.Language)
	str(d.Tenant)
	ref.Write([]byte{0, 0, 0}) // no ACL, no metadata, no sections
	if got, want := ContentHash(&d), hex.EncodeToString(ref.Sum(nil)); got != want {
		t.Fatalf("ContentHash of a long text = %s, want %s", got, want)
	}
	var m0, m1 runtime.MemStats
	runtime.ReadMemStats(&m0)
	for range 10 {
		ContentHash(&d)
	}
	runtime.ReadMemStats(&m1)
	if per := (m1.TotalAlloc - m0.TotalAlloc) / 10; per > 16<<10 {
		t.Errorf("hashing a %d-byte text allocates %d bytes", len(d.Text), per)
	}
}
