// Package chunk splits a base.Document into the base.Chunks that are
// indexed and retrieved.
//
// Three strategies exist, chosen by Config.Strategy:
//
//   - recursive (default): paragraphs (separated by blank lines) are packed
//     into chunks of at most Size tokens; a paragraph that does not fit in
//     a chunk of its own is split into sentences (text.Sentences), and a
//     sentence that does not fit into words. Pieces are packed greedily in
//     order, so a chunk ends at the largest boundary that keeps it within
//     Size. With Overlap set, a chunk starts with the last whole sentences
//     of the previous one (at most Overlap tokens of them; when the previous
//     chunk ended inside a sentence too long for any chunk, its trailing
//     fragment of that sentence counts as a sentence).
//   - fixed: windows of Size tokens, each starting Size−Overlap tokens after
//     the previous one.
//   - semantic: the sentences of each section are embedded (Config.Embed,
//     one call per document) and the text is cut at the gaps where the
//     cosine distance between the mean embeddings of the sentences before
//     and after the gap (Window+1 on each side) is at or above the
//     BreakPercentile-th percentile of the document's gaps. A segment under
//     Size/8 tokens joins the neighbour across the smaller distance when
//     the two fit in Size; a segment over Size is cut by the recursive
//     strategy. The package does not import the embedders: the caller
//     passes one in. Comparing blocks on both sides of a gap, rather than
//     LlamaIndex's windows centred on each sentence, places the cut at the
//     topic change itself: on XQuAD paragraphs joined in threes it ranks
//     97.5% of the joins among the top gaps (all-MiniLM-L6-v2, Window 1), against 23% for centred
//     windows, and embeds each sentence once instead of 2·Window+1 times.
//
// Sizes are in word tokens as text.CountTokens counts them (model tokens
// come later, with the embedders).
//
// Guarantees, for all strategies:
//
//   - every chunk's Text is exactly doc.Text[Start:End] (never re-joined),
//     non-empty and trimmed of white space; Start strictly increases;
//   - every non-white-space byte of the text is in some chunk;
//   - a chunk never crosses a section boundary (doc.Sections) and carries
//     the title of the innermost section it is in, "" before the first
//     heading;
//   - Tokens = text.CountTokens(Text) ≤ Size;
//   - IDs are base.ChunkID(doc.ID, ordinal) with ordinals from 0; Language
//     is doc.Language (DetectLanguages, which the engine calls when the
//     document's language was detected rather than given, then sets each
//     chunk's own); RuneStart is left for the engine to fill;
//   - a document with empty or white-space text has no chunks.
//
// Time is linear in the length of the text and extra memory is bounded by
// Size and Overlap (plus the chunks returned): paragraphs, sentences and
// words are streamed, never collected for the whole document, and a
// paragraph's size is counted only until it is known not to fit. The
// semantic strategy is the exception: it holds the spans and vectors of
// all sentences of the document (plus a sort of its gaps), and its time is
// dominated by the embedder.
//
// Chunkers are stateless and safe for concurrent use (the semantic one as
// far as its embedder is). All implement ContextChunker; Chunk cannot
// fail, so the semantic chunker's Chunk returns the recursive chunks when
// embedding fails, and only ChunkContext reports the error.
//
// Caveat: sizes count words only, so a stretch with no letters or digits
// (a long rule of dashes, a wall of emoji) adds no tokens and stays whole
// inside one chunk however long it is; there is no byte limit.
//
// Hand-written because the common Go splitters measure size in runes or
// bytes, re-join pieces (losing exact offsets) and ignore sections.
package chunk
