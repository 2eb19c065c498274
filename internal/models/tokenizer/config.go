package tokenizer

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"regexp"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"
)

type fileJSON struct {
	Truncation *struct {
		MaxLength int `json:"max_length"`
	} `json:"truncation"`
	AddedTokens []struct {
		ID         int32  `json:"id"`
		Content    string `json:"content"`
		SingleWord bool   `json:"single_word"`
		Lstrip     bool   `json:"lstrip"`
		Rstrip     bool   `json:"rstrip"`
		Normalized bool   `json:"normalized"`
		Special    bool   `json:"special"`
	} `json:"added_tokens"`
	Normalizer    json.RawMessage `json:"normalizer"`
	PreTokenizer  json.RawMessage `json:"pre_tokenizer"`
	PostProcessor json.RawMessage `json:"post_processor"`
	Model         json.RawMessage `json:"model"`
}

type typed struct {
	Type string `json:"type"`
}

func isNull(m json.RawMessage) bool {
	m = bytes.TrimSpace(m)
	return len(m) == 0 || string(m) == "null"
}

// Parse parses the contents of a tokenizer.json file.
func Parse(data []byte) (*Tokenizer, error) {
	var f fileJSON
	if err := json.Unmarshal(data, &f); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrInvalid, err)
	}
	if isNull(f.Model) {
		return nil, fmt.Errorf("%w: no model", ErrInvalid)
	}
	t := &Tokenizer{}
	var err error
	if t.model, t.modelType, err = parseModel(f.Model); err != nil {
		return nil, err
	}
	if !isNull(f.Normalizer) {
		if t.normalizer, err = parseNormalizer(f.Normalizer); err != nil {
			return nil, err
		}
	}
	if !isNull(f.PreTokenizer) {
		if t.pre, err = parsePreTokenizer(f.PreTokenizer); err != nil {
			return nil, err
		}
	}
	for _, a := range f.AddedTokens {
		if a.ID < 0 {
			return nil, fmt.Errorf("%w: added token %q has negative id", ErrInvalid, a.Content)
		}
		t.added.tokens = append(t.added.tokens, addedToken{
			id: a.ID, content: a.Content, special: a.Special,
			singleWord: a.SingleWord, lstrip: a.Lstrip, rstrip: a.Rstrip, normalized: a.Normalized,
		})
	}
	t.added.build()
	if !isNull(f.PostProcessor) {
		if t.post, err = parsePost(f.PostProcessor, t); err != nil {
			return nil, err
		}
	}
	if f.Truncation != nil {
		t.truncation = f.Truncation.MaxLength
	}
	return t, nil
}

func parseModel(raw json.RawMessage) (model, string, error) {
	var m struct {
		Type                    string          `json:"type"`
		Vocab                   json.RawMessage `json:"vocab"`
		UnkToken                *string         `json:"unk_token"`
		ContinuingSubwordPrefix *string         `json:"continuing_subword_prefix"`
		MaxInputCharsPerWord    *int            `json:"max_input_chars_per_word"`
		UnkID                   *int            `json:"unk_id"`
		ByteFallback            bool            `json:"byte_fallback"`
		Merges                  json.RawMessage `json:"merges"`
	}
	if err := json.Unmarshal(raw, &m); err != nil {
		return nil, "", fmt.Errorf("%w: model: %v", ErrInvalid, err)
	}
	typ := m.Type
	if typ == "" {
		switch {
		case !isNull(m.Merges):
			typ = "BPE"
		case bytes.HasPrefix(bytes.TrimSpace(m.Vocab), []byte("[")):
			typ = "Unigram"
		case m.MaxInputCharsPerWord != nil || m.ContinuingSubwordPrefix != nil:
			typ = "WordPiece"
		default:
			typ = "WordLevel"
		}
	}
	switch typ {
	case "WordPiece":
		var vocab map[string]int32
		if err := json.Unmarshal(m.Vocab, &vocab); err != nil {
			return nil, "", fmt.Errorf("%w: WordPiece vocab: %v", ErrInvalid, err)
		}
		w := &wordPiece{vocab: vocab, unk: "[UNK]", prefix: "##", maxChars: 100}
		if m.UnkToken != nil {
			w.unk = *m.UnkToken
		}
		if m.ContinuingSubwordPrefix != nil {
			w.prefix = *m.ContinuingSubwordPrefix
		}
		if m.MaxInputCharsPerWord != nil {
			w.maxChars = *m.MaxInputCharsPerWord
		}
		maxID := int32(-1)
		for s, id := range vocab {
			if id < 0 || id > 1<<26 {
				return nil, "", fmt.Errorf("%w: WordPiece vocab: id %d of %q out of range", ErrInvalid, id, s)
			}
			maxID = max(maxID, id)
		}
		w.byID = make([]string, maxID+1)
		for s, id := range vocab {
			w.byID[id] = s
			l := len(s)
			if len(w.prefix) > 0 && len(s) >= len(w.prefix) && s[:len(w.prefix)] == w.prefix {
				l -= len(w.prefix)
			}
			w.maxTokLen = max(w.maxTokLen, l, len(s))
		}
		id, ok := vocab[w.unk]
		if !ok {
			return nil, "", fmt.Errorf("%w: WordPiece unk_token %q not in vocab", ErrInvalid, w.unk)
		}
		w.unkID = id
		return w, typ, nil
	case "Unigram":
		var vocab [][2]json.RawMessage
		if err := json.Unmarshal(m.Vocab, &vocab); err != nil {
			return nil, "", fmt.Errorf("%w: Unigram vocab: %v", ErrInvalid, err)
		}
		u := &unigram{
			pieces: make([]string, len(vocab)),
			scores: make([]float64, len(vocab)),
			vocab:  make(map[string]int32, len(vocab)),
			unkID:  -1,
			byteFB: m.ByteFallback,
		}
		for i, e := range vocab {
			if err := json.Unmarshal(e[0], &u.pieces[i]); err != nil {
				return nil, "", fmt.Errorf("%w: Unigram vocab entry %d: %v", ErrInvalid, i, err)
			}
			if err := json.Unmarshal(e[1], &u.scores[i]); err != nil {
				return nil, "", fmt.Errorf("%w: Unigram vocab entry %d: %v", ErrInvalid, i, err)
			}
			if _, dup := u.vocab[u.pieces[i]]; !dup {
				u.vocab[u.pieces[i]] = int32(i)
			}
		}
		if m.ByteFallback {
			return nil, "", fmt.Errorf("%w: Unigram with byte_fallback", ErrUnsupported)
		}
		if m.UnkID != nil {
			if *m.UnkID < 0 || *m.UnkID >= len(vocab) {
				return nil, "", fmt.Errorf("%w: Unigram unk_id %d out of range", ErrInvalid, *m.UnkID)
			}
			u.unkID = int32(*m.UnkID)
		}
		u.minScore = minScore(u.scores)
		u.trie = buildTrie(u.pieces)
		return u, typ, nil
	default:
		return nil, "", fmt.Errorf("%w: model type %q", ErrUnsupported, typ)
	}
}

func parseNormalizer(raw json.RawMessage) (normalizer, error) {
	var ty typed
	if err := json.Unmarshal(raw, &ty); err != nil {
		return nil, fmt.Errorf("%w: normalizer: %v", ErrInvalid, err)
	}
	switch ty.Type {
	case "BertNormalizer":
		var c struct {
			CleanText          *bool `json:"clean_text"`
			HandleChineseChars *bool `json:"handle_chinese_chars"`
			StripAccents       *bool `json:"strip_accents"`
			Lowercase          *bool `json:"lowercase"`
		}
		if err := json.Unmarshal(raw, &c); err != nil {
			return nil, fmt.Errorf("%w: BertNormalizer: %v", ErrInvalid, err)
		}
		b := &bertNormalizer{cleanText: true, chineseChars: true, lowercase: true}
		if c.CleanText != nil {
			b.cleanText = *c.CleanText
		}
		if c.HandleChineseChars != nil {
			b.chineseChars = *c.HandleChineseChars
		}
		if c.Lowercase != nil {
			b.lowercase = *c.Lowercase
		}
		b.stripAccents = b.lowercase
		if c.StripAccents != nil {
			b.stripAccents = *c.StripAccents
		}
		return b, nil
	case "Precompiled":
		var c struct {
			Charsmap *string `json:"precompiled_charsmap"`
		}
		if err := json.Unmarshal(raw, &c); err != nil {
			return nil, fmt.Errorf("%w: Precompiled: %v", ErrInvalid, err)
		}
		if c.Charsmap == nil || *c.Charsmap == "" {
			return sequenceNormalizer(nil), nil
		}
		b, err := base64.StdEncoding.DecodeString(*c.Charsmap)
		if err != nil {
			return nil, fmt.Errorf("%w: Precompiled: charsmap: %v", ErrInvalid, err)
		}
		m, err := parseCharsmap(b)
		if err != nil {
			return nil, fmt.Errorf("%w: %v", ErrInvalid, err)
		}
		return &precompiledNormalizer{m: m}, nil
	case "Sequence":
		var c struct {
			Normalizers []json.RawMessage `json:"normalizers"`
		}
		if err := json.Unmarshal(raw, &c); err != nil {
			return nil, fmt.Errorf("%w: normalizer Sequence: %v", ErrInvalid, err)
		}
		var seq sequenceNormalizer
		for _, r := range c.Normalizers {
			if isNull(r) {
				continue
			}
			n, err := parseNormalizer(r)
			if err != nil {
				return nil, err
			}
			seq = append(seq, n)
		}
		return seq, nil
	case "NFC":
		return formNormalizer{norm.NFC}, nil
	case "NFD":
		return formNormalizer{norm.NFD}, nil
	case "NFKC":
		return formNormalizer{norm.NFKC}, nil
	case "NFKD":
		return formNormalizer{norm.NFKD}, nil
	case "Lowercase":
		return lowercaseNormalizer{}, nil
	case "StripAccents":
		return stripAccentsNormalizer{}, nil
	case "Strip":
		var c struct {
			Left  bool `json:"strip_left"`
			Right bool `json:"strip_right"`
		}
		if err := json.Unmarshal(raw, &c); err != nil {
			return nil, fmt.Errorf("%w: Strip: %v", ErrInvalid, err)
		}
		return stripNormalizer{c.Left, c.Right}, nil
	case "Prepend":
		var c struct {
			Prepend string `json:"prepend"`
		}
		if err := json.Unmarshal(raw, &c); err != nil {
			return nil, fmt.Errorf("%w: Prepend: %v", ErrInvalid, err)
		}
		return prependNormalizer{c.Prepend}, nil
	case "Replace":
		var c struct {
			Pattern struct {
				String *string `json:"String"`
				Regex  *string `json:"Regex"`
			} `json:"pattern"`
			Content string `json:"content"`
		}
		if err := json.Unmarshal(raw, &c); err != nil {
			return nil, fmt.Errorf("%w: Replace: %v", ErrInvalid, err)
		}
		r := &replaceNormalizer{content: c.Content}
		switch {
		case c.Pattern.String != nil:
			r.literal = *c.Pattern.String
		case c.Pattern.Regex != nil:
			re, err := regexp.Compile(*c.Pattern.Regex)
			if err != nil {
				return nil, fmt.Errorf("%w: Replace regex %q: %v", ErrUnsupported, *c.Pattern.Regex, err)
			}
			r.re = re
		default:
			return nil, fmt.Errorf("%w: Replace without pattern", ErrInvalid)
		}
		return r, nil
	case "":
		return nil, fmt.Errorf("%w: normalizer without type", ErrInvalid)
	default:
		return nil, fmt.Errorf("%w: normalizer type %q", ErrUnsupported, ty.Type)
	}
}

func parsePreTokenizer(raw json.RawMessage) (preTokenizer, error) {
	var ty typed
	if err := json.Unmarshal(raw, &ty); err != nil {
		return nil, fmt.Errorf("%w: pre_tokenizer: %v", ErrInvalid, err)
	}
	switch ty.Type {
	case "BertPreTokenizer":
		return bertPreTokenizer(), nil
	case "WhitespaceSplit":
		return whitespaceSplitPreTokenizer(), nil
	case "Whitespace":
		return whitespacePreTokenizer(), nil
	case "Punctuation":
		var c struct {
			Behavior string `json:"behavior"`
		}
		if err := json.Unmarshal(raw, &c); err != nil {
			return nil, fmt.Errorf("%w: Punctuation: %v", ErrInvalid, err)
		}
		if c.Behavior != "" && c.Behavior != "Isolated" {
			return nil, fmt.Errorf("%w: Punctuation behavior %q", ErrUnsupported, c.Behavior)
		}
		return punctuationPreTokenizer(), nil
	case "Digits":
		var c struct {
			Individual bool `json:"individual_digits"`
		}
		if err := json.Unmarshal(raw, &c); err != nil {
			return nil, fmt.Errorf("%w: Digits: %v", ErrInvalid, err)
		}
		return digitsPreTokenizer(c.Individual), nil
	case "Metaspace":
		var c struct {
			Replacement    string  `json:"replacement"`
			AddPrefixSpace *bool   `json:"add_prefix_space"`
			PrependScheme  *string `json:"prepend_scheme"`
			Split          *bool   `json:"split"`
		}
		if err := json.Unmarshal(raw, &c); err != nil {
			return nil, fmt.Errorf("%w: Metaspace: %v", ErrInvalid, err)
		}
		m := &metaspacePreTokenizer{replacement: 0x2581, prepend: prependAlways, splitOn: true}
		if c.Replacement != "" {
			r, sz := utf8.DecodeRuneInString(c.Replacement)
			if sz != len(c.Replacement) || r == utf8.RuneError {
				return nil, fmt.Errorf("%w: Metaspace replacement %q is not one character", ErrInvalid, c.Replacement)
			}
			m.replacement = r
		}
		if c.AddPrefixSpace != nil && !*c.AddPrefixSpace {
			m.prepend = prependNever
		}
		if c.PrependScheme != nil {
			switch *c.PrependScheme {
			case "always":
				m.prepend = prependAlways
			case "first":
				m.prepend = prependFirst
			case "never":
				m.prepend = prependNever
			default:
				return nil, fmt.Errorf("%w: Metaspace prepend_scheme %q", ErrInvalid, *c.PrependScheme)
			}
		}
		if c.Split != nil {
			m.splitOn = *c.Split
		}
		return m, nil
	case "Sequence":
		var c struct {
			PreTokenizers []json.RawMessage `json:"pretokenizers"`
		}
		if err := json.Unmarshal(raw, &c); err != nil {
			return nil, fmt.Errorf("%w: pre_tokenizer Sequence: %v", ErrInvalid, err)
		}
		var seq sequencePreTokenizer
		for _, r := range c.PreTokenizers {
			if isNull(r) {
				continue
			}
			p, err := parsePreTokenizer(r)
			if err != nil {
				return nil, err
			}
			seq = append(seq, p)
		}
		if len(seq) == 0 {
			return nil, nil
		}
		return seq, nil
	case "":
		return nil, fmt.Errorf("%w: pre_tokenizer without type", ErrInvalid)
	default:
		return nil, fmt.Errorf("%w: pre_tokenizer type %q", ErrUnsupported, ty.Type)
	}
}

func parsePost(raw json.RawMessage, t *Tokenizer) (*postProcessor, error) {
	var ty typed
	if err := json.Unmarshal(raw, &ty); err != nil {
		return nil, fmt.Errorf("%w: post_processor: %v", ErrInvalid, err)
	}
	special := func(s string, id int32) templateItem {
		return templateItem{ids: []int32{id}, tokens: []string{s}}
	}
	pairOf := func(r json.RawMessage) (string, int32, error) {
		var v [2]json.RawMessage
		var s string
		var id int32
		if err := json.Unmarshal(r, &v); err != nil {
			return "", 0, err
		}
		if err := json.Unmarshal(v[0], &s); err != nil {
			return "", 0, err
		}
		if err := json.Unmarshal(v[1], &id); err != nil {
			return "", 0, err
		}
		return s, id, nil
	}
	switch ty.Type {
	case "BertProcessing", "RobertaProcessing":
		var c struct {
			Sep json.RawMessage `json:"sep"`
			Cls json.RawMessage `json:"cls"`
		}
		if err := json.Unmarshal(raw, &c); err != nil {
			return nil, fmt.Errorf("%w: %s: %v", ErrInvalid, ty.Type, err)
		}
		sepS, sepID, err := pairOf(c.Sep)
		if err != nil {
			return nil, fmt.Errorf("%w: %s sep: %v", ErrInvalid, ty.Type, err)
		}
		clsS, clsID, err := pairOf(c.Cls)
		if err != nil {
			return nil, fmt.Errorf("%w: %s cls: %v", ErrInvalid, ty.Type, err)
		}
		cls, sep := special(clsS, clsID), special(sepS, sepID)
		p := &postProcessor{single: []templateItem{cls, {seq: 0}, sep}}
		if ty.Type == "BertProcessing" {
			sep1 := sep
			sep1.typeID = 1
			p.pair = []templateItem{cls, {seq: 0}, sep, {seq: 1, typeID: 1}, sep1}
		} else {
			p.pair = []templateItem{cls, {seq: 0}, sep, sep, {seq: 1}, sep}
		}
		return p, nil
	case "TemplateProcessing":
		var c struct {
			Single        []json.RawMessage `json:"single"`
			Pair          []json.RawMessage `json:"pair"`
			SpecialTokens map[string]struct {
				ID     string   `json:"id"`
				IDs    []int32  `json:"ids"`
				Tokens []string `json:"tokens"`
			} `json:"special_tokens"`
		}
		if err := json.Unmarshal(raw, &c); err != nil {
			return nil, fmt.Errorf("%w: TemplateProcessing: %v", ErrInvalid, err)
		}
		conv := func(items []json.RawMessage) ([]templateItem, error) {
			var out []templateItem
			for _, r := range items {
				var it struct {
					SpecialToken *struct {
						ID     string `json:"id"`
						TypeID int32  `json:"type_id"`
					} `json:"SpecialToken"`
					Sequence *struct {
						ID     string `json:"id"`
						TypeID int32  `json:"type_id"`
					} `json:"Sequence"`
				}
				if err := json.Unmarshal(r, &it); err != nil {
					return nil, err
				}
				switch {
				case it.SpecialToken != nil:
					st, ok := c.SpecialTokens[it.SpecialToken.ID]
					if !ok {
						return nil, fmt.Errorf("special token %q not defined", it.SpecialToken.ID)
					}
					if len(st.IDs) != len(st.Tokens) {
						return nil, fmt.Errorf("special token %q: %d ids for %d tokens", it.SpecialToken.ID, len(st.IDs), len(st.Tokens))
					}
					out = append(out, templateItem{ids: st.IDs, tokens: st.Tokens, typeID: it.SpecialToken.TypeID})
					if out[len(out)-1].ids == nil {
						out[len(out)-1].ids = []int32{}
					}
				case it.Sequence != nil:
					seq := 0
					switch it.Sequence.ID {
					case "A":
					case "B":
						seq = 1
					default:
						return nil, fmt.Errorf("sequence id %q", it.Sequence.ID)
					}
					out = append(out, templateItem{seq: seq, typeID: it.Sequence.TypeID})
				default:
					return nil, fmt.Errorf("template item %s", r)
				}
			}
			return out, nil
		}
		single, err := conv(c.Single)
		if err != nil {
			return nil, fmt.Errorf("%w: TemplateProcessing single: %v", ErrInvalid, err)
		}
		pair, err := conv(c.Pair)
		if err != nil {
			return nil, fmt.Errorf("%w: TemplateProcessing pair: %v", ErrInvalid, err)
		}
		return &postProcessor{single: single, pair: pair}, nil
	case "":
		return nil, fmt.Errorf("%w: post_processor without type", ErrInvalid)
	default:
		return nil, fmt.Errorf("%w: post_processor type %q", ErrUnsupported, ty.Type)
	}
}
