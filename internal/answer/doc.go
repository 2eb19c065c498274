// Package answer turns retrieved chunks into an answer with citations.
//
// This first version is the extractive answerer, the default when no
// language model is configured: it splits the retrieved chunks into
// sentences, scores each sentence by the question terms it contains
// (weighted by how rare each term is among the candidate sentences, so
// that "the" counts for less than "hydroxychloroquine") and by the rank of
// its chunk, and returns the best few. Every returned sentence is an exact
// byte range of its chunk's text, so a citation built from it always points
// at text that really contains the quoted words.
//
// Extract is a pure function and safe for concurrent use.
package answer
