package agent

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/quarry-rag/quarry/internal/generate"
	"github.com/quarry-rag/quarry/internal/llm"
	"github.com/quarry-rag/quarry/internal/tools"
)

// ResearchConfig configures the research pipeline. A nil value is valid.
type ResearchConfig struct {
	// PlannerPrompt, WriterPrompt and ReviewerPrompt override the built-in
	// role prompts.
	PlannerPrompt, WriterPrompt, ReviewerPrompt string
	// ResearcherTools are the tools the researcher may use. Default
	// search and get_document.
	ResearcherTools []string
	// ResearcherSteps lets the researcher call more tools with the model
	// after its search of each sub-question (0: the searches only).
	ResearcherSteps int
	// MaxSubQuestions caps the plan. Default 3, at most 8.
	MaxSubQuestions int
	// K is the passages searched per sub-question. Default 3.
	K int
	// MaxRevisions is how many times the reviewer may send the draft back.
	// Default 2.
	MaxRevisions int
}

func (c *ResearchConfig) withDefaults() ResearchConfig {
	var r ResearchConfig
	if c != nil {
		r = *c
	}
	if r.PlannerPrompt == "" {
		r.PlannerPrompt = "You plan research. Split the user's question into at most %d short search queries, each about one fact the answer needs. Write one query per line and nothing else."
	}
	if r.WriterPrompt == "" {
		r.WriterPrompt = "You write answers only from the numbered evidence below. After each statement put the number of the evidence that supports it in brackets, like [1]. If the evidence does not answer the question, say so."
	}
	if r.ReviewerPrompt == "" {
		r.ReviewerPrompt = "You review a draft answer against the numbered evidence. Check that every statement has a citation [n] and that evidence n supports it. Reply with APPROVED if it does, or with REVISE: followed by what to fix."
	}
	if len(r.ResearcherTools) == 0 {
		r.ResearcherTools = []string{tools.NameSearch, tools.NameGetDocument}
	}
	if r.MaxSubQuestions <= 0 {
		r.MaxSubQuestions = 3
	}
	r.MaxSubQuestions = min(r.MaxSubQuestions, 8)
	if r.K <= 0 {
		r.K = 3
	}
	if r.MaxRevisions < 0 {
		r.MaxRevisions = 0
	} else if r.MaxRevisions == 0 {
		r.MaxRevisions = 2
	}
	return r
}

// Research runs the research pipeline: a planner splits the question into
// sub-questions, a researcher gathers evidence for each with its tools, a
// writer drafts an answer citing only that evidence, and a reviewer checks
// each claim's citation and may send the draft back up to MaxRevisions
// times. All roles share one budget and one trace.
func (a *Agent) Research(ctx context.Context, sc tools.Scope, in Input, rc *ResearchConfig, emit Emit) (*Result, error) {
	if err := validateInput(in); err != nil {
		return nil, err
	}
	cfg := rc.withDefaults()
	r, cancel := a.newRun(ctx, sc, in, emit)
	defer cancel()
	// The pipeline's shape needs this many steps at least: the step budget
	// is raised to it (the token, call and time budgets still bound it).
	need := 1 + cfg.MaxSubQuestions*(1+cfg.ResearcherSteps) + 2*(cfg.MaxRevisions+1)
	r.budget.Steps = max(r.budget.Steps, need)
	answer, err := r.research(in, cfg)
	return r.finish(answer, err), nil
}

func (r *run) research(in Input, cfg ResearchConfig) (string, error) {
	// Planner.
	planner := Role{Name: "planner"}
	text, err := r.complete(planner, fmt.Sprintf(cfg.PlannerPrompt, cfg.MaxSubQuestions), historyText(in)+in.Task, false)
	if err != nil {
		return "", err
	}
	subs := parsePlan(text, cfg.MaxSubQuestions)
	if len(subs) == 0 {
		subs = []string{in.Task}
	}
	r.res.Trace[len(r.res.Trace)-1].Thought = "sub-questions: " + strings.Join(subs, " | ")

	// Researcher: one search per sub-question, then optionally its own loop.
	researcher := Role{Name: "researcher", Tools: r.a.cfg.Tools.Subset(cfg.ResearcherTools...), MaxSteps: cfg.ResearcherSteps}
	for _, q := range subs {
		if err := r.checkBudget(researcher, 0); err != nil {
			return "", err
		}
		r.res.Steps++
		step := Step{N: r.res.Steps, Role: researcher.Name, Protocol: "plan", Thought: q}
		r.res.Trace = append(r.res.Trace, step)
		if err := r.emitStep(step); err != nil {
			return "", err
		}
		args, _ := json.Marshal(tools.SearchArgs{Query: q, K: cfg.K})
		_, call, err := r.call(researcher, fmt.Sprintf("call_%d", step.N), tools.NameSearch, string(args))
		r.res.Trace[len(r.res.Trace)-1].Calls = append(r.res.Trace[len(r.res.Trace)-1].Calls, call)
		if err != nil {
			return "", err
		}
		if cfg.ResearcherSteps > 0 {
			if _, err := r.loop(researcher, Input{Task: "Gather evidence for: " + q + "\nWhen you have it, give a Final Answer summarising it."}); err != nil {
				var st *stop
				if !isStop(err, &st) || st.state == StateFailed && strings.HasPrefix(st.reason, "cancelled") {
					return "", err
				}
				// A researcher that ran out of its own steps still leaves
				// its evidence: go on.
				if !strings.HasPrefix(st.reason, researcher.Name+":") {
					return "", err
				}
			}
		}
	}

	// Writer and reviewer.
	writer, reviewer := Role{Name: "writer"}, Role{Name: "reviewer"}
	evidence := r.evidence()
	draft, err := r.complete(writer, cfg.WriterPrompt+"\n\nEvidence:\n"+evidence, in.Task, true)
	if err != nil {
		return "", err
	}
	for rev := 0; ; rev++ {
		notes := r.mechanicalReview(draft)
		if notes == "" {
			verdict, err := r.complete(reviewer, cfg.ReviewerPrompt+"\n\nEvidence:\n"+evidence,
				"Question: "+in.Task+"\n\nDraft answer:\n"+draft, false)
			if err != nil {
				return "", err
			}
			notes = parseVerdict(verdict)
		} else {
			r.res.Steps++
			step := Step{N: r.res.Steps, Role: reviewer.Name, Protocol: "check", Thought: "REVISE: " + notes}
			r.res.Trace = append(r.res.Trace, step)
			if err := r.emitStep(step); err != nil {
				return "", err
			}
		}
		if notes == "" {
			return draft, nil
		}
		if rev >= cfg.MaxRevisions {
			if r.mechanicalReview(draft) != "" && len(generate.Markers(draft)) == 0 {
				return "", &stop{StateFailed, fmt.Sprintf("the reviewer rejected %d revisions: %s", rev, notes)}
			}
			return draft, nil
		}
		draft, err = r.complete(writer, cfg.WriterPrompt+"\n\nEvidence:\n"+evidence,
			in.Task+"\n\nYour previous draft:\n"+draft+"\n\nThe reviewer asks: "+notes+"\nWrite the corrected answer.", true)
		if err != nil {
			return "", err
		}
	}
}

func isStop(err error, st **stop) bool {
	s, ok := err.(*stop)
	*st = s
	return ok
}

func historyText(in Input) string {
	if len(in.History) == 0 {
		return ""
	}
	var b strings.Builder
	b.WriteString("Earlier conversation:\n")
	for _, t := range in.History {
		fmt.Fprintf(&b, "%s: %s\n", t.Role, clipRunes(t.Content, 500))
	}
	b.WriteString("\nQuestion: ")
	return b.String()
}

// evidence renders the run's sources for the writer and reviewer.
func (r *run) evidence() string {
	if len(r.srcs.list) == 0 {
		return "(no evidence was found)"
	}
	var b strings.Builder
	for _, s := range r.srcs.list {
		fmt.Fprintf(&b, "[%d] %s: %s\n", s.N, s.Title, clipRunes(strings.ReplaceAll(s.Text, "\n", " "), 800))
	}
	return fence("evidence", b.String())
}

// mechanicalReview checks what needs no model: the draft cites, and cites
// only evidence that exists.
func (r *run) mechanicalReview(draft string) string {
	ms := generate.Markers(draft)
	if len(r.srcs.list) > 0 && len(ms) == 0 {
		return "the draft cites no evidence; put [n] after each statement"
	}
	var bad []string
	for _, n := range ms {
		if n < 1 || n > len(r.srcs.list) {
			bad = append(bad, fmt.Sprintf("[%d]", n))
		}
	}
	if len(bad) > 0 {
		return "these citations name no evidence: " + strings.Join(bad, ", ")
	}
	return ""
}

// parseVerdict returns the revision notes, or "" for APPROVED. A reply
// that is neither is taken as approval: the mechanical check has passed.
func parseVerdict(v string) string {
	t := strings.TrimSpace(v)
	up := strings.ToUpper(t)
	if strings.HasPrefix(up, "REVISE") {
		notes := strings.TrimSpace(strings.TrimLeft(t[len("REVISE"):], ": "))
		if notes == "" {
			notes = "revise the answer"
		}
		return clipRunes(notes, 1000)
	}
	return ""
}

// parsePlan takes the planner's lines as sub-questions, dropping list
// markers, blanks and duplicates.
func parsePlan(text string, max int) []string {
	var out []string
	seen := map[string]bool{}
	for _, line := range strings.Split(text, "\n") {
		l := strings.TrimSpace(line)
		l = strings.TrimLeft(l, "-*•0123456789.) ")
		l = strings.Trim(l, "\"` ")
		if len(l) < 3 || seen[strings.ToLower(l)] {
			continue
		}
		seen[strings.ToLower(l)] = true
		out = append(out, clipRunes(l, 300))
		if len(out) == max {
			break
		}
	}
	return out
}

// complete is one tool-less model call of a role, streamed as tokens when
// stream is set.
func (r *run) complete(role Role, system, user string, stream bool) (string, error) {
	if err := r.checkBudget(role, 0); err != nil {
		return "", err
	}
	m := r.a.cfg.Model
	msgs := []llm.Message{{Role: "system", Content: system}, {Role: "user", Content: user}}
	t0 := time.Now()
	stepN := r.res.Steps + 1
	var fn func(llm.Delta) error
	if stream {
		fn = func(d llm.Delta) error {
			return r.emit(Event{Kind: EventToken, Role: role.Name, Step: stepN, Text: d.Content})
		}
	} else {
		fn = func(llm.Delta) error { return nil }
	}
	resp, err := m.Chat.Stream(r.wallCtx, llm.Request{Model: m.Name, Messages: msgs, Params: m.Params}, fn)
	took := time.Since(t0)
	r.res.ModelMS += ms(took)
	r.res.Steps++
	step := Step{N: stepN, Role: role.Name, Protocol: "text", ModelMS: ms(took)}
	if err != nil {
		step.Error = err.Error()
		r.res.Trace = append(r.res.Trace, step)
		if strings.Contains(err.Error(), "stream callback") && r.parent.Err() == nil {
			return "", r.emitErr(err)
		}
		return "", r.modelErr(err)
	}
	step.Tokens = r.addUsage(resp.Usage, len(system)+len(user), len(resp.Content))
	step.Answer = resp.Content
	r.res.Trace = append(r.res.Trace, step)
	if err := r.emitStep(step); err != nil {
		return "", err
	}
	if strings.TrimSpace(resp.Content) == "" && role.Name != "reviewer" {
		return "", &stop{StateFailed, role.Name + ": the model returned an empty reply"}
	}
	return resp.Content, nil
}
