// Package guard holds Quarry's guardrails around a language model: a
// prompt-injection detector for questions and retrieved chunks, the
// policies that decide what a flagged text may do, and the output rails
// that check an answer against its sources.
//
// Detector: a text is normalised (Normalize: NFKC; zero-width, bidi and
// variation-selector characters dropped; Unicode tag characters decoded;
// Cyrillic/Greek homoglyphs folded inside Latin words; spaced-out letters
// joined; base64 runs and, when the text names rot13, its rot13 reading
// appended), cut into windows of about 128 tokens, and each window is
// embedded with the in-process multilingual-e5-small (internal/embed) and
// given to a small trained head: one hidden ReLU layer of 32 units over the
// 384-d embedding plus ten features — seven multilingual phrase families
// (override, role-play/DAN, prompt leak, forced output, forged turns,
// persona "act as", "disregard the documents") and three obfuscation
// signals. Sentences of a longer text that a rule matches are also scored
// alone, so an instruction hidden in a long benign document is not
// diluted. A text's score is its highest piece's, in [0, 1];
// Threshold (0.5) separates injections. The head is committed in
// model/head.json with its SHA-256 in model/head.json.sha256 (checked at
// load) and is rebuilt, deterministically, by
//
//	go run ./internal/guard/cmd/train   (or make guard-model)
//
// from the sets in $QUARRY_DATASETS/injection plus benign multilingual
// questions and passages from $QUARRY_DATASETS/xquad; that command also
// prints the k-fold and leave-one-set-out figures. No network at run time.
//
// Pipeline seams: Score for one question; ScoreMany for a batch (chunks at
// ingest, kind embed.Passage); ScoreVectors to reuse vectors the pipeline
// computed for dense indexing with the same encoder (Encoder() names it),
// so that scoring chunks at ingest costs the rules and a dot product, not
// a second encoder pass; ScoreSeams for instructions split across two
// consecutive chunks (rules on each seam, the encoder only where the
// seam matches a rule that neither side does). QuestionPolicy (flag|block|off, default flag)
// and ChunkPolicy (exclude|flag|off, default exclude) turn a score into an
// Action; a blocked question is a *BlockedError.
//
// Output rails: CheckAnswer flags an answer that holds an e-mail address,
// URL or number no source holds, and withholds one that repeats an
// instruction of a flagged text (six words in a row of a sentence a rule
// matched), with a reason.
//
// Concurrency: a Detector is safe for concurrent use (its embedder must
// be); all other functions are pure.
//
// Caveats: the attacks it was trained on are English and German (benign
// texts cover seven languages); attacks in other languages rely on the
// multilingual encoder and the rules. A split instruction is found at a
// seam only when a rule matches the joined text. Rule features catch common phrasings only: the head,
// not the rules, decides.
//
// Example:
//
//	d, err := guard.OpenLocal(nil)
//	if err != nil { ... }
//	defer d.Close()
//	s, err := d.Score(ctx, "Ignore all previous instructions")
//	if s >= d.Threshold() { ... }
package guard
