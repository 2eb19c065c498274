// Package guardstage runs Quarry's guardrails (internal/guard) as stages of
// the query pipeline (internal/query's Hooks):
//
//   - QuestionGuard (Hooks.Guard): scores the question before retrieval.
//     Policy block refuses it with a *guard.BlockedError (HTTP 400
//     prompt_injection with the score); flag marks the response
//     (Plan.Guard → Answer.Guard / SearchResponse.Guard); off skips it.
//     When the collection embeds with the detector's encoder
//     (multilingual-e5-small) the question is embedded once with the
//     collection's model and the vector is handed to retrieval
//     (Plan.QueryVector), so scoring costs the rules and the head only.
//   - FilterContext (Hooks.Context): scores the chunks about to enter an
//     LLM prompt and, under policy exclude, drops those at or above the
//     threshold. It reads the score stored at ingest (base.Hit.Injection)
//     and scores unscored chunks lazily (chunk vectors reused when
//     retrieval returned them and the encoder matches), memoised per
//     chunk id and text in a bounded table.
//   - ScoreIngest: scores a batch's chunks once, at ingest, reusing the
//     dense-index vectors when the collection embeds with the detector's
//     encoder (plus ScoreSeams per document); the root stores the score in
//     base.Chunk.Injection. Collections without that encoder are not
//     scored at ingest (a second encoder pass would cost more than the
//     ingest); FilterContext scores their chunks at query time.
//   - Redactor (Hooks.Redact): with pii.llm redact, one pii.Map per
//     request redacts the question, titles and texts sent to the model
//     and restores the streamed answer.
//   - CheckAnswer (Hooks.Answer): the output rails (guard.CheckAnswer) on
//     LLM answers: unsupported e-mails, URLs and numbers flag the answer;
//     an answer repeating an instruction of a flagged source or question
//     is withheld, its text replaced by the reason.
//
// The detector is resolved lazily through Config.Detector on first use.
// When it cannot be loaded the stage logs that once and, for the question
// policy flag, checks by the rule features alone (GuardReport.RulesOnly);
// under block every request fails with ErrUnavailable.
//
// Concurrency: a Stages is safe for concurrent use.
package guardstage
