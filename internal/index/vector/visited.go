package vector

// visited is a reusable visited set over node slots: a slot is visited when
// its tag equals the current epoch, so clearing is one increment; the tags
// are zeroed only when the epoch wraps.
type visited struct {
	tags  []uint16
	epoch uint16
}

// reset prepares v for a traversal over n slots.
func (v *visited) reset(n int) {
	if len(v.tags) < n {
		v.tags = make([]uint16, n+n/4)
		v.epoch = 0
	}
	v.epoch++
	if v.epoch == 0 {
		clear(v.tags)
		v.epoch = 1
	}
}

// visit marks i and reports whether it was already marked.
func (v *visited) visit(i uint32) bool {
	if v.tags[i] == v.epoch {
		return true
	}
	v.tags[i] = v.epoch
	return false
}
