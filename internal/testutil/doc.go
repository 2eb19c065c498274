// Package testutil holds the helpers tests share for the real components
// they run against: the model cache (RequireModel), the local language
// model (LLM) and Weaviate (Weaviate). Each either returns what the test
// needs or skips it with the command that provides it — and under CI=true
// fails instead, so that a CI run never passes by skipping.
//
// Only _test.go files import it. It depends on the standard library only.
package testutil
