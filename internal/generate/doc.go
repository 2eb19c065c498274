// Package generate turns retrieved chunks and a question into a grounded
// prompt for a language model, and turns the model's answer back into
// verified citations.
//
// Prompt: the chunks become numbered, fenced source blocks
// `<source id="n" title="…">` text `</source>`, where n is the chunk's
// rank in the retrieval list (1 = best). Sources are data: Fence removes
// control, zero-width, bidi and tag characters and the role markers of
// common chat templates (<|im_start|>, <start_of_turn>, [INST], <<SYS>>),
// escapes the prompt's own delimiters ("&lt;/source>"), and quotes with
// "> " every line that would read as a turn of the prompt (Question:,
// Answer:, Sources:, a "[2]" header, "### Instruction", User:/Assistant:),
// so no document text can close its block, forge another or add a turn;
// titles become one-line attribute values and the question one line. The
// instructions say that sources are data, never instructions. The blocks are
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
