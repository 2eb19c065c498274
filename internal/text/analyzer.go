package text

import (
	"errors"
	"fmt"
	"strings"
	"sync"
	"unicode"
	"unicode/utf8"

	"github.com/blevesearch/snowballstem"
	"github.com/clipperhouse/uax29/v2/words"
	"golang.org/x/text/cases"
	"golang.org/x/text/language"
	"golang.org/x/text/transform"
	"golang.org/x/text/unicode/norm"
)

// ErrUnsupportedLanguage is returned by NewAnalyzer for a language it has
// neither a stemmer nor a stopword list for (and that is not Chinese,
// Japanese or Korean, which need neither).
var ErrUnsupportedLanguage = errors.New("text: unsupported language")

// Token is one term produced by an Analyzer.
type Token struct {
	// Term is the normalised, case-folded and (when enabled) stemmed form.
	Term string
	// Start and End are byte offsets of the source of the term in the
	// analysed text, End exclusive. They point into the original input, not
	// its NFKC form. A term made from a whole word covers the word without
	// leading or trailing punctuation; a CJK bigram covers its two
	// characters.
	Start, End int
	// Pos is the term's position. It advances by one per word read, removed
	// stopwords included (so a phrase keeps its true distances), and by one
	// per CJK character; a CJK bigram has the position of its first
	// character and a lone CJK character a position of its own. The parts
	// of a split compound share the compound's position and offsets.
	Pos int
}

// AnalyzerConfig selects an analysis chain. The zero value is the
// language-neutral chain: NFKC, UAX #29 words, case folding, CJK bigrams,
// and no stopwords or stemming.
type AnalyzerConfig struct {
	// Language is an ISO 639-1 code ("en", "de", ...); a region subtag
	// ("pt-BR") is ignored and case does not matter. "" selects the
	// language-neutral chain. Languages with a Snowball stemmer (da en es
	// fi fr ga hu it nl no pt ro ru sv ta tr) or a published light stemmer
	// (ar bg cs de hi id) are stemmed; Arabic proclitics are removed where
	// a lexicon confirms the rest (arabic.go); those with a stopword list drop
	// stopwords; German compounds are split (decompound.go); the table of
	// every language is docs/languages.md. zh, ja and ko are accepted and
	// use the neutral chain.
	Language string
	// KeepStopwords keeps stopwords in the output. Default false: stopwords
	// of Language are removed.
	KeepStopwords bool
	// NoStem disables stemming. Default false: words are stemmed when
	// Language has a stemmer.
	NoStem bool
	// NoDecompound disables compound splitting. Default false: in German,
	// a compound of dictionary nouns is indexed as itself and as its parts
	// (decompound.go).
	NoDecompound bool
}

// Analyzer turns text into index and query terms:
//
//	UAX #29 word segments that contain a letter or digit
//	→ NFKC per segment (offsets stay on the original text)
//	→ case folding (Turkish and Azeri use Turkish lower-casing)
//	→ elision removal (fr, it, ga)
//	→ stopword removal → Snowball stemming
//	→ German compounds: the parts' terms as well (decompound.go)
//
// with runs of Han, kana and Hangul turned into overlapping character
// bigrams (a lone CJK character stays a unigram) that are neither
// stopped nor stemmed.
//
// An Analyzer is safe for concurrent use.
type Analyzer struct {
	lang  string
	stop  map[string]struct{}
	stem  func(*snowballstem.Env) bool
	light func(string) string // light stemmer, when there is no Snowball one
	// clitics removes a word's proclitics before the stopword test is
	// repeated and the light stemmer runs (Arabic); may be nil.
	clitics  func(string) string
	norm     func(string) string // script-aware normaliser, may be nil
	elisions []string
	// decompound returns the compound dictionary; nil when the language
	// has none or splitting is off.
	decompound func() *frontDict
	turkish    bool // Turkish lower-casing (I → ı, İ → i)
	romanian   bool // ș ț (comma below) → ş ţ (cedilla), as the stemmer expects
	folders    sync.Pool
	cache      *termCache
}

// NewAnalyzer returns the analyzer described by cfg.
func NewAnalyzer(cfg AnalyzerConfig) (*Analyzer, error) {
	lang := strings.ToLower(cfg.Language)
	if i := strings.IndexAny(lang, "-_"); i >= 0 {
		lang = lang[:i]
	}
	if lang == "nb" || lang == "nn" {
		lang = "no"
	}
	a := &Analyzer{lang: lang, cache: newTermCache()}
	a.turkish = lang == "tr" || lang == "az"
	a.romanian = lang == "ro"
	a.folders.New = func() any {
		if a.turkish {
			return cases.Lower(language.Turkish)
		}
		return cases.Fold()
	}
	stem, hasStem := stemmers[lang]
	light, hasLight := lightStemmers[lang]
	stops, hasStops := stopwords(lang)
	norm, hasNorm := normalizers[lang]
	switch {
	case lang == "", segmentedLanguages[lang], hasStem, hasLight, hasStops, hasNorm:
	default:
		return nil, fmt.Errorf("%w: %q", ErrUnsupportedLanguage, cfg.Language)
	}
	if hasStem && !cfg.NoStem {
		a.stem = stem
	}
	if hasLight && !cfg.NoStem {
		a.light = light
		a.clitics = procliticStrippers[lang]
	}
	a.norm = norm
	a.elisions = elisions[lang]
	if d, ok := decompounders[lang]; ok && !cfg.NoDecompound {
		a.decompound = d
	}
	if hasStops && !cfg.KeepStopwords {
		// Normalise and fold the list exactly as input words are, with an
		// analyzer of the same folding and normalisation that neither
		// stops nor stems. In a script the analyzer segments itself, an
		// entry the segmenter splits is left out rather than stopping its
		// parts.
		plain := &Analyzer{lang: lang, turkish: a.turkish, romanian: a.romanian, norm: a.norm, cache: newTermCache()}
		plain.folders.New = a.folders.New
		a.stop = make(map[string]struct{})
		var terms []string
		for _, w := range strings.Fields(stops) {
			terms = plain.AppendTerms(terms[:0], w)
			if len(terms) > 1 && segmentedLanguages[lang] {
				continue
			}
			for _, t := range terms {
				a.stop[t] = struct{}{}
			}
		}
	}
	return a, nil
}

// Language returns the analyzer's language code, "" for the neutral chain.
func (a *Analyzer) Language() string { return a.lang }

// Analyze returns the tokens of text in order.
func (a *Analyzer) Analyze(text string) []Token {
	var toks []Token
	st := analysis{a: a, text: text, toks: &toks}
	st.run()
	return toks
}

// AppendTerms appends the terms of text to dst and returns the extended
// slice. It is Analyze without offsets or positions, and for words already
// seen allocates nothing but the growth of dst.
func (a *Analyzer) AppendTerms(dst []string, text string) []string {
	// The state points into itself (buf into scratch), so it cannot live
	// on the stack; a pooled one saves a query an allocation of ~500 bytes.
	st := analysisPool.Get().(*analysis)
	*st = analysis{a: a, text: text, out: dst}
	st.terms = &st.out
	st.run()
	dst = st.out
	*st = analysis{} // pin neither the text nor dst
	analysisPool.Put(st)
	return dst
}

var analysisPool = sync.Pool{New: func() any { return new(analysis) }}

// analysis is the state of one Analyze or AppendTerms call. Exactly one of
// toks and terms is set.
type analysis struct {
	a     *Analyzer
	text  string
	toks  *[]Token
	terms *[]string
	out   []string // AppendTerms' dst; terms points to it
	pos   int

	// The word being assembled from a non-ASCII segment.
	buf      []byte
	scratch  [64]byte
	start    int  // offset of its first letter/digit; -1 when none yet
	keep     int  // len(buf) after the last letter, digit or mark
	end      int  // offset just past the source of that rune
	nonASCII bool // buf has a non-ASCII byte

	// The CJK run in progress: the previous character, if any.
	cjkPrev          []byte
	cjkPrevBuf       [8]byte
	cjkStart, cjkEnd int
	cjkPos           int
	cjkLen           int // characters in the run so far

	// The run of an unsegmented script (Thai, Lao, Khmer, Myanmar) in
	// progress: its byte range, the cluster boundaries relative to its
	// start, and whether the last cluster must join the next.
	sea              seaScript
	seaStart, seaEnd int
	seaLen           int // segments in the run; 0 when none
	seaBounds        []int
	seaJoin          bool
	pieces           []piece

	folded  []byte // case-folding output
	foldBuf [64]byte
	unitBuf [32]byte // one normalisation unit
}

func (st *analysis) run() {
	st.buf = st.scratch[:0]
	st.start = -1
	it := words.FromString(st.text)
	for it.Next() {
		seg := it.Value()
		if seg[0] >= 0xE0 && st.addSEA(seg, it.Start()) {
			st.flushCJK()
			continue
		}
		st.flushSEA()
		if isASCII(seg) {
			st.asciiSegment(seg, it.Start())
		} else {
			st.unicodeSegment(seg, it.Start())
		}
	}
	st.flushCJK()
	st.flushSEA()
}

// asciiSegment handles a segment that is all ASCII, the common case: no
// normalisation, no CJK, lower-casing by table.
func (st *analysis) asciiSegment(seg string, off int) {
	i := 0
	for i < len(seg) && !isASCIIAlnum(seg[i]) {
		i++
	}
	st.flushCJK()
	if i == len(seg) {
		return
	}
	j := len(seg)
	for !isASCIIAlnum(seg[j-1]) {
		j--
	}
	b := append(st.buf[:0], seg[i:j]...)
	st.buf = b[:0]
	if st.a.turkish && strings.IndexByte(seg[i:j], 'I') >= 0 {
		b = st.fold(b) // Turkish: I → ı
	} else {
		for k, c := range b {
			if c >= 'A' && c <= 'Z' {
				b[k] = c + 'a' - 'A'
			}
		}
	}
	st.emitWord(b, off+i, off+j)
}

// unicodeSegment handles a segment with non-ASCII text. It walks the
// segment one normalisation unit at a time (a starter and its combining
// marks), so that every output rune is known to come from a unit whose
// original byte range is exact.
func (st *analysis) unicodeSegment(seg string, off int) {
	if !hasWordRune(seg) {
		st.flushCJK()
		return
	}
	var it norm.Iter
	it.InitString(norm.NFKC, seg)
	unit := st.unitBuf[:0]
	for !it.Done() {
		// Next may return the expansion of one source character in
		// several pieces without advancing Pos; gather them into one unit.
		p := it.Pos()
		unit = unit[:0]
		for {
			unit = append(unit, it.Next()...)
			if it.Pos() != p || it.Done() {
				break
			}
		}
		ua, ub := off+p, off+it.Pos()
		out := unit
		for len(out) > 0 {
			r, n := utf8.DecodeRune(out)
			ch := out[:n]
			out = out[n:]
			switch {
			case r == utf8.RuneError && n == 1:
				// Invalid UTF-8 separates words and never reaches a term.
				st.flushWord()
				st.flushCJK()
			case isCJK(r):
				st.flushWord()
				st.addCJK(ch, ua, ub)
			case unicode.IsMark(r):
				if st.start >= 0 {
					st.appendRune(ch, true, ub)
				}
				// Otherwise it follows a CJK character (and belongs to it)
				// or starts the word, where it is trimmed.
			case isWordRune(r):
				st.flushCJK()
				if st.start < 0 {
					st.start = ua
				}
				st.appendRune(ch, true, ub)
			case isSpace(r) || unicode.IsControl(r):
				// NFKC can turn one character into several words ("⑴" →
				// "(1)", "¼" → "1⁄4" stays one); spaces separate them.
				st.flushWord()
				st.flushCJK()
			default:
				if st.start >= 0 {
					if r == '\u2019' || r == '\u2018' {
						ch = []byte{'\''}
					}
					st.appendRune(ch, false, ub)
				} else {
					st.flushCJK()
				}
			}
		}
	}
	st.flushWord()
}

func (st *analysis) appendRune(ch []byte, keep bool, end int) {
	if ch[0] >= utf8.RuneSelf {
		st.nonASCII = true
	}
	st.buf = append(st.buf, ch...)
	if keep {
		st.keep = len(st.buf)
		st.end = end
	}
}

// flushWord emits the word assembled by unicodeSegment, if any.
func (st *analysis) flushWord() {
	if st.start < 0 {
		return
	}
	w := st.buf[:st.keep]
	if st.nonASCII {
		w = st.fold(w)
	} else {
		for i, c := range w {
			if c >= 'A' && c <= 'Z' {
				w[i] = c + 'a' - 'A'
			}
		}
	}
	st.emitWord(w, st.start, st.end)
	st.buf = st.buf[:0]
	st.start, st.keep, st.nonASCII = -1, 0, false
}

// fold case-folds w into st.folded.
func (st *analysis) fold(w []byte) []byte {
	a := st.a
	if a.romanian {
		w = []byte(romanianCedilla.Replace(string(w)))
	}
	c := a.folders.Get().(cases.Caser)
	defer a.folders.Put(c)
	if st.folded == nil {
		st.folded = st.foldBuf[:0]
	}
	dst := st.folded[:cap(st.folded)]
	for {
		c.Reset()
		nDst, _, err := c.Transform(dst, w, true)
		if err == nil {
			st.folded = dst[:0]
			return dst[:nDst]
		}
		if !errors.Is(err, transform.ErrShortDst) {
			return w // cannot happen with valid case tables; keep the word
		}
		dst = make([]byte, 2*len(dst)+len(w))
	}
}

// emitWord runs the word tail of the chain (cache, elision, stopwords,
// stemming) on the folded word w and emits the result.
func (st *analysis) emitWord(w []byte, start, end int) {
	pos := st.pos
	st.pos++
	a := st.a
	term, ok := a.cache.get(w)
	if !ok {
		key := string(w)
		term = a.wordTerm(key)
		a.cache.put(key, term)
	}
	if term == "" {
		return // stopword
	}
	// A compound's term is followed by its parts' terms, all at the
	// compound's position and offsets; only a capitalised word (a German
	// noun) is split.
	if i := strings.Index(term, termSep); i >= 0 && !startsUpper(st.text[start:end]) {
		term = term[:i]
	}
	for {
		i := strings.Index(term, termSep)
		if i < 0 {
			break
		}
		st.emit(term[:i], start, end, pos)
		term = term[i+len(termSep):]
	}
	st.emit(term, start, end, pos)
}

// wordTerm computes the term for a folded word, "" for a stopword.
func (a *Analyzer) wordTerm(w string) string {
	for _, p := range a.elisions {
		if len(w) > len(p) && strings.HasPrefix(w, p) {
			w = w[len(p):]
			break
		}
	}
	if a.turkish {
		// Turkish writes suffixes after an apostrophe on proper names
		// ("İstanbul'da"); like Lucene's ApostropheFilter, drop them.
		if i := strings.IndexByte(w, '\''); i > 0 {
			w = w[:i]
		}
	}
	if a.norm != nil {
		w = a.norm(w)
	}
	term := a.simpleTerm(w)
	if term != "" && a.decompound != nil {
		term = a.compoundTerms(w, term)
	}
	return term
}

// simpleTerm is the stopword test and stemming of a normalised word.
func (a *Analyzer) simpleTerm(w string) string {
	if _, stop := a.stop[w]; stop {
		return ""
	}
	if a.light != nil && stemmable(w) {
		if a.clitics != nil {
			// A stopword behind a proclitic (وهذا, لكل) is still one.
			if r := a.clitics(w); r != w {
				if _, stop := a.stop[r]; stop {
					return ""
				}
				w = r
			}
		}
		return a.light(w)
	}
	if a.stem == nil || !stemmable(w) {
		return w
	}
	env := snowballstem.NewEnv(w)
	a.stem(env)
	if s := env.Current(); s != "" {
		return s
	}
	return w
}

// startsUpper reports whether s begins with an upper-case or title-case
// letter.
func startsUpper(s string) bool {
	r, _ := utf8.DecodeRuneInString(s)
	return unicode.IsUpper(r) || unicode.IsTitle(r)
}

// romanianCedilla maps the comma-below letters of modern Romanian
// orthography to the cedilla forms the Snowball stemmer is written for.
var romanianCedilla = strings.NewReplacer("ș", "ş", "ț", "ţ", "Ș", "Ş", "Ț", "Ţ")

// stemmable reports whether w is a plain word: letters, combining marks
// and apostrophes only. Numbers, acronyms with dots ("u.s.a") and
// identifiers ("foo_bar") are left alone; stemmers only mangle them.
func stemmable(w string) bool {
	letter := false
	for _, r := range w {
		switch {
		case r < utf8.RuneSelf:
			if r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' {
				letter = true
			} else if r != '\'' {
				return false
			}
		case unicode.IsLetter(r):
			letter = true
		case unicode.IsMark(r):
		default:
			return false
		}
	}
	return letter
}

// addCJK extends the current CJK run with the character ch whose source
// is [start, end), emitting the bigram it closes.
func (st *analysis) addCJK(ch []byte, start, end int) {
	pos := st.pos
	st.pos++
	if st.cjkLen > 0 {
		st.emit(string(st.cjkPrev)+string(ch), st.cjkStart, end, st.cjkPos)
	}
	st.cjkPrev = append(st.cjkPrevBuf[:0], ch...)
	st.cjkStart, st.cjkEnd, st.cjkPos = start, end, pos
	st.cjkLen++
}

// flushCJK ends the current CJK run; a run of one character is emitted
// as a unigram.
func (st *analysis) flushCJK() {
	if st.cjkLen == 1 {
		st.emit(string(st.cjkPrev), st.cjkStart, st.cjkEnd, st.cjkPos)
	}
	st.cjkLen = 0
}

func (st *analysis) emit(term string, start, end, pos int) {
	if st.terms != nil {
		*st.terms = append(*st.terms, term)
		return
	}
	*st.toks = append(*st.toks, Token{Term: term, Start: start, End: end, Pos: pos})
}
