package embedded

import (
	"bytes"
	"encoding/binary"
	"fmt"

	bolt "go.etcd.io/bbolt"

	"github.com/quarry-rag/quarry/internal/store"
)

// A document's text is stored apart from its record, in the text bucket,
// under keys that only grow: the sequence number of the write that stored
// it (uint64 big-endian) and a piece number (uint32 big-endian), in pieces
// that fill bbolt's pages three to a page.
//
// Why: bbolt keeps at least two entries in a leaf whatever their size, so
// with whole texts inside the docs records (keyed by document id) a
// document inserted between two stored ones rewrote their leaf — hundreds
// of kilobytes for a few whole-file documents — and an upload of 1,118
// files of ~90 KB in eight interleaved requests wrote 1.3 GB to disk for
// 100 MB of text, four times what `quarry ingest` of the same folder in name
// order wrote (docs/benchmarks.md, issue 15, session 7). Keyed by write
// sequence, every new text is appended after all others: a write touches
// only its own pages and the last leaf, whatever the order of document ids.
// The docs records shrink to metadata, so Versions (read on every upsert)
// no longer decodes whole texts either.
//
// Records written before this layout (format 1) hold their text inline and
// no text_seq; they stay readable, and are rewritten in this layout when
// their document is next written.
var bucketText = []byte("text")

// textKey is the key of piece i of the text stored by write seq.
func textKey(seq uint64, i uint32) []byte {
	var k [12]byte
	binary.BigEndian.PutUint64(k[:8], seq)
	binary.BigEndian.PutUint32(k[8:], i)
	return k[:]
}

// textPieceSize is the size of a text piece for bbolt pages of pageSize
// bytes: three pieces, their 12-byte keys and 16-byte element headers fill
// a page after its 16-byte header. (bbolt splits a leaf once it exceeds
// pageSize × FillPercent, which putText sets to 1.)
func textPieceSize(pageSize int) int {
	return max((pageSize-16)/3-16-12, 256)
}

// putText stores text as the text of write seq. bbolt holds the value
// slices until the transaction commits; text is copied once, here.
func putText(tb *bolt.Bucket, seq uint64, text string, piece int) error {
	tb.FillPercent = 1 // keys only grow: fill pages whole
	b := []byte(text)
	for i := 0; len(b) > 0; i++ {
		n := min(piece, len(b))
		if err := tb.Put(textKey(seq, uint32(i)), b[:n:n]); err != nil {
			return err
		}
		b = b[n:]
	}
	return nil
}

// readText returns the n bytes of text stored by write seq.
func readText(tb *bolt.Bucket, docID string, seq uint64, n int) (string, error) {
	var buf []byte
	prefix := textKey(seq, 0)[:8]
	c := tb.Cursor()
	for k, v := c.Seek(prefix); k != nil && bytes.HasPrefix(k, prefix); k, v = c.Next() {
		if len(buf)+len(v) > n {
			break
		}
		if buf == nil {
			buf = make([]byte, 0, n)
		}
		buf = append(buf, v...)
	}
	if len(buf) != n {
		return "", fmt.Errorf("%w: document %q: its text (write %d) has %d of %d bytes", store.ErrCorrupt, docID, seq, len(buf), n)
	}
	return string(buf), nil
}

// deleteText removes the text stored by write seq.
func deleteText(tb *bolt.Bucket, seq uint64) error {
	prefix := textKey(seq, 0)[:8]
	c := tb.Cursor()
	for k, _ := c.Seek(prefix); k != nil && bytes.HasPrefix(k, prefix); k, _ = c.Seek(prefix) {
		if err := c.Delete(); err != nil {
			return err
		}
	}
	return nil
}

// loadText fills d's text from the text bucket when its record does not
// hold it inline.
func loadText(tx *bolt.Tx, d *storedDoc) error {
	if d.TextSeq == 0 {
		return nil
	}
	t, err := readText(tx.Bucket(bucketText), d.ID, d.TextSeq, d.TextLen)
	d.Text = t
	return err
}
