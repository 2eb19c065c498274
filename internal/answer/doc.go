// Package answer turns retrieved chunks into an answer with citations.
//
// This is the extractive answerer, the default when no language model is
// configured: it splits the retrieved chunks into sentences and scores each
// by how well it answers the question, best first:
//
//   - lexical evidence: the question's terms (the analyzer of the question's
//     language: stemmed, stopwords removed) found in the sentence, each
//     weighted by idf² over the candidate sentences, so rare focus words
//     decide; terms found only in a neighbouring sentence or in the chunk's
//     title or section heading count 0.4 (pronouns leave the subject
//     there: "The Nile …. It flows north …");
//   - answer type: a question asking for a quantity or a date ("how many",
//     "wie viele", "сколько", "多少", "كم", "कितने", …) prefers sentences
//     with a number, digits or number words, that the question lacks; a
//     question asking who (in languages that capitalise names) prefers
//     sentences naming someone the question does not;
//   - penalties: sentences that only restate the question, questions,
//     headings, code, JSON and command lines;
//   - the rank of the sentence's chunk, 1/(1+rank);
//   - with Options.Embedder (the collection's embedding model, through
//     ExtractContext), the cosine between question and sentence.
//
// The weights were chosen on the first 300 XQuAD questions of seven
// languages at once (en de es zh ar hi ru), never on one language; see
// docs/evaluation.md for the figures. Every returned sentence is an exact
// byte range of its chunk's text, so a citation built from it always points
// at text that really contains the quoted words.
//
// Extract is a pure function and safe for concurrent use; ExtractContext
// also calls the Embedder, which must be safe for concurrent use if
// ExtractContext is called concurrently.
package answer
