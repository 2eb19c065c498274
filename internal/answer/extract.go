package answer

import (
	"context"
	"fmt"
	"math"
	"sort"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/quarry-rag/quarry/internal/base"
	"github.com/quarry-rag/quarry/internal/text"
)

// Options tune Extract.
type Options struct {
	// MaxSentences is the most sentences returned. Default 3.
	MaxSentences int
	// Language is the analyzer language; "" detects it from the question.
	Language string
	// Embedder, when set, adds question ↔ sentence similarity to the
	// lexical evidence (ExtractContext). Nil: lexical evidence only.
	Embedder Embedder
}

// Embedder embeds texts for ExtractContext: the question with query set,
// the candidate sentences without. It is the collection's embedding model.
type Embedder interface {
	Embed(ctx context.Context, texts []string, query bool) ([][]float32, error)
}

// Sentence is one extracted sentence: Text == hits[Hit].Text[Start:End].
type Sentence struct {
	Hit        int
	Start, End int // byte offsets into the chunk text
	Text       string
	Score      float64
}

// Result is the extractive answer, best sentence first.
type Result struct {
	Sentences []Sentence
}

type candidate struct {
	Sentence
	terms  map[string]int
	length int      // analysed terms, stopwords excluded
	pos    int      // sentence index within its chunk
	first  string   // the sentence's first term
	f      features // the learned ranker's features (ranker.go)
	hand   float64  // the hand-weighted lexical score
	inSet  bool     // scored by the learned ranker
}

// weights of the score (see doc.go). One value, defaultWeights; a struct
// rather than constants so that the tuning harness (tune_test.go) can vary
// them on its dev slice.
type weights struct {
	near        float64 // question terms found only in the chunk's title or section
	prev        float64 // … only in the sentence before (it sets the scene the answer follows)
	next        float64 // … only in the sentence after
	rankDecay   float64 // 1/(1 + rankDecay·rank) for the chunk's rank
	idfPow      float64 // question-term weight idf^idfPow: rare words decide
	numBonus    float64 // number questions: a sentence with a new number
	numPen      float64 // … and without one
	personBonus float64 // who questions: a sentence naming someone new
	personPen   float64 // … and without one
	subject     float64 // the sentence starts with a question term
	prefix      float64 // a question term matched only by a shared prefix
	embed       float64 // share of the embedding similarity when an embedder is set
	lengthNorm  float64 // BM25's b for sentence length
	embedTop    int     // the best lexical candidates compared by embedding
	// With an embedder the semantic evidence takes over part of what the
	// chunk's rank and the neighbours' terms told: these replace near,
	// rankDecay and idfPow then.
	embNear, embPrev, embNext, embRankDecay, embIdfPow float64
}

var defaultWeights = weights{
	near: 0.4, prev: 0.4, next: 0.1, rankDecay: 1.0, idfPow: 2.0, numBonus: 1.4, numPen: 0.6, personBonus: 1.3, personPen: 0.8,
	subject: 1.3, prefix: 0.7, embed: 0.7, lengthNorm: 0, embedTop: 24,
	embNear: 0.2, embPrev: 0.4, embNext: 0, embRankDecay: 0.6, embIdfPow: 3,
}

// ws is the weights in use: defaultWeights except in the tuning harness.
var ws = defaultWeights

const maxCandidates = 400 // sentences considered (the first chunks' first)

// Extract selects the sentences of hits that best answer question, by
// lexical evidence only (Options.Embedder is ignored; see ExtractContext).
func Extract(question string, hits []base.Hit, opts Options) Result {
	opts.Embedder = nil
	r, _ := ExtractContext(context.Background(), question, hits, opts)
	return r
}

// ExtractContext is Extract with the embedding similarity of
// Options.Embedder. An embedding failure is returned together with the
// lexical-only result, which is always valid.
func ExtractContext(ctx context.Context, question string, hits []base.Hit, opts Options) (Result, error) {
	if opts.MaxSentences <= 0 {
		opts.MaxSentences = 3
	}
	cands, embErr := rankCandidates(ctx, question, hits, opts)
	var out []Sentence
	seen := map[string]bool{}
	for _, c := range cands {
		if c.Score <= 0 || len(out) == opts.MaxSentences {
			break
		}
		key := strings.ToLower(strings.Join(strings.Fields(c.Text), " "))
		if seen[key] {
			continue
		}
		seen[key] = true
		out = append(out, c.Sentence)
	}
	return Result{Sentences: out}, embErr
}

// rankCandidates scores the sentences of hits, best first.
func rankCandidates(ctx context.Context, question string, hits []base.Hit, opts Options) ([]candidate, error) {
	nearW, prevW, nextW, rankDecay, idfPow := ws.near, ws.prev, ws.next, ws.rankDecay, ws.idfPow
	if opts.Embedder != nil {
		nearW, prevW, nextW, rankDecay, idfPow = ws.embNear, ws.embPrev, ws.embNext, ws.embRankDecay, ws.embIdfPow
	}
	lang := opts.Language
	if lang == "" {
		// A short question is hard to identify; the passages that answer
		// it are in its language too, and longer.
		var conf float64
		lang, conf = text.DetectLanguage(question)
		if len(hits) > 0 && conf < 0.5 {
			if l, c := text.DetectLanguage(hits[0].Text); c > conf {
				lang = l
			}
		}
	}
	an, err := text.NewAnalyzer(text.AnalyzerConfig{Language: lang})
	if err != nil {
		an, _ = text.NewAnalyzer(text.AnalyzerConfig{})
	}
	qterms := map[string]bool{}
	for _, t := range an.AppendTerms(nil, question) {
		qterms[t] = true
	}
	if len(qterms) == 0 {
		return nil, nil
	}
	var cands []candidate
	df := map[string]int{}
	chunkStart := make([]int, len(hits)+1)        // candidates of hit h: [chunkStart[h], chunkStart[h+1])
	heading := make([]map[string]bool, len(hits)) // terms of each hit's title and section
	for hi, h := range hits {
		chunkStart[hi] = len(cands)
		heading[hi] = map[string]bool{}
		for _, t := range an.AppendTerms(nil, h.Title+"\n"+h.Section) {
			heading[hi][t] = true
		}
		for si, sp := range text.Sentences(h.Text) {
			if len(cands) == maxCandidates {
				break
			}
			s := h.Text[sp.Start:sp.End]
			if strings.TrimSpace(s) == "" {
				continue
			}
			c := candidate{Sentence: Sentence{Hit: hi, Start: sp.Start, End: sp.End, Text: s}, terms: map[string]int{}, pos: si}
			for k, t := range an.AppendTerms(nil, s) {
				if k == 0 {
					c.first = t
				}
				c.terms[t]++
				c.length++
			}
			for t := range c.terms {
				if qterms[t] {
					df[t]++
				}
			}
			cands = append(cands, c)
		}
	}
	chunkStart[len(hits)] = len(cands)
	n := float64(len(cands))
	// Question terms in a fixed order: float sums in map order differ in
	// the last bits from run to run and flip exact ties between sentences.
	qlist := make([]string, 0, len(qterms))
	for t := range qterms {
		qlist = append(qlist, t)
	}
	sort.Strings(qlist)
	weight := map[string]float64{}
	total := 0.0
	for _, t := range qlist {
		// A question term no sentence has still counts in the total: an
		// answer that covers the question partly scores partly.
		wt := math.Pow(math.Log(1+n/float64(max(df[t], 1))), idfPow)
		weight[t] = wt
		total += wt
	}
	avgLen := 0.0
	for _, c := range cands {
		avgLen += float64(c.length)
	}
	avgLen = max(avgLen/max(n, 1), 1)
	numeric := expectsNumber(question, lang)
	qdigits := digitsOf(question, lang)
	person := expectsPerson(question, lang)
	qwords := map[string]bool{}
	for _, w := range strings.FieldsFunc(strings.ToLower(question), notLetter) {
		qwords[w] = true
	}
	for i := range cands {
		c := &cands[i]
		own, ctx := 0.0, 0.0
		prevOnly, nextOnly, headOnly := 0.0, 0.0, 0.0
		matched := 0
		lo, hi := chunkStart[c.Hit], chunkStart[c.Hit+1]
		for _, t := range qlist {
			wt := weight[t]
			inPrev := i-1 >= lo && cands[i-1].terms[t] > 0
			inNext := i+1 < hi && cands[i+1].terms[t] > 0
			if c.terms[t] == 0 {
				if inPrev {
					prevOnly += wt
				}
				if inNext {
					nextOnly += wt
				}
				if heading[c.Hit][t] {
					headOnly += wt
				}
			}
			switch {
			case c.terms[t] > 0:
				own += wt
				matched++
			case inPrev:
				ctx += prevW * wt
			case inNext:
				ctx += nextW * wt
			case heading[c.Hit][t]:
				ctx += nearW * wt
			case prefixMatch(c.terms, t):
				own += ws.prefix * wt
				matched++
			}
		}
		// The learned ranker's features of this sentence (ranker.go);
		// the ones that depend on the other candidates come later.
		f := &c.f
		f[fOwn], f[fPrev], f[fNext], f[fHead] = own/total, prevOnly/total, nextOnly/total, headOnly/total
		f[fChunkRank] = 1 / (1 + float64(c.Hit))
		f[fPos] = math.Log1p(float64(c.pos))
		if c.pos == 0 {
			f[fFirst] = 1
		}
		if i+1 == hi {
			f[fLast] = 1
		}
		f[fLen] = math.Log1p(float64(c.length))
		f[fProse] = math.Log(max(prose(c.Text), 1e-4))
		if strings.ContainsAny(c.Text, "?？؟") {
			f[fQuestion] = 1
		}
		if isHeading(c.Text) {
			f[fHeading] = 1
		}
		if qterms[c.first] {
			f[fSubject] = 1
		}
		newNum := hasNewNumber(c.Text, qdigits, lang)
		if newNum {
			f[fNewNumber] = 1
		}
		if numeric {
			if newNum {
				f[fNumYes] = 1
			} else {
				f[fNumNo] = 1
			}
		}
		newName := hasNewName(c.Text, qwords)
		if newName {
			f[fNewName] = 1
		}
		if person {
			if newName {
				f[fPersonYes] = 1
			} else {
				f[fPersonNo] = 1
			}
		}
		{
			novel := 0
			for t, k := range c.terms {
				if !qterms[t] {
					novel += k
				}
			}
			f[fNovel] = float64(novel) / float64(max(c.length, 1))
			if novel == 0 {
				f[fNoNovel] = 1
			}
		}
		if matched == 0 {
			f[fNoMatch] = 1
			continue
		}
		score := (own + ctx) / total
		// A sentence whose first word is a question word is about it
		// ("Deleting a document removes …" for "how are deletes handled").
		if qterms[c.first] {
			score *= ws.subject
		}
		// A sentence that only restates the question (a heading, a quoted
		// example of it) answers nothing: weigh by what it adds.
		novel := 0
		for t, k := range c.terms {
			if !qterms[t] {
				novel += k
			}
		}
		switch f := float64(novel) / float64(max(c.length, 1)); {
		case novel == 0:
			score *= 0.05
		case f < 0.4:
			score *= 0.5 + f
		}
		// A question asking for a quantity or a date is answered by a
		// sentence with a number the question does not have.
		if numeric {
			if hasNewNumber(c.Text, qdigits, lang) {
				score *= ws.numBonus
			} else {
				score *= ws.numPen
			}
		}
		// A question asking who is answered by a sentence naming someone
		// the question does not (a capitalised word past the first).
		if person {
			if newName {
				score *= ws.personBonus
			} else {
				score *= ws.personPen
			}
		}
		// Code, JSON and command lines read badly as answers, and a
		// question (even one quoted in an example) is not an answer.
		score *= prose(c.Text)
		if strings.ContainsAny(c.Text, "?？؟") {
			score *= 0.2
		}
		// Prefer sentences from better-ranked chunks, and penalise fragments
		// and very long sentences a little.
		score *= 1 / (1 + rankDecay*float64(c.Hit))
		// Length normalisation as in BM25: a long sentence matches more
		// question words by chance.
		score /= 1 - ws.lengthNorm + ws.lengthNorm*float64(c.length)/avgLen
		if c.length < 3 {
			score *= 0.6
		}
		if isHeading(c.Text) {
			score *= 0.4
		}
		c.Score = score
		c.hand = score
	}
	var embErr error
	if m := modelFor(opts.Embedder); m != nil {
		embErr = rankLearned(ctx, opts.Embedder, question, cands, chunkStart, m)
	} else if opts.Embedder != nil {
		embErr = addSimilarity(ctx, opts.Embedder, question, cands)
	}
	sort.SliceStable(cands, func(i, j int) bool { return cands[i].Score > cands[j].Score })
	return cands, embErr
}

// prefixMatch reports a sentence term sharing a long prefix with the
// question term t: a light stemmer for inflections the analyzer keeps apart
// (Hindi has no stemmer; compounds and irregular forms elsewhere).
func prefixMatch(terms map[string]int, t string) bool {
	rt := []rune(t)
	if len(rt) < 4 {
		return false
	}
	need := max(4, len(rt)*3/4)
	for s := range terms {
		rs := []rune(s)
		if len(rs) < need {
			continue
		}
		k := 0
		for k < len(rt) && k < len(rs) && rt[k] == rs[k] {
			k++
		}
		if k >= need {
			return true
		}
	}
	return false
}

// addSimilarity weighs the best lexical candidates (at most
// ws.embedTop) by the cosine between the question's embedding and theirs.
// Embedding models' cosines sit in narrow, model-specific bands (e5's
// around 0.7–1.0 for any pair), so the cosine enters standardised over the
// question's candidates: the score is multiplied by exp(ws.embed·z). The
// candidates left out get the smallest factor, so that they never pass one
// that was compared. On error the scores are left lexical.
func addSimilarity(ctx context.Context, e Embedder, question string, cands []candidate) error {
	var idx []int
	for i, c := range cands {
		if c.Score > 0 {
			idx = append(idx, i)
		}
	}
	if len(idx) < 2 {
		return nil
	}
	sort.SliceStable(idx, func(a, b int) bool { return cands[idx[a]].Score > cands[idx[b]].Score })
	rest := idx[min(len(idx), ws.embedTop):]
	idx = idx[:min(len(idx), ws.embedTop)]
	sims, mean, sd, err := standardise(ctx, e, question, cands, idx)
	if err != nil || sd < 1e-6 {
		return err
	}
	low := math.Inf(1)
	for k, i := range idx {
		f := math.Exp(ws.embed * (sims[k] - mean) / sd)
		low = min(low, f)
		cands[i].Score *= f
	}
	for _, i := range rest {
		cands[i].Score *= low
	}
	return nil
}

// standardise embeds the question and the candidates at idx and returns
// their cosines with the mean and standard deviation over them: embedding
// models' cosines sit in narrow, model-specific bands, so only their
// order among a question's candidates is comparable.
func standardise(ctx context.Context, e Embedder, question string, cands []candidate, idx []int) (sims []float64, mean, sd float64, err error) {
	texts := make([]string, len(idx))
	for k, i := range idx {
		texts[k] = cands[i].Text
	}
	qv, err := e.Embed(ctx, []string{question}, true)
	if err != nil {
		return nil, 0, 0, err
	}
	if len(qv) != 1 {
		return nil, 0, 0, fmt.Errorf("answer: the embedder returned %d vectors for the question", len(qv))
	}
	sv, err := e.Embed(ctx, texts, false)
	if err != nil {
		return nil, 0, 0, err
	}
	if len(sv) != len(texts) {
		return nil, 0, 0, fmt.Errorf("answer: the embedder returned %d vectors for %d sentences", len(sv), len(texts))
	}
	sims = make([]float64, len(idx))
	for k := range idx {
		sims[k] = cosine(qv[0], sv[k])
		mean += sims[k]
	}
	mean /= float64(len(sims))
	for _, s := range sims {
		sd += (s - mean) * (s - mean)
	}
	return sims, mean, math.Sqrt(sd / float64(len(sims))), nil
}

func cosine(a, b []float32) float64 {
	var dot, na, nb float64
	for i := range min(len(a), len(b)) {
		dot += float64(a[i]) * float64(b[i])
		na += float64(a[i]) * float64(a[i])
		nb += float64(b[i]) * float64(b[i])
	}
	if na == 0 || nb == 0 {
		return 0
	}
	return dot / math.Sqrt(na*nb)
}

// numberCues are the question words asking for a quantity or a date, per
// language (lower case; matched as substrings of the lower-cased question).
var numberCues = map[string][]string{
	"en": {"how many", "how much", "how long", "how old", "how far", "how high", "how tall", "how large", "how big", "how often", "when ", "what year", "which year", "what percentage", "what percent", "what age", "what date", "what century", "how deep", "how fast", "how heavy"},
	"de": {"wie viele", "wie viel", "wie lange", "wie alt", "wie weit", "wie hoch", "wie groß", "wie oft", "wann", "welchem jahr", "welches jahr", "welchen jahr", "wie tief", "wie schnell", "prozent", "jahrhundert"},
	"es": {"cuántos", "cuántas", "cuánto", "cuánta", "cuándo", "qué año", "que año", "qué edad", "qué porcentaje", "qué siglo", "qué fecha"},
	"ru": {"сколько", "когда", "каком году", "какой год", "какого года", "каком веке", "какой процент", "в каком возрасте"},
	"zh": {"多少", "几", "多长", "多高", "多大", "多久", "多远", "何时", "什么时候", "哪一年", "哪年", "年份", "百分之"},
	"ar": {"كم", "متى", "أي عام", "أي سنة", "في أي سنة", "في أي عام", "نسبة"},
	"hi": {"कितने", "कितना", "कितनी", "कब", "किस वर्ष", "किस साल", "किस सन", "प्रतिशत"},
}

// expectsNumber reports whether the question asks for a quantity or date.
func expectsNumber(question, lang string) bool {
	q := strings.ToLower(question)
	for _, cue := range numberCues[lang] {
		if strings.Contains(q, cue) {
			return true
		}
	}
	return false
}

// numberWords are the cardinal numbers written as words, per language
// (XQuAD answers "four", "vier", "две" as often as "4").
var numberWords = map[string][]string{
	"en": {"one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten", "eleven", "twelve", "twenty", "thirty", "hundred", "thousand", "million", "billion", "dozen", "half", "once", "twice"},
	"de": {"ein", "eine", "einen", "zwei", "drei", "vier", "fünf", "sechs", "sieben", "acht", "neun", "zehn", "elf", "zwölf", "zwanzig", "hundert", "tausend", "million", "millionen", "milliarden", "halb", "einmal", "zweimal"},
	"es": {"uno", "una", "dos", "tres", "cuatro", "cinco", "seis", "siete", "ocho", "nueve", "diez", "once", "doce", "veinte", "cien", "ciento", "mil", "millón", "millones", "media"},
	"ru": {"один", "одна", "одно", "два", "две", "три", "четыре", "пять", "шесть", "семь", "восемь", "девять", "десять", "двадцать", "сто", "тысяча", "тысячи", "миллион", "миллиона", "миллионов", "дважды"},
	"ar": {"واحد", "واحدة", "اثنان", "اثنين", "ثلاثة", "ثلاث", "أربعة", "أربع", "خمسة", "خمس", "ستة", "ست", "سبعة", "ثمانية", "تسعة", "عشرة", "عشر", "مائة", "مئة", "ألف", "مليون", "مرتين"},
	"hi": {"एक", "दो", "तीन", "चार", "पांच", "पाँच", "छह", "सात", "आठ", "नौ", "दस", "बीस", "सौ", "हजार", "हज़ार", "लाख", "करोड़", "मिलियन"},
}

// digitsOf returns the numbers written in s: runs of decimal digits of any
// script, runs of Han numerals, and lang's number words.
func digitsOf(s, lang string) map[string]bool {
	out := map[string]bool{}
	var cur []rune
	flush := func() {
		if len(cur) > 0 {
			out[string(cur)] = true
			cur = cur[:0]
		}
	}
	for _, r := range s {
		if isNumeral(r) {
			cur = append(cur, r)
		} else {
			flush()
		}
	}
	flush()
	if ws := numberWords[lang]; ws != nil {
		for _, w := range strings.FieldsFunc(strings.ToLower(s), notLetter) {
			for _, nw := range ws {
				if w == nw {
					out[w] = true
				}
			}
		}
	}
	return out
}

func notLetter(r rune) bool { return !unicode.IsLetter(r) && !unicode.IsMark(r) && !unicode.IsDigit(r) }

func isNumeral(r rune) bool {
	return unicode.IsDigit(r) || strings.ContainsRune("〇一二三四五六七八九十百千万亿两", r)
}

// hasNewNumber reports whether s writes a number that is not in the
// question's numbers q.
func hasNewNumber(s string, q map[string]bool, lang string) bool {
	for d := range digitsOf(s, lang) {
		if !q[d] {
			return true
		}
	}
	return false
}

// personCues are the question words asking for a person, in languages
// that capitalise names (and only names, except German nouns).
var personCues = map[string][]string{
	"en": {"who", "whom", "whose"},
	"de": {"wer", "wem", "wen", "wessen"},
	"es": {"quién", "quiénes", "quien"},
	"ru": {"кто", "кого", "кому", "кем"},
}

func expectsPerson(question, lang string) bool {
	for _, w := range strings.FieldsFunc(strings.ToLower(question), notLetter) {
		for _, cue := range personCues[lang] {
			if w == cue {
				return true
			}
		}
	}
	return false
}

// hasNewName reports a capitalised word after the first word of s that
// the question (lower-cased words q) does not contain.
func hasNewName(s string, q map[string]bool) bool {
	for i, w := range strings.FieldsFunc(s, notLetter) {
		if i == 0 {
			continue
		}
		r := []rune(w)
		if unicode.IsUpper(r[0]) && !q[strings.ToLower(w)] {
			return true
		}
	}
	return false
}

// prose returns 1 for ordinary prose and less for text that is mostly
// symbols, digits or code (JSON, shell lines): the share of letters and
// spaces, to the fourth power below 0.85.
func prose(s string) float64 {
	letters, total := 0, 0
	for _, r := range s {
		total++
		if unicode.IsLetter(r) || unicode.IsMark(r) || unicode.IsSpace(r) || unicode.IsDigit(r) || strings.ContainsRune(",.;:'’\"()-–%", r) {
			letters++
		}
	}
	if total == 0 {
		return 0
	}
	f := float64(letters) / float64(total)
	t := strings.TrimSpace(s)
	if t != "" && strings.ContainsRune("{[<$#`|", rune(t[0])) {
		f *= 0.5 // starts like code, JSON, markup or a shell prompt
	}
	if looksLikeCommand(t) || (strings.Contains(t, "{") && strings.Contains(t, "}")) || strings.HasPrefix(t, "-") {
		f *= 0.5
	}
	if f >= 0.85 {
		return 1
	}
	return f * f * f * f
}

// codeLike reports a command line, a code or JSON block or a shell prompt:
// prose()'s own tests of the sentence's start (a command, a flag, a code
// or prompt character), without its share of letters, which also flags
// prose with braces or CJK brackets ("the set {0,1}", "《科学》").
func codeLike(s string) bool {
	t := strings.TrimSpace(s)
	if t == "" {
		return false
	}
	first, _, _ := strings.Cut(t, "\n")
	return strings.ContainsRune("{[<$#`|", rune(t[0])) || strings.HasPrefix(t, "-") || looksLikeCommand(first)
}

// isHeading reports a title or heading line: a few words without a
// sentence terminator.
func isHeading(s string) bool {
	t := strings.TrimSpace(s)
	if t == "" || len(strings.Fields(t)) > 8 {
		return false
	}
	last, _ := utf8.DecodeLastRuneInString(t)
	return !strings.ContainsRune(".!?。！？।॥؟۔:;…\"'”»)", last)
}

// looksLikeCommand reports a shell command line: a path-like program
// (bin/quarry, ./x, /usr/bin/x) or a well-known tool followed by flags.
func looksLikeCommand(s string) bool {
	f := strings.Fields(s)
	if len(f) < 2 {
		return false
	}
	prog := f[0]
	pathLike := strings.HasPrefix(prog, "./") || strings.HasPrefix(prog, "/") || strings.HasPrefix(prog, "bin/")
	tool := false
	switch prog {
	case "curl", "make", "go", "docker", "quarry", "git", "pip", "npm", "python", "python3", "sudo", "cd", "export":
		tool = true
	}
	flags := 0
	for _, w := range f[1:] {
		if strings.HasPrefix(w, "-") && len(w) > 1 {
			flags++
		}
	}
	return pathLike || (tool && (flags > 0 || len(f) <= 6))
}
