package vector

// Typed binary heaps of (distance, node) pairs: no interfaces, no boxing.

type item struct {
	d float32
	i uint32
}

// maxHeap keeps the worst (largest distance) on top: the result set.
type maxHeap []item

func (h *maxHeap) push(x item) {
	s := append(*h, x)
	j := len(s) - 1
	for j > 0 {
		p := (j - 1) / 2
		if s[p].d >= x.d {
			break
		}
		s[j] = s[p]
		j = p
	}
	s[j] = x
	*h = s
}

func (h *maxHeap) pop() item {
	s := *h
	top := s[0]
	n := len(s) - 1
	x := s[n]
	s = s[:n]
	j := 0
	for {
		c := 2*j + 1
		if c >= n {
			break
		}
		if c+1 < n && s[c+1].d > s[c].d {
			c++
		}
		if s[c].d <= x.d {
			break
		}
		s[j] = s[c]
		j = c
	}
	if n > 0 {
		s[j] = x
	}
	*h = s
	return top
}

// replaceTop replaces the worst item by x (which must be better) and
// restores the heap: one sift instead of a push and a pop.
func (h maxHeap) replaceTop(x item) {
	n := len(h)
	j := 0
	for {
		c := 2*j + 1
		if c >= n {
			break
		}
		if c+1 < n && h[c+1].d > h[c].d {
			c++
		}
		if h[c].d <= x.d {
			break
		}
		h[j] = h[c]
		j = c
	}
	h[j] = x
}

// minHeap keeps the best (smallest distance) on top: the candidate queue.
type minHeap []item

func (h *minHeap) push(x item) {
	s := append(*h, x)
	j := len(s) - 1
	for j > 0 {
		p := (j - 1) / 2
		if s[p].d <= x.d {
			break
		}
		s[j] = s[p]
		j = p
	}
	s[j] = x
	*h = s
}

func (h *minHeap) pop() item {
	s := *h
	top := s[0]
	n := len(s) - 1
	x := s[n]
	s = s[:n]
	j := 0
	for {
		c := 2*j + 1
		if c >= n {
			break
		}
		if c+1 < n && s[c+1].d < s[c].d {
			c++
		}
		if s[c].d >= x.d {
			break
		}
		s[j] = s[c]
		j = c
	}
	if n > 0 {
		s[j] = x
	}
	*h = s
	return top
}

// sortAsc sorts items by distance, ascending (insertion sort for the short
// lists of neighbour selection, heap order otherwise).
func sortAsc(s []item) {
	if len(s) <= 48 {
		for i := 1; i < len(s); i++ {
			x := s[i]
			j := i
			for j > 0 && s[j-1].d > x.d {
				s[j] = s[j-1]
				j--
			}
			s[j] = x
		}
		return
	}
	// Heapsort via maxHeap: pop the worst to the end.
	h := maxHeap(s[:0])
	for _, x := range s {
		h.push(x)
	}
	for n := len(s); n > 0; n-- {
		x := h.pop()
		s[n-1] = x
	}
}
