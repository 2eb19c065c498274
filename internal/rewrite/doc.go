// Package rewrite rewrites a question before retrieval with a language
// model: Condense turns a follow-up question and the conversation before it
// into a standalone question, Expand writes paraphrases for multi-query
// retrieval (fused by internal/retrieve.Fuse), and HyDE writes a hypothetical answer
// passage to search with (Gao et al., "Precise Zero-Shot Dense Retrieval
// without Relevance Labels", 2022).
//
// Prompts are plain completions ending in a cue ("Standalone question:"),
// which instruction-tuned and base models both continue; outputs are cut at
// the first blank line and cleaned of list numbering.
//
// Concurrency: a Rewriter is safe for concurrent use if its Chat is.
package rewrite
