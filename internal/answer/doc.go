// Package answer turns retrieved chunks into an answer with citations.
//
// This is the extractive answerer, the default when no language model is
// configured: it splits the retrieved chunks into sentences and ranks them
// by how well they answer the question, best first, in two stages.
//
// The hand score (a product of hand-tuned factors) finds the candidates:
//
//   - lexical evidence: the question's terms (the analyzer of the question's
//     language: stemmed, stopwords removed) found in the sentence, each
//     weighted by idf² over the candidate sentences, so rare focus words
//     decide; terms found only in the sentence before, or in the chunk's
//     title or section heading, count 0.4, only in the sentence after 0.1
//     (with an embedder: idf³; before 0.4, heading 0.2, after 0);
//   - answer type: a question asking for a quantity or a date ("how many",
//     "wie viele", "сколько", "多少", "كم", "कितने", …) prefers sentences
//     with a number, digits or number words, that the question lacks; a
//     question asking who (in languages that capitalise names) prefers
//     sentences naming someone the question does not;
//   - penalties: sentences that only restate the question, questions,
//     headings, code, JSON and command lines;
//   - the rank of the sentence's chunk, 1/(1+rank) (with an embedder
//     1/(1+0.6·rank)).
//
// The learned ranker (ranker.go) then orders the 24 best sentences by the
// hand score together with the neighbours (before and after, in the same
// chunk) of the best 10 of them, which lets it cite a sentence without any
// question term that follows the one setting the question's scene ("The
// Broncos met the Steelers …. They won 23–16 …"). Its score is linear in
// 38 features (ranker.go lists them): the hand score's log and rank; the
// idf-weighted share of the question found in the sentence, only in the
// sentence before, only after, only in the heading; the sentence's
// position in its chunk, its chunk's rank, whether it follows or precedes
// the hand score's best; length, novelty, answer-type cues; and, with
// Options.Embedder (the collection's embedding model, through
// ExtractContext; the query pipeline passes it whenever the collection has
// one, whatever the retrieval mode), the cosine between the question and
// the sentence, the sentence before and the one after, standardised (z)
// over the candidates (embedding models' cosines sit in narrow,
// model-specific bands, so only their order among a question's candidates
// is comparable). The other sentences follow in hand-score order.
//
// Late interaction (late.go): when the embedder also gives token vectors
// (TokenEmbedder: the query pipeline's does whenever the collection's
// model runs in process, through embed.Local.EmbedTokens; an embedding
// server does not), the ranker adds ColBERT-style MaxSim evidence from the
// same model and forward pass, no second model: the question's and each
// candidate's own tokens (not the model's prefix or special tokens), final
// hidden states L2-normalised; MaxSim = mean over the question's tokens of
// the best cosine to one of the sentence's, plain and weighted by the
// token's idf over the candidates; the idf-weighted share covered by
// question tokens the sentence does not repeat verbatim; how much of the
// sentence the question does not cover; the idf MaxSim of the sentence
// before and after and the chunk's best minus its own; the question's
// coverage by the sentence and its predecessor (or successor) together,
// each token counting its best cosine in either; and its rank by idf
// MaxSim. All are standardised over the candidates like the cosines.
// Pooled vectors blur near-paraphrases inside the right paragraph; token
// states keep which of the question's words each sentence covers. For
// command lines, flags, JSON and prompts (codeLike) the similarity
// features, pooled or token-level, may lower the score but never raise
// it: a command quoting the question is as close to it as a sentence gets
// and answers nothing.
//
// The weights (ranker_weights.go: lexWeights without an embedder,
// embWeights with one, lateWeights with token vectors too) were fitted by learn_test.go on all 1,190 XQuAD
// questions of each of seven languages at once (en de es zh ar hi ru,
// BM25 k 5 contexts replayed from `quarry eval rag --json` reports,
// multilingual-e5-small for embWeights and lateWeights): a softmax over each question's
// candidates maximising the probability of those that contain a
// normalised gold answer, by gradient descent (Adam) on standardised
// features with a small L2 penalty, starting from the hand score. The
// penalties for code, headings and questions are not fitted (XQuAD has
// none to learn from) and keep the hand score's factors. Measured by
// 5-fold cross-validation over articles (all languages' copies of a fold
// held out together) and leave-one-language-out, the learned order gains
// most at three sentences and little at one without token vectors; the
// late-interaction features add about 0.015 at one sentence (en 0.819 →
// 0.833, mean of seven 0.786 → 0.801); text.Sentences no longer cutting
// after initials in any script and dotted date ordinals added 0.002 to
// the mean (de, hi), and all three weight sets were refitted on its
// sentences; docs/benchmarks.md has the figures and where the remaining
// one-sentence misses go (almost all are the right paragraph's other
// sentence ranked first). The hand weights were chosen earlier by coordinate search on
// half-splits of the same questions (tune_test.go). Every returned
// sentence is an exact byte range of its chunk's text, so a citation built
// from it always points at text that really contains the quoted words.
//
// Extract is a pure function and safe for concurrent use; ExtractContext
// also calls the Embedder, which must be safe for concurrent use if
// ExtractContext is called concurrently.
package answer
