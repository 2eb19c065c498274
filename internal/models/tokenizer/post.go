package tokenizer

// templateItem is one element of a post-processing template: a special
// token (ids/tokens non-nil) or a sequence (seq 0 = A, 1 = B).
type templateItem struct {
	seq    int
	ids    []int32
	tokens []string
	typeID int32
}

// postProcessor adds special tokens around one or two sequences.
type postProcessor struct {
	single, pair []templateItem
}

// addedTokens reports how many special tokens the template adds.
func (p *postProcessor) addedTokens(pair bool) int {
	if p == nil {
		return 0
	}
	items := p.single
	if pair {
		items = p.pair
	}
	n := 0
	for _, it := range items {
		if it.ids != nil {
			n += len(it.ids)
		}
	}
	return n
}

// part is the tokens of one input sequence before post-processing.
type part struct {
	ids     []int32
	tokens  []string
	offsets [][2]int
}

func (p *postProcessor) apply(a, b *part, pair bool, enc *Encoding) {
	items := []templateItem{{seq: 0, typeID: 0}}
	if pair {
		items = []templateItem{{seq: 0, typeID: 0}, {seq: 1, typeID: 1}}
	}
	if p != nil {
		items = p.single
		if pair {
			items = p.pair
		}
	}
	for _, it := range items {
		if it.ids != nil {
			for i, id := range it.ids {
				enc.IDs = append(enc.IDs, id)
				enc.Tokens = append(enc.Tokens, it.tokens[i])
				enc.Offsets = append(enc.Offsets, [2]int{0, 0})
				enc.TypeIDs = append(enc.TypeIDs, it.typeID)
				enc.SpecialMask = append(enc.SpecialMask, true)
			}
			continue
		}
		src := a
		if it.seq == 1 {
			src = b
		}
		if src == nil {
			continue
		}
		enc.IDs = append(enc.IDs, src.ids...)
		enc.Tokens = append(enc.Tokens, src.tokens...)
		enc.Offsets = append(enc.Offsets, src.offsets...)
		for range src.ids {
			enc.TypeIDs = append(enc.TypeIDs, it.typeID)
			enc.SpecialMask = append(enc.SpecialMask, false)
		}
	}
}
