// Package ragbench runs `quarry eval rag` and the server's evaluation jobs
// (POST /v1/evals), both through Evaluate: it loads a question set (an
// XQuAD-style folder or a JSONL of questions with references), asks each
// question of a collection through the public API (Collection.Ask), scores
// the answers with internal/eval's metrics and, when a judge model is
// given, with RAGAS's LLM-judged metrics, and renders the result as JSON,
// text or one self-contained HTML report. It also compares a run with a
// baseline run (the CI gate of `--baseline --max-drop`).
//
// Evaluate (evaluate.go) is the whole run from a Spec: load the dataset,
// index a folder's corpus into a scratch engine the caller opens (so the
// caller's engine options, language model included, apply), build the
// judge, ask and score. The CLI and the server only add flags or HTTP.
//
// The metric formulas live in internal/eval and docs/evaluation.md; this
// package owns the protocol: which texts each metric sees, how judge
// replies are validated and retried, and how failures are counted
// (Result.Error, Report.Errors, Report.JudgeErrors) rather than scored.
//
// A Runner is used by one goroutine; Run asks the questions one at a time
// so that per-stage timings are not distorted by concurrency.
package ragbench
