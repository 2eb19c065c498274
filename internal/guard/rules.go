package guard

import (
	"regexp"
	"strings"
)

// Rule families. Each counts as one feature of the classifier (how many of
// its patterns match the normalised text, capped), so the trained head
// decides how much a family weighs next to the embedding; a strong hit
// alone does not decide.
const (
	ruleOverride = iota // "ignore all previous instructions", in many languages
	ruleRole            // "you are now DAN", "developer mode", "act as ... without restrictions"
	ruleLeak            // "print your system prompt", "reveal the password"
	ruleForce           // "say 'Access Granted'", "respond only with", "output exactly"
	ruleTurn            // forged chat turns and template role markers
	rulePersona         // "I want you to act as", "pretend you are", "imagine you are" — weak alone
	ruleContext         // "disregard the articles", "answer from your own knowledge, not the documents"
	numRules
)

// ruleFeatures are the rule features plus one per obfuscation trick.
const numFeatures = numRules + 3

var rules = [numRules][]*regexp.Regexp{
	ruleOverride: compile(
		// English
		`\b(ignore|disregard|forget|skip|override|bypass|drop|abandon|neglect|overlook)\b[^.\n]{0,40}\b(previous|prior|above|earlier|preceding|former|original|initial|all|any|your|the|those|these|every)\b[^.\n]{0,30}\b(instructions?|prompts?|rules?|directions?|directives?|guidelines?|commands?|orders?|context|constraints?|programming|tasks?|restrictions?)\b`,
		`\b(forget|ignore|disregard)\s+(everything|all|anything)\b`,
		`\b(ignore|disregard|forget)\s+(the\s+)?(above|previous|prior|preceding|earlier)\b`,
		`\bnew\s+(instructions?|task|rules?|directive)s?\s*[:!]`,
		`\binstead\b[^.\n]{0,30}\b(say|print|output|write|respond|reply)\b`,
		`\bstop\s+(being|acting|following)\b`,
		`(?:^|[.!?]\s*)(stop|stopp|halt|attention|achtung)\s*[-–—!:,]`,
		`\b(change|update|replace|overwrite)\s+(your|the)\s+(instructions?|rules?|prompt|task|guidelines?)\b`,
		`\b(your|the)\s+new\s+(task|instructions?|role|goal|job)\b`,
		`\b(following|next)\s+(new\s+)?task\s*:`,
		`\binstruction\s*:`,
		`\b(forget|vergiss|olvida|oublie)\b[^.\n]{0,20}\b(that|das|eso|cela|before|zuvor|davor|above|oben)\b`,
		`\b(neue|nächste|folgende)\s+(herausforderung|aufgabe|anweisung)\b`,
		`\b(do not|don't|never)\s+(follow|obey|listen to)\b[^.\n]{0,30}\b(instructions?|rules?|guidelines?|system)\b`,
		// German
		`\b(ignoriere|ignorieren|vergiss|vergessen|vergesse|missachte)\b[^.\n]{0,40}\b(alle|vorherigen?|bisherigen?|obigen?|vorigen?|anweisungen|befehle|regeln|aufgaben|alles|instruktionen)\b`,
		`\bneue\s+(anweisung|aufgabe|regel)`,
		`\bnun\s+(bist|sind)\s+(du|sie)\b`,
		// French
		`\b(ignore[zr]?|oublie[zr]?|ne tiens pas compte)\b[^.\n]{0,40}\b(instructions?|consignes?|r[eè]gles?|pr[ée]c[ée]dent(e|es|s)?|tout)\b`,
		// Spanish / Portuguese / Italian
		`\b(ignora|ignore|ignorar|olvida|olvide|olvidar|esquece|esqueça|dimentica|ignorare)\b[^.\n]{0,40}\b(instrucciones|instruções|instrucoes|istruzioni|anteriores|precedenti|reglas|regras|regole|todo|tudo|tutto)\b`,
		// Dutch
		`\b(negeer|vergeet)\b[^.\n]{0,40}\b(instructies|regels|alles|vorige)\b`,
		// Russian
		`(игнорируй|забудь|проигнорируй|не обращай внимания)[^.\n]{0,40}(инструкци|правил|всё|все|предыдущ)`,
		// Chinese / Japanese
		`(忽略|无视|忘记|忽視|無視|忘れ)[^。\n]{0,20}(指令|指示|说明|規則|规则|之前|以上|上述|命令|提示)`,
	),
	ruleRole: compile(
		`\b(you are|you're|you will be|from now on,? you|pretend (to be|you are)|act as|roleplay as|role-play as|behave as|simulate)\b[^.\n]{0,60}\b(dan|jailbr[eo]ken?|unfiltered|uncensored|unrestricted|evil|no (rules|restrictions|limits|filters|guidelines|ethics)|without (any )?(rules|restrictions|limits|filters|censorship|ethics|morals))\b`,
		`\b(developer|dev|god|admin|debug|sudo|jailbreak|dan|unrestricted)\s+mode\b`,
		`\bdo anything now\b`,
		`\b(stay in character|break character|never refuse|cannot refuse|must not refuse|no longer bound)\b`,
		`\b(openai|anthropic|google)('s)?\s+(content\s+)?polic(y|ies)\b`,
		`\bdu bist (jetzt|nun|ab sofort)\b`,
		`\b(ab (jetzt|sofort)|von nun an)\b[^.\n]{0,40}\b(bist du|du bist|antworte|sagst du)\b`,
		`\b(tu es|vous êtes) (maintenant|désormais)\b`,
		`\b(ahora eres|a partir de ahora)\b`,
	),
	ruleLeak: compile(
		`\b(reveal|show|print|output|tell|give|repeat|display|leak|spell|write( out| down)?|list)\b[^.\n]{0,40}\b(system|initial|original|hidden|secret|previous|above)\s+(prompt|instructions?|message|password|rules|text)\b`,
		`\b(your|the)\s+(system prompt|initial prompt|instructions above|secret (key|password|code)|access code|password)\b`,
		`\b(what|which)\s+(is|was|are|were)\s+(your|the)\s+(system prompt|instructions|password|access code|secret)\b`,
		`\b(zeige?|gib|nenne|verrate)\b[^.\n]{0,40}\b(system-?prompt|anweisungen|passwort|geheim)`,
		`\b(prompt|instructions)\s+(above|before this|so far)\b`,
	),
	ruleForce: compile(
		`\b(say|print|output|respond with|reply with|answer with|write|return)\b\s*(only|just|exactly|simply)?\s*[:"'“«]?\s*(access granted|i have been pwned|pwned|hacked|lol|haha)`,
		`\baccess granted\b`,
		`\b(respond|reply|answer|output)\s+(only|exclusively)\s+with\b`,
		`\b(begin|start)\s+your\s+(reply|response|answer)\s+with\b`,
		`\bsag(e|en sie)?\s+(nur|einfach)\b`,
	),
	rulePersona: compile(
		`\b(i want you to|i'd like you to|you will|you must|you should)\s+(act|behave|pretend|respond|answer|play)\s+(as|like)\b`,
		`\b(pretend|imagine)\s+(that\s+)?(you are|you're|to be|you can|you have)\b`,
		`\b(act|acting|role-?play|roleplaying)\s+as\s+(a|an|my|the|if)\b`,
		`^\s*(you are|you're)\s+(now\s+)?(a|an|the)?\s*[a-z]+[^.?!\n]{0,40}[.,]`,
		`\bich möchte,? dass (du|sie) als\b`,
		`^\s*(du bist|sie sind|tu es|vous êtes|eres|sei)\s+[^.?!\n]{1,40}[.,]`,
		`\b(answer|respond|reply|write|antworte|schreibe|réponds|responde)\s+(im stil|in the style|in the voice|as if|als ob|comme si|como si)\b`,
		`\b(agiere|fungiere|verhalte dich|tu so|stell dir vor)\b[^.\n]{0,30}\b(als|du bist|wärst)\b`,
		`\b(finge|imagina)\s+que\s+(eres|puedes)\b`,
		`\b(fais comme si|imagine que tu)\b`,
	),
	ruleContext: compile(
		`\b(disregard(ing)?|ignor(e|ing)|regardless of|forget|without (using|looking at))\b[^.\n]{0,20}\b(the )?(articles?|documents?|context|sources?|texts?|passages?|search results)\b`,
		`\b(not|instead of)\s+(by|from|based on|using)\s+(the\s+)?(articles?|documents?|context|sources?|texts?)\b`,
		`\b(your own|own) knowledge\b`,
		`\b(make something up|make up an answer|invent an answer|formulate an untrue|lie to)\b`,
		`\b(use|include) (also )?(the )?information (in|from) the prompt\b`,
		`\b(ohne|ignoriere|vergiss)\b[^.\n]{0,20}\b(die )?(artikel|dokumente|quellen|kontext)\b`,
	),
	ruleTurn: compile(
		`<\|?(im_start|im_end|system|user|assistant|endoftext|eot_id|start_header_id|end_header_id)\|?>`,
		`<\/?(start_of_turn|end_of_turn|s|system|instructions?)>`,
		`\[/?(INST|SYS|SYSTEM)\]`,
		`(?m)^\s*#{2,}\s*(instruction|system|new instructions?|response)\b`,
		`(?m)^\s*(system|assistant)\s*:`,
		`(?m)^\s*(question|user|human)\s*:.*\n(.*\n)?\s*(answer|assistant|ai)\s*:`,
		`\bend of (the )?(document|context|text|input|prompt)\b`,
	),
}

// prefilters[f][i] is the prefilter of rules[f][i].
var prefilters = func() (out [numRules][]prefilter) {
	for f, pats := range rules {
		for _, p := range pats {
			out[f] = append(out[f], newPrefilter(p))
		}
	}
	return out
}()

// literals scans a text once for every prefilter literal.
var literals = newLiteralScan(&prefilters)

func compile(pats ...string) []*regexp.Regexp {
	out := make([]*regexp.Regexp, len(pats))
	for i, p := range pats {
		out[i] = regexp.MustCompile(`(?i)` + p)
	}
	return out
}

// ruleHits counts, per family, the patterns that match text (already
// normalised).
func ruleHits(text string) [numRules]int {
	var hits [numRules]int
	lower := strings.ToLower(text)
	present := literals.scan(lower)
	for f, pats := range rules {
		for i, p := range pats {
			if literals.admits(present, f, i) && p.MatchString(lower) {
				hits[f]++
			}
		}
	}
	return hits
}

// features are the hand-made features of a normalised text: capped rule
// hits per family and three obfuscation signals.
func features(n Normalized) [numFeatures]float32 {
	var f [numFeatures]float32
	hits := ruleHits(n.Text)
	for i, h := range hits {
		f[i] = float32(min(h, 2))
	}
	if n.Tricks&(ZeroWidth|Bidi|TagChars) != 0 {
		f[numRules] = 1
	}
	if n.Tricks&(Homoglyphs|Spaced) != 0 {
		f[numRules+1] = 1
	}
	if n.Tricks&(Base64|Rot13) != 0 {
		f[numRules+2] = 1
	}
	return f
}
