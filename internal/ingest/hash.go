package ingest

import (
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"hash"
	"math"
	"slices"

	"github.com/quarry-rag/quarry/internal/base"
)

// hashVersion starts every encoding; change it if the encoding changes.
const hashVersion = "quarry.ingest.ContentHash/v1"

// ContentHash returns the hex SHA-256 of d's content: title, text,
// language, tenant, ACL (as a sorted set of principals), metadata (sorted by
// key; each value's kind and value) and sections (in order). ID, Source and
// the bookkeeping fields (Hash, Version, timestamps) are not content. The
// encoding is canonical: every string is length-prefixed, every list
// count-prefixed, so equal content gives equal hashes whatever the map
// order, and different content cannot collide by shifting bytes between
// fields. Numbers hash by value: 0 and -0 are the same, and so are all NaNs.
func ContentHash(d *base.Document) string {
	e := hashEncoder{h: sha256.New()}
	e.str(hashVersion)
	e.str(d.Title)
	e.str(d.Text)
	e.str(d.Language)
	e.str(d.Tenant)

	acl := slices.Clone(d.ACL)
	slices.Sort(acl)
	acl = slices.Compact(acl)
	e.uint(uint64(len(acl)))
	for _, p := range acl {
		e.str(p)
	}

	keys := d.Metadata.Keys()
	e.uint(uint64(len(keys)))
	for _, k := range keys {
		v := d.Metadata[k]
		e.str(k)
		e.byte(byte(v.Kind))
		switch v.Kind {
		case base.KindString:
			e.str(v.Str)
		case base.KindNumber:
			f := v.Num
			switch {
			case f == 0:
				f = 0 // -0 → +0
			case math.IsNaN(f):
				f = math.NaN()
			}
			e.uint(math.Float64bits(f))
		case base.KindBool:
			if v.Bool {
				e.byte(1)
			} else {
				e.byte(0)
			}
		}
	}

	e.uint(uint64(len(d.Sections)))
	for _, s := range d.Sections {
		e.str(s.Title)
		e.int(int64(s.Level))
		e.int(int64(s.Start))
		e.int(int64(s.End))
	}
	return hex.EncodeToString(e.h.Sum(nil))
}

type hashEncoder struct {
	h   hash.Hash
	buf [binary.MaxVarintLen64]byte
	// piece carries strings into h a piece at a time: io.WriteString
	// would copy each text whole to a new []byte (sha256 has no
	// WriteString), garbage as large as everything ingested.
	piece [512]byte
}

func (e *hashEncoder) uint(x uint64) {
	n := binary.PutUvarint(e.buf[:], x)
	e.h.Write(e.buf[:n])
}

func (e *hashEncoder) int(x int64) {
	n := binary.PutVarint(e.buf[:], x)
	e.h.Write(e.buf[:n])
}

func (e *hashEncoder) byte(b byte) { e.h.Write([]byte{b}) }

func (e *hashEncoder) str(s string) {
	e.uint(uint64(len(s)))
	for len(s) > 0 {
		n := copy(e.piece[:], s)
		e.h.Write(e.piece[:n])
		s = s[n:]
	}
}
