// Package generate turns retrieved chunks and a question into a grounded
// prompt for a language model, and turns the model's answer back into
// verified citations.
//
// Prompt: the chunks become numbered context blocks "[n] title\ntext", where
// n is the chunk's rank in the retrieval list (1 = best). The blocks are
// budgeted in estimated tokens (see EstimateTokens) against a context
// window minus a reserve for the answer: the best chunks are kept whole,
// a chunk that does not fit is trimmed at a word boundary, and the
// lowest-ranked ones are dropped. The kept blocks are then ordered for the
// "lost in the middle" effect: the best first, the second best last, the
// weakest in the middle. The instructions ask the model to cite [n] and to
// say "I don't know" when the context lacks the answer.
//
// Citations: Filter rewrites the answer as it streams, removing markers
// that point at no block in the prompt (so the streamed text equals the
// final answer), and Cite maps every kept marker to the best-matching
// sentence of its chunk for the statement it ends, in code-point offsets
// into the document.
//
// Concurrency: all functions are pure; a Filter belongs to one stream.
package generate
