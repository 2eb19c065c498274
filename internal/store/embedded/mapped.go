package embedded

import (
	"bufio"
	"encoding/binary"
	"fmt"
	"hash/crc32"
	"io"

	"github.com/quarry-rag/quarry/internal/index/vector"
)

// mappedIndex keys a persistent vector index by ids of its own instead of
// the BM25 index's internal chunk ids, because those do not survive a
// snapshot: bm25.Read renumbers the live chunks densely in id order. The
// vector snapshot therefore stores, with the index, which index id each
// renumbered chunk id maps to, and loading it needs no change to the index.
//
// Every method runs under Backend.mu (see annIndex), which also guards the
// tables; searches only read them.
type mappedIndex struct {
	inner   annIndex
	toChunk []uint32 // index id → chunk id (noID when free)
	toIndex []uint32 // chunk id → index id (noID when none)
	free    []uint32 // released index ids, reused first
}

const noID = ^uint32(0)

// newMapped wraps a new index built by mk, which receives the callback
// reading a full-precision vector by index id.
func newMapped(full vector.FullFunc, mk func(full vector.FullFunc) (annIndex, error)) (*mappedIndex, error) {
	m := &mappedIndex{}
	inner, err := mk(m.fullByIndex(full))
	if err != nil {
		return nil, err
	}
	m.inner = inner
	return m, nil
}

func (m *mappedIndex) fullByIndex(full vector.FullFunc) vector.FullFunc {
	if full == nil {
		return nil
	}
	return func(iids []uint32, dst [][]float32) {
		ids := make([]uint32, len(iids))
		for i, iid := range iids {
			ids[i] = noID
			if int(iid) < len(m.toChunk) {
				ids[i] = m.toChunk[iid]
			}
		}
		full(ids, dst)
	}
}

func grow(s []uint32, n int) []uint32 {
	for len(s) < n {
		s = append(s, noID)
	}
	return s
}

// index returns the index id of chunk id, allocating one when new.
func (m *mappedIndex) index(id uint32) uint32 {
	m.toIndex = grow(m.toIndex, int(id)+1)
	if iid := m.toIndex[id]; iid != noID {
		return iid
	}
	var iid uint32
	if n := len(m.free); n > 0 {
		iid, m.free = m.free[n-1], m.free[:n-1]
	} else {
		iid = uint32(len(m.toChunk))
		m.toChunk = append(m.toChunk, noID)
	}
	m.toChunk[iid] = id
	m.toIndex[id] = iid
	return iid
}

func (m *mappedIndex) Add(id uint32, v []float32) error {
	return m.inner.Add(m.index(id), v)
}

func (m *mappedIndex) AddBatch(ids []uint32, vecs [][]float32) error {
	iids := make([]uint32, len(ids))
	for i, id := range ids {
		iids[i] = m.index(id)
	}
	return m.inner.AddBatch(iids, vecs)
}

func (m *mappedIndex) Delete(id uint32) bool {
	if int(id) >= len(m.toIndex) || m.toIndex[id] == noID {
		return false
	}
	iid := m.toIndex[id]
	m.toIndex[id], m.toChunk[iid] = noID, noID
	m.free = append(m.free, iid)
	return m.inner.Delete(iid)
}

func (m *mappedIndex) Search(q []float32, k, ef int, accept func(uint32) bool) ([]vector.Result, error) {
	var acc func(uint32) bool
	if accept != nil {
		acc = func(iid uint32) bool {
			return int(iid) < len(m.toChunk) && m.toChunk[iid] != noID && accept(m.toChunk[iid])
		}
	}
	res, err := m.inner.Search(q, k, ef, acc)
	if err != nil {
		return nil, err
	}
	w := 0
	for _, r := range res {
		if int(r.ID) < len(m.toChunk) && m.toChunk[r.ID] != noID {
			res[w] = vector.Result{ID: m.toChunk[r.ID], Score: r.Score}
			w++
		}
	}
	return res[:w], nil
}

func (m *mappedIndex) Len() int { return m.inner.Len() }

func (m *mappedIndex) Stats() vector.Stats {
	st := m.inner.Stats()
	st.Bytes += 4 * (cap(m.toChunk) + cap(m.toIndex) + cap(m.free))
	if n := st.Vectors + st.Deleted; n > 0 {
		st.BytesPerVector = st.Bytes / n
	}
	return st
}

func (m *mappedIndex) Compact()         { m.inner.Compact() }
func (m *mappedIndex) persistent() bool { return m.inner.persistent() }

// writeTo writes the id table for the chunk ids as bm25.Read will number
// them — renumbered(id) for every live chunk id — then the index:
//
//	n    4   number of entries
//	n × (new chunk id 4, index id 4)
//	crc  4   CRC-32C of the entries and n
//	the inner index's format
func (m *mappedIndex) writeTo(w io.Writer, renumbered func(id uint32) (uint32, bool)) error {
	crc := crc32.New(castagnoli)
	bw := bufio.NewWriter(io.MultiWriter(w, crc))
	var pairs []uint32
	for id, iid := range m.toIndex {
		if iid == noID {
			continue
		}
		nid, ok := renumbered(uint32(id))
		if !ok {
			return fmt.Errorf("store: vector of chunk id %d that the catalog does not have", id)
		}
		pairs = append(pairs, nid, iid)
	}
	var b [4]byte
	binary.LittleEndian.PutUint32(b[:], uint32(len(pairs)/2))
	bw.Write(b[:])
	for _, x := range pairs {
		binary.LittleEndian.PutUint32(b[:], x)
		bw.Write(b[:])
	}
	if err := bw.Flush(); err != nil {
		return err
	}
	binary.LittleEndian.PutUint32(b[:], crc.Sum32())
	if _, err := w.Write(b[:]); err != nil {
		return err
	}
	_, err := m.inner.WriteTo(w)
	return err
}

// WriteTo is unused: mappedIndex is written with writeTo.
func (m *mappedIndex) WriteTo(w io.Writer) (int64, error) {
	return 0, fmt.Errorf("store: mappedIndex needs writeTo")
}

// readMapped reads what writeTo wrote; read loads the inner index.
func readMapped(r io.Reader, full vector.FullFunc, read func(r io.Reader, full vector.FullFunc) (annIndex, error)) (*mappedIndex, error) {
	crc := crc32.New(castagnoli)
	tr := io.TeeReader(r, crc)
	var b [8]byte
	if _, err := io.ReadFull(tr, b[:4]); err != nil {
		return nil, err
	}
	n := binary.LittleEndian.Uint32(b[:4])
	if n > 1<<28 {
		return nil, fmt.Errorf("%w: id table of %d entries", errSnapshot, n)
	}
	m := &mappedIndex{}
	for i := uint32(0); i < n; i++ {
		if _, err := io.ReadFull(tr, b[:8]); err != nil {
			return nil, err
		}
		id, iid := binary.LittleEndian.Uint32(b[:4]), binary.LittleEndian.Uint32(b[4:])
		if id >= 1<<30 || iid >= 1<<30 {
			return nil, fmt.Errorf("%w: id table entry %d", errSnapshot, i)
		}
		m.toIndex = grow(m.toIndex, int(id)+1)
		m.toChunk = grow(m.toChunk, int(iid)+1)
		if m.toIndex[id] != noID || m.toChunk[iid] != noID {
			return nil, fmt.Errorf("%w: id table entry %d repeats an id", errSnapshot, i)
		}
		m.toIndex[id], m.toChunk[iid] = iid, id
	}
	if _, err := io.ReadFull(r, b[:4]); err != nil || binary.LittleEndian.Uint32(b[:4]) != crc.Sum32() {
		return nil, fmt.Errorf("%w: id table checksum mismatch", errSnapshot)
	}
	for iid, id := range m.toChunk {
		if id == noID {
			m.free = append(m.free, uint32(iid))
		}
	}
	inner, err := read(r, m.fullByIndex(full))
	if err != nil {
		return nil, err
	}
	if inner.Len() != int(n) {
		return nil, fmt.Errorf("%w: id table has %d entries, the index %d vectors", errSnapshot, n, inner.Len())
	}
	m.inner = inner
	return m, nil
}
