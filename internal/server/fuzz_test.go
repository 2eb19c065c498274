package server

import (
	"encoding/json"
	"errors"
	"reflect"
	"strings"
	"testing"

	"github.com/quarry-rag/quarry"
)

// FuzzDecodeDocuments feeds arbitrary bodies to the document-write decoder:
// it must not panic, every error must be a client error (4xx) with a known
// code, and every accepted body must survive a round trip: re-encoding the
// decoded documents and decoding them again gives the same documents.
func FuzzDecodeDocuments(f *testing.F) {
	for _, seed := range []string{
		`{"id":"a","text":"t"}`,
		`{"id":"a","title":"T","text":"t","source":"s","language":"en","tenant":"x","acl":["p"],"metadata":{"y":2020,"k":"v","b":true}}`,
		`{"documents":[{"id":"a","text":"t"},{"id":"b","text":"u","metadata":{"n":1.5e3}}]}`,
		`{"documents":[]}`,
		`{"documents":null}`,
		`{"documents":[{"id":"a","colour":1}]}`,
		`{"id":"a","documents":[]}`,
		`{"metadata":{"a":[1]}}`,
		`{"metadata":{"a":null}}`,
		`{"text":"\ud800"}`,
		`{"id":1}`,
		`{"ID":"a","Text":"t"}`,
		`{"id":"a","text":"t"} x`,
		`[1,2]`,
		`null`,
		``,
		`{"documents":[{"documents":[]}]}`,
		"{\"id\":\"a\",\n\"text\":}",
	} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		docs, single, err := decodeUpsert(data)
		if err != nil {
			var ae *apiError
			if !errors.As(err, &ae) {
				t.Fatalf("error %v (%T) is not an *apiError", err, err)
			}
			e, internal := toAPIError(err)
			if internal || e.status() < 400 || e.status() > 499 {
				t.Fatalf("decode error maps to %d (internal=%v): %v", e.status(), internal, err)
			}
			return
		}
		if len(docs) == 0 || (single && len(docs) != 1) {
			t.Fatalf("accepted %d documents (single=%v)", len(docs), single)
		}
		again := roundTrip(t, docs, single)
		if !reflect.DeepEqual(docs, again) {
			t.Fatalf("round trip changed the documents:\n%#v\n%#v", docs, again)
		}
	})
}

func roundTrip(t *testing.T, docs []quarry.Document, single bool) []quarry.Document {
	t.Helper()
	in := make([]documentIn, len(docs))
	for i, d := range docs {
		in[i] = documentIn{ID: d.ID, Title: d.Title, Text: d.Text, Source: d.Source, Language: d.Language,
			Tenant: d.Tenant, ACL: d.ACL, Metadata: metadataIn(d.Metadata)}
	}
	var body any = map[string]any{"documents": in}
	if single {
		body = in[0]
	}
	b, err := json.Marshal(body)
	if err != nil {
		t.Fatal(err)
	}
	again, gotSingle, err := decodeUpsert(b)
	if err != nil || gotSingle != single {
		t.Fatalf("re-decoding %s: single=%v, %v", b, gotSingle, err)
	}
	return again
}

// FuzzDecodeChat feeds arbitrary bodies to the chat completion decoder and
// its checks (tools, schemas and tool turns included): no panic, every
// error a client error (4xx) naming a known code, and every accepted body
// yields the last user message's text as the question, at most the
// earlier messages as history, and the later ones as tool turns ending
// with a tool's result.
func FuzzDecodeChat(f *testing.F) {
	for _, seed := range []string{
		`{"model":"c","messages":[{"role":"user","content":"q"}]}`,
		`{"model":"c","messages":[{"role":"system","content":"s"},{"role":"user","content":[{"type":"text","text":"q"}]}],"stream":true,"stream_options":{"include_usage":true}}`,
		`{"model":"c","messages":[{"role":"user","content":"q"}],"temperature":0.5,"top_p":1,"max_tokens":10,"stop":"x","seed":1}`,
		`{"model":"c","messages":[{"role":"user","content":"q"}],"stop":["a",""],"max_completion_tokens":3,"max_tokens":4}`,
		`{"model":"c","messages":[{"role":"assistant","content":null}]}`,
		`{"model":"c","messages":[{"role":"user","content":[{"type":"image_url"}]}]}`,
		`{"model":"c","messages":null}`,
		`{"model":"c","messages":[1]}`,
		`{"messages":[],"n":2}`,
		`[]`,
		`{"model":"c","messages":[{"role":"user","content":"q"}],"response_format":{"type":"json_schema","json_schema":{"name":"a","schema":{"type":"object","properties":{"x":{"$ref":"#/$defs/y"}},"$defs":{"y":{"type":"string"}}}}}}`,
		`{"model":"c","messages":[{"role":"user","content":"q"}],"response_format":{"type":"json_object"},"presence_penalty":1}`,
		`{"model":"c","messages":[{"role":"user","content":"q"},{"role":"assistant","content":null,"tool_calls":[{"id":"1","type":"function","function":{"name":"f","arguments":"{}"}}]},{"role":"tool","tool_call_id":"1","content":"r"}],"tools":[{"type":"function","function":{"name":"f","parameters":{"type":"object"}}}],"tool_choice":{"type":"function","function":{"name":"f"}}}`,
		`{"model":"c","messages":[{"role":"user","content":"q"}],"tools":[{"type":"function","function":{"name":"f","parameters":{"$ref":"http://x/y"}}}]}`,
	} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		var in chatRequest
		err := decodeBody(data, &in)
		var req quarry.AskRequest
		if err == nil {
			req, err = in.toEngine()
		}
		if err != nil {
			var ae *apiError
			if !errors.As(err, &ae) {
				t.Fatalf("error %v (%T) is not an *apiError", err, err)
			}
			e, internal := toAPIError(err)
			if internal || e.status() < 400 || e.status() > 499 {
				t.Fatalf("decode error maps to %d (internal=%v): %v", e.status(), internal, err)
			}
			return
		}
		q := in.Messages[in.question]
		if q.Role != "user" || req.Question == "" || req.Question != strings.TrimSpace(q.Content.Text) || len(req.History) > in.question ||
			len(req.ToolTurns) != len(in.Messages)-1-in.question {
			t.Fatalf("accepted %s as question %q with %d history messages and %d tool turns", data, req.Question, len(req.History), len(req.ToolTurns))
		}
		if n := len(req.ToolTurns); n > 0 && (req.ToolTurns[n-1].Role != "tool" || req.Method != quarry.MethodLLM) {
			t.Fatalf("accepted %s with tool turns ending in %q (method %q)", data, req.ToolTurns[n-1].Role, req.Method)
		}
		for _, m := range req.ToolTurns {
			if m.Role == "tool" && (m.ToolName == "" || m.ToolCallID == "") {
				t.Fatalf("accepted %s with a tool result for no call", data)
			}
		}
	})
}

// FuzzFeedbackBody: any body either fails with a 4xx naming what is wrong
// or decodes to a record that validates and survives a JSON round trip.
func FuzzFeedbackBody(f *testing.F) {
	f.Add([]byte(`{"collection":"docs","question":"q","rating":"up","sources":[{"doc_id":"a","chunk_id":"a#0","start":0,"end":3}]}`))
	f.Add([]byte(`{"collection":"docs","question":"q","rating":"sideways"}`))
	f.Add([]byte(`{"collection":"../x","question":"q","rating":"down","citations":[{"marker":1,"doc_id":"a","chunk_id":"a#0","start":5,"end":1}]}`))
	f.Fuzz(func(t *testing.T, body []byte) {
		var in feedbackIn
		err := decodeBody(body, &in)
		if err == nil {
			err = in.validate()
		}
		if err != nil {
			var ae *apiError
			if !errors.As(err, &ae) || ae.status() >= 500 {
				t.Fatalf("error %v is not a client error", err)
			}
			return
		}
		b, err := json.Marshal(in)
		if err != nil {
			t.Fatal(err)
		}
		var back feedbackIn
		if err := decodeBody(b, &back); err != nil {
			t.Fatalf("re-decoding %s: %v", b, err)
		}
		if err := back.validate(); err != nil {
			t.Fatalf("round trip of %s no longer validates: %v", b, err)
		}
	})
}

// FuzzCheckUTF8: a body checkUTF8 accepts decodes without encoding/json
// inventing a U+FFFD: every replacement character in the decoded strings
// was in the input, literally or as \ufffd.
func FuzzCheckUTF8(f *testing.F) {
	for _, s := range []string{`"a"`, `"\ud83d\ude00"`, `"\udc00"`, `"\ud800x"`, "\"\xff\"", `"\\udc00"`, `"\ufffd"`, `"\ud800\u0041"`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		if checkUTF8(b) != nil {
			return
		}
		var s string
		if json.Unmarshal(b, &s) != nil {
			return
		}
		got := strings.Count(s, "\uFFFD")
		allowed := strings.Count(string(b), "\uFFFD") + strings.Count(strings.ToLower(string(b)), `\ufffd`)
		if got > allowed {
			t.Fatalf("checkUTF8 accepted %q, which decodes with %d invented U+FFFD", b, got-allowed)
		}
	})
}
