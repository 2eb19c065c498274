package vector

import (
	"bufio"
	"encoding/binary"
	"fmt"
	"hash/crc32"
	"io"
)

// Mapped keys an index by ids of its own instead of the caller's, because
// a caller's ids need not survive a snapshot: the embedded store's BM25
// index renumbers the live chunks densely in id order when it loads. The
// snapshot therefore stores, with the index, which index id each
// renumbered caller id maps to (WriteSnapshot), and loading it needs no
// change to the index. The same holds while running: when the store's
// BM25 index compacts and renumbers its ids, Renumber rewrites the tables
// and the inner index never notices. Released index ids are reused first,
// so the tables and the inner index's id space stay as large as the peak
// number of vectors under churn (an HNSW still keeps a tombstoned node per
// replaced vector until its own Compact, which the store runs with the
// BM25 index's).
//
// Like every Managed index it does no locking: the caller serialises
// writes; searches only read the tables.
type Mapped struct {
	inner   keyed
	toOuter []uint32 // index id → caller id (noID when free)
	toInner []uint32 // caller id → index id (noID when none)
	free    []uint32 // released index ids, reused first
}

// NoID is the id a Mapped index passes to its FullFunc for an index id
// that no caller id holds; it also marks the free slots of its tables.
const NoID = ^uint32(0)

const noID = NoID

// newMapped wraps a new index built by mk, which receives the callback
// reading a full-precision vector by index id.
func newMapped(full FullFunc, mk func(full FullFunc) (keyed, error)) (*Mapped, error) {
	m := &Mapped{}
	inner, err := mk(m.fullByIndex(full))
	if err != nil {
		return nil, err
	}
	m.inner = inner
	return m, nil
}

// fullByIndex turns full, which reads by caller id, into a reader by index
// id; ids without a caller id are passed as noID.
func (m *Mapped) fullByIndex(full FullFunc) FullFunc {
	if full == nil {
		return nil
	}
	return func(iids []uint32, dst [][]float32) {
		ids := make([]uint32, len(iids))
		for i, iid := range iids {
			ids[i] = noID
			if int(iid) < len(m.toOuter) {
				ids[i] = m.toOuter[iid]
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

// index returns the index id of caller id, allocating one when new.
func (m *Mapped) index(id uint32) uint32 {
	m.toInner = grow(m.toInner, int(id)+1)
	if iid := m.toInner[id]; iid != noID {
		return iid
	}
	var iid uint32
	if n := len(m.free); n > 0 {
		iid, m.free = m.free[n-1], m.free[:n-1]
	} else {
		iid = uint32(len(m.toOuter))
		m.toOuter = append(m.toOuter, noID)
	}
	m.toOuter[iid] = id
	m.toInner[id] = iid
	return iid
}

func (m *Mapped) Add(id uint32, v []float32) error {
	return m.inner.Add(m.index(id), v)
}

func (m *Mapped) AddBatch(ids []uint32, vecs [][]float32) error {
	iids := make([]uint32, len(ids))
	for i, id := range ids {
		iids[i] = m.index(id)
	}
	return m.inner.AddBatch(iids, vecs)
}

func (m *Mapped) Delete(id uint32) bool {
	if int(id) >= len(m.toInner) || m.toInner[id] == noID {
		return false
	}
	iid := m.toInner[id]
	m.toInner[id], m.toOuter[iid] = noID, noID
	m.free = append(m.free, iid)
	return m.inner.Delete(iid)
}

func (m *Mapped) Search(q []float32, k, ef int, accept func(uint32) bool) ([]Result, error) {
	var acc func(uint32) bool
	if accept != nil {
		acc = func(iid uint32) bool {
			return int(iid) < len(m.toOuter) && m.toOuter[iid] != noID && accept(m.toOuter[iid])
		}
	}
	res, err := m.inner.Search(q, k, ef, acc)
	if err != nil {
		return nil, err
	}
	w := 0
	for _, r := range res {
		if int(r.ID) < len(m.toOuter) && m.toOuter[r.ID] != noID {
			res[w] = Result{ID: m.toOuter[r.ID], Score: r.Score}
			w++
		}
	}
	return res[:w], nil
}

func (m *Mapped) Len() int { return m.inner.Len() }

// Stats are the inner index's, with the id tables' memory added.
func (m *Mapped) Stats() Stats {
	st := m.inner.Stats()
	st.Bytes += 4 * (cap(m.toOuter) + cap(m.toInner) + cap(m.free))
	if n := st.Vectors + st.Deleted; n > 0 {
		st.BytesPerVector = st.Bytes / n
	}
	return st
}

func (m *Mapped) Compact() { m.inner.Compact() }

// Renumber implements Managed: only the id tables change, the inner index
// and its ids stay as they are. A caller id that held a vector but has no
// new number loses its vector.
func (m *Mapped) Renumber(remap []uint32) {
	n := 0
	for _, nid := range remap {
		if nid != noID {
			n = max(n, int(nid)+1)
		}
	}
	toInner := grow(make([]uint32, 0, n), n)
	for id, iid := range m.toInner {
		if iid == noID {
			continue
		}
		if id >= len(remap) || remap[id] == noID {
			m.toOuter[iid] = noID
			m.free = append(m.free, iid)
			m.inner.Delete(iid)
			continue
		}
		toInner[remap[id]] = iid
		m.toOuter[iid] = remap[id]
	}
	m.toInner = toInner
}
func (m *Mapped) Kind() Kind        { return m.inner.Kind() }
func (m *Mapped) Snapshotted() bool { return m.inner.Snapshotted() }

// WriteSnapshot writes the id table for the caller ids as the caller will
// number them when it loads — renumbered(id) for every mapped id — then
// the inner index:
//
//	n    4   number of entries
//	n × (new caller id 4, index id 4)
//	crc  4   CRC-32C of the entries and n
//	the inner index's format
func (m *Mapped) WriteSnapshot(w io.Writer, renumbered func(id uint32) (uint32, bool)) error {
	crc := crc32.New(castagnoli)
	bw := bufio.NewWriter(io.MultiWriter(w, crc))
	var pairs []uint32
	for id, iid := range m.toInner {
		if iid == noID {
			continue
		}
		nid, ok := renumbered(uint32(id))
		if !ok {
			return fmt.Errorf("vector: id %d has a vector but no new number", id)
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

// WriteTo is not the snapshot format: use WriteSnapshot, which renumbers.
func (m *Mapped) WriteTo(io.Writer) (int64, error) {
	return 0, fmt.Errorf("%w: a Mapped index is written with WriteSnapshot", ErrConfig)
}

// readMapped reads what WriteSnapshot wrote; read loads the inner index.
// Errors wrap ErrCorrupt.
func readMapped(r io.Reader, full FullFunc, read func(r io.Reader, full FullFunc) (keyed, error)) (*Mapped, error) {
	crc := crc32.New(castagnoli)
	tr := io.TeeReader(r, crc)
	var b [8]byte
	if _, err := io.ReadFull(tr, b[:4]); err != nil {
		return nil, fmt.Errorf("%w: id table: %v", ErrCorrupt, err)
	}
	n := binary.LittleEndian.Uint32(b[:4])
	if n > 1<<28 {
		return nil, fmt.Errorf("%w: id table of %d entries", ErrCorrupt, n)
	}
	m := &Mapped{}
	for i := uint32(0); i < n; i++ {
		if _, err := io.ReadFull(tr, b[:8]); err != nil {
			return nil, fmt.Errorf("%w: id table: %v", ErrCorrupt, err)
		}
		id, iid := binary.LittleEndian.Uint32(b[:4]), binary.LittleEndian.Uint32(b[4:])
		if id >= 1<<30 || iid >= 1<<30 {
			return nil, fmt.Errorf("%w: id table entry %d", ErrCorrupt, i)
		}
		m.toInner = grow(m.toInner, int(id)+1)
		m.toOuter = grow(m.toOuter, int(iid)+1)
		if m.toInner[id] != noID || m.toOuter[iid] != noID {
			return nil, fmt.Errorf("%w: id table entry %d repeats an id", ErrCorrupt, i)
		}
		m.toInner[id], m.toOuter[iid] = iid, id
	}
	if _, err := io.ReadFull(r, b[:4]); err != nil || binary.LittleEndian.Uint32(b[:4]) != crc.Sum32() {
		return nil, fmt.Errorf("%w: id table checksum mismatch", ErrCorrupt)
	}
	for iid, id := range m.toOuter {
		if id == noID {
			m.free = append(m.free, uint32(iid))
		}
	}
	inner, err := read(r, m.fullByIndex(full))
	if err != nil {
		return nil, err
	}
	if inner.Len() != int(n) {
		return nil, fmt.Errorf("%w: id table has %d entries, the index %d vectors", ErrCorrupt, n, inner.Len())
	}
	m.inner = inner
	return m, nil
}
