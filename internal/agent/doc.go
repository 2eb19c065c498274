// Package agent runs language-model agents over Quarry's tools: a single
// agent loop (native tool calling where the model supports it, a strict
// ReAct text protocol where it does not), a multi-agent research pipeline
// (planner → researcher → writer → reviewer) and session memory.
//
// Every run is bounded: Budget caps steps, tool calls, invalid calls,
// tokens and wall time, and a run always ends in one of three states —
// answered, budget_exhausted or failed — with its partial trace. Tool calls
// go through tools.Set, which validates them against their JSON Schemas
// before anything runs; a refused call becomes an error observation for the
// model and counts against Budget.InvalidCalls. The same call with the same
// arguments twice is a loop: it is refused, and a third time ends the run.
//
// Tool results reach the model fenced as data (<observation> blocks whose
// closing tag and protocol keywords are neutralised); the system prompt
// tells the model they are never instructions. With Config.Screen (the
// engine's prompt-injection guard, Engine.ScreenInjection, which the CLI
// and the server set) each source a tool returns is scored before the
// model reads it: a source at or above the threshold is withheld — the
// model reads a notice, the source gets no number — and Result.Withheld
// counts them. Every source a tool returns
// gets a number [n]; the final answer's markers are verified against those
// numbers and become Citations, as in Collection.Ask.
//
// Concurrency: an Agent is safe for concurrent runs; a run is single
// goroutine. Sessions (Sessions) are guarded by their own mutex.
//
// Example:
//
//	a := agent.New(agent.Config{Model: agent.Model{Name: "gemma3", Chat: llm.NewOllama(url, nil)}, Tools: set})
//	res, err := a.Run(ctx, tools.Scope{Tenant: "acme"}, "how are deletes handled?", func(e agent.Event) error { return nil })
package agent
