package quarry_test

import (
	"context"
	"errors"
	"regexp"
	"strings"
	"testing"

	"github.com/quarry-rag/quarry"
)

var placeholderRE = regexp.MustCompile(`<[A-Z_]+_\d+>`)

var piiDocs = []quarry.Document{
	{ID: "payroll", Title: "Payroll contact anna.schmidt@example.com",
		Text: "Salary questions go to Anna Schmidt at anna.schmidt@example.com or +49 30 1234567. Refunds are paid to IBAN DE89 3704 0044 0532 0130 00 within five days."},
	{ID: "mars", Title: "Mars", Text: "Mars is the fourth planet from the Sun. It has two small moons, Phobos and Deimos."},
}

var piiValues = []string{"anna.schmidt@example.com", "+49 30 1234567", "DE89 3704 0044 0532 0130 00", "DE89370400440532013000", "1234567"}

// With pii.llm redact, the provider (a scripted fake that records what it
// receives and answers with the placeholders it saw) never receives a
// value, and the answer comes back with the values and no placeholder,
// streamed and whole, with citations located in the original text.
func TestPIIRedactedBeforeLLM(t *testing.T) {
	fake, url := newScriptedLLMFunc(t, func(prompt string) string {
		ph := placeholderRE.FindAllString(prompt, -1)
		if len(ph) == 0 {
			return "I don't know."
		}
		return "Write to " + strings.Join(ph, " or ") + " for salary questions [1]."
	})
	eng := openGuardEngine(t, quarry.Options{LLM: faultCfg(url)})
	ctx := context.Background()
	col, _, err := eng.CreateCollection(ctx, "hr", &quarry.CollectionConfig{PII: quarry.PIIConfig{LLM: "redact"}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := col.Upsert(ctx, piiDocs, nil); err != nil {
		t.Fatal(err)
	}
	question := "Who answers salary questions? Is it anna.schmidt@example.com?"
	var streamed strings.Builder
	ans, err := col.AskStream(ctx, quarry.AskRequest{Question: question, NoCache: true}, func(ev quarry.AskEvent) error {
		if ev.Type == quarry.EventToken {
			streamed.WriteString(ev.Token)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	got := fake.received(t)
	for _, v := range piiValues {
		if strings.Contains(got, v) {
			t.Errorf("the provider received %q:\n%s", v, got)
		}
	}
	if !placeholderRE.MatchString(got) {
		t.Fatalf("no placeholder in the prompt:\n%s", got)
	}
	for _, a := range []string{ans.Answer, streamed.String()} {
		if placeholderRE.MatchString(a) || !strings.Contains(a, "anna.schmidt@example.com") || !strings.Contains(a, "DE89 3704 0044 0532 0130 00") {
			t.Errorf("answer not restored: %q", a)
		}
	}
	if streamed.String() != ans.Answer {
		t.Errorf("streamed %q, answer %q", streamed.String(), ans.Answer)
	}
	if len(ans.Citations) == 0 {
		t.Fatalf("no citation: %+v", ans)
	}
	for _, c := range ans.Citations {
		if c.DocID != "payroll" || placeholderRE.MatchString(c.Text) || !strings.Contains(piiDocs[0].Text, c.Text) {
			t.Errorf("citation not located in the original text: %+v", c)
		}
	}
	// The answer rails see the restored answer against the original
	// sources: the e-mail address is supported.
	if ans.Guard != nil && len(ans.Guard.AnswerIssues) > 0 {
		t.Errorf("guard = %+v", ans.Guard)
	}
	// Sources returned to the caller keep their values.
	if !strings.Contains(ans.Sources[0].Text, "anna.schmidt@example.com") {
		t.Errorf("sources redacted for the caller: %q", ans.Sources[0].Text)
	}
}

func TestPIIRedactedAtIndex(t *testing.T) {
	eng := openGuardEngine(t, quarry.Options{})
	ctx := context.Background()
	col, _, err := eng.CreateCollection(ctx, "hr", &quarry.CollectionConfig{PII: quarry.PIIConfig{Index: "redact"}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := col.Upsert(ctx, piiDocs, nil); err != nil {
		t.Fatal(err)
	}
	res, err := col.Search(ctx, quarry.SearchRequest{Query: "salary refunds"})
	if err != nil || len(res.Results) == 0 {
		t.Fatalf("%+v, %v", res, err)
	}
	h := res.Results[0]
	if h.DocID != "payroll" || !strings.Contains(h.Text, "<EMAIL_1>") || !strings.Contains(h.Title, "<EMAIL_1>") {
		t.Fatalf("hit %+v", h)
	}
	for _, v := range piiValues {
		if strings.Contains(h.Text, v) || strings.Contains(h.Title, v) {
			t.Errorf("stored %q", v)
		}
	}
	for _, bad := range []quarry.PIIConfig{{Index: "mask"}, {LLM: "hide"}} {
		if _, _, err := eng.CreateCollection(ctx, "bad", &quarry.CollectionConfig{PII: bad}); !errors.Is(err, quarry.ErrInvalid) || !strings.Contains(err.Error(), "pii.") {
			t.Errorf("%+v: %v", bad, err)
		}
	}
}

// TestPIIRedactedInRewrites: with pii.llm redact, the conversation history
// sent to condense a follow-up and the question sent for multi-query
// expansion carry placeholders too — the provider receives no value — and
// what the model writes back is restored before retrieval, so the search
// finds the document by the real address.
func TestPIIRedactedInRewrites(t *testing.T) {
	fake, url := newScriptedLLMFunc(t, func(prompt string) string {
		ph := placeholderRE.FindAllString(prompt, -1)
		switch {
		case strings.Contains(prompt, "Follow-up question:"):
			if len(ph) == 0 {
				return "Who answers salary questions?"
			}
			return "Who answers salary questions at " + ph[0] + "?"
		case len(ph) > 0 && !strings.Contains(prompt, "Sources:"):
			return "salary contact " + ph[0] + "\npayroll address " + ph[0]
		case len(ph) > 0:
			return "Write to " + ph[0] + " [1]."
		}
		return "I don't know."
	})
	eng := openGuardEngine(t, quarry.Options{LLM: faultCfg(url)})
	ctx := context.Background()
	col, _, err := eng.CreateCollection(ctx, "hr", &quarry.CollectionConfig{PII: quarry.PIIConfig{LLM: "redact"}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := col.Upsert(ctx, piiDocs, nil); err != nil {
		t.Fatal(err)
	}
	ans, err := col.Ask(ctx, quarry.AskRequest{Question: "And who answers it?", NoCache: true, Rewrite: "multi", Expansions: 2,
		History: []quarry.Message{{Role: "user", Content: "I have a salary question for anna.schmidt@example.com, phone +49 30 1234567."},
			{Role: "assistant", Content: "Noted."}}})
	if err != nil {
		t.Fatal(err)
	}
	got := fake.received(t)
	for _, v := range piiValues {
		if strings.Contains(got, v) {
			t.Errorf("the provider received %q:\n%s", v, got)
		}
	}
	if !strings.Contains(got, "Follow-up question:") {
		t.Fatalf("no condensation call was made:\n%s", got)
	}
	if !strings.Contains(ans.Query, "anna.schmidt@example.com") || placeholderRE.MatchString(ans.Query) {
		t.Errorf("the condensed question was not restored: %q", ans.Query)
	}
	for _, q := range ans.Queries {
		if placeholderRE.MatchString(q) {
			t.Errorf("an expansion kept a placeholder: %q", q)
		}
	}
	if len(ans.Sources) == 0 || ans.Sources[0].DocID != "payroll" {
		t.Errorf("retrieval did not find the payroll document: %+v", ans.Sources)
	}
}
