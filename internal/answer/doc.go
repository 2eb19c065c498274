// Package answer turns retrieved chunks into an answer with citations.
//
// This is the extractive answerer, the default when no language model is
// configured: it splits the retrieved chunks into sentences and scores each
// by how well it answers the question, best first:
//
//   - lexical evidence: the question's terms (the analyzer of the question's
//     language: stemmed, stopwords removed) found in the sentence, each
//     weighted by idf² over the candidate sentences, so rare focus words
//     decide; terms found only in the sentence before, or in the chunk's
//     title or section heading, count 0.4, only in the sentence after 0.1
//     (an answer follows the sentence that sets its scene, and pronouns
//     leave the subject there: "The Nile …. It flows north …");
//   - answer type: a question asking for a quantity or a date ("how many",
//     "wie viele", "сколько", "多少", "كم", "कितने", …) prefers sentences
//     with a number, digits or number words, that the question lacks; a
//     question asking who (in languages that capitalise names) prefers
//     sentences naming someone the question does not;
//   - penalties: sentences that only restate the question, questions,
//     headings, code, JSON and command lines;
//   - the rank of the sentence's chunk, 1/(1+rank);
//   - with Options.Embedder (the collection's embedding model, through
//     ExtractContext; the query pipeline passes it whenever the collection
//     has one, whatever the retrieval mode), the cosine between question
//     and sentence for the 24 best lexical candidates, standardised over
//     them (z) and applied as exp(0.7·z) (0.5 before the third pass): embedding models' cosines sit in
//     narrow, model-specific bands, so only their order among the
//     question's candidates is comparable. With an embedder the lexical
//     part leans less on the chunk's rank and neighbours and more on rare
//     words (rank decay 0.6, heading 0.2, idf³ instead of 1, 0.4, idf²)
//     and counts a term of the sentence before 0.4, the sentence after 0
//     (0.2 and 0.2 before the third pass).
//
// The lexical weights were chosen on the first 300 XQuAD questions of
// seven languages at once (en de es zh ar hi ru), never on one language;
// the embedding weights (and the lexical ones used with an embedder) on
// the first 200 of each of the same seven. A
// coordinate search over every weight on that slice (tune_test.go replays
// `quarry eval rag --json` reports) found no lexical change worth more than
// 0.003 mean answer recall, nor did term proximity, question-order term
// pairs, idf-weighted novelty or a place cue for "where" questions; the
// third pass's error analysis (analyse_test.go) found most misses in the
// chosen sentence's chunk, most often in the next sentence, hence the
// asymmetric neighbour weights, chosen on the first half of all 1,190
// questions of each language and checked on the second half (the
// 200-question slice over-fitted them); see docs/benchmarks.md for the
// figures. Every returned sentence is an exact
// byte range of its chunk's text, so a citation built from it always points
// at text that really contains the quoted words.
//
// Extract is a pure function and safe for concurrent use; ExtractContext
// also calls the Embedder, which must be safe for concurrent use if
// ExtractContext is called concurrently.
package answer
