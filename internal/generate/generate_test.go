package generate

import (
	"errors"
	"reflect"
	"slices"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/quarry-rag/quarry/internal/base"
)

func TestLostInTheMiddle(t *testing.T) {
	for n, want := range map[int][]int{
		0: {}, 1: {1}, 2: {1, 2}, 3: {1, 3, 2}, 5: {1, 3, 5, 4, 2}, 6: {1, 3, 5, 6, 4, 2},
	} {
		in := make([]int, n)
		for i := range in {
			in[i] = i + 1
		}
		if got := LostInTheMiddle(in); !reflect.DeepEqual(got, want) {
			t.Errorf("n=%d: %v, want %v", n, got, want)
		}
	}
}

func TestEstimateTokens(t *testing.T) {
	for _, tc := range []struct {
		s        string
		min, max int
	}{
		{"", 0, 0},
		{"hello", 1, 2},
		{strings.Repeat("word ", 100), 120, 140}, // words dominate
		{strings.Repeat("internationalization ", 10), 50, 56}, // runes dominate
		{strings.Repeat("日本語のテキスト", 10), 80, 110},             // every CJK character counts
	} {
		if got := EstimateTokens(tc.s); got < tc.min || got > tc.max {
			t.Errorf("EstimateTokens(%.20q) = %d, want %d..%d", tc.s, got, tc.min, tc.max)
		}
	}
}

func TestTrimToTokens(t *testing.T) {
	s := strings.Repeat("alpha beta gamma délta ", 50)
	for _, budget := range []int{1, 5, 20, 100} {
		got := trimToTokens(s, budget)
		if EstimateTokens(got) > budget || !strings.HasPrefix(s, got) || !utf8.ValidString(got) {
			t.Fatalf("budget %d: %q (%d tokens)", budget, got, EstimateTokens(got))
		}
		if got != "" && strings.HasSuffix(got, " ") {
			t.Fatalf("trailing space: %q", got)
		}
		if budget >= 20 && got == "" {
			t.Fatalf("budget %d kept nothing", budget)
		}
	}
}

func hits(texts ...string) []base.Hit {
	var out []base.Hit
	for i, s := range texts {
		out = append(out, base.Hit{ChunkID: string(rune('a'+i)) + "#0", DocID: string(rune('a' + i)), Title: "T" + string(rune('a'+i)), Text: s, RuneStart: 10 * i})
	}
	return out
}

func TestBuildOrdersAndBudgets(t *testing.T) {
	long := strings.Repeat("filler words about nothing in particular. ", 60) // ~480 tokens
	hs := hits("best chunk about tides.", long, "third chunk.", long, "fifth chunk.")
	p, err := Build("What causes tides?", nil, hs, Budget{ContextWindow: 1200, AnswerTokens: 200}, "")
	if err != nil {
		t.Fatal(err)
	}
	var order []int
	for _, b := range p.Blocks {
		order = append(order, b.Marker)
	}
	// The second long chunk does not fit whole: it is trimmed or dropped;
	// rank order is 1,3,5 first, then descending even ranks.
	if order[0] != 1 || order[len(order)-1] != 2 {
		t.Fatalf("order %v: best must open, second best close", order)
	}
	if p.Tokens > 1200-200 {
		t.Fatalf("prompt %d tokens exceeds the budget", p.Tokens)
	}
	if got := EstimateTokens(p.Messages[len(p.Messages)-1].Content); got > 1000+20 {
		t.Fatalf("prompt text estimates %d tokens", got)
	}
	msg := p.Messages[0].Content
	for _, want := range []string{"<source id=\"1\" title=\"Ta\">\nbest chunk about tides.\n</source>\n", "I don't know", "Question: What causes tides?\nAnswer:"} {
		if !strings.Contains(msg, want) {
			t.Fatalf("prompt lacks %q:\n%s", want, msg)
		}
	}
	if len(p.Dropped) == 0 && !p.Blocks[len(p.Blocks)-1].Trimmed {
		t.Fatalf("nothing trimmed or dropped: %+v", p.Blocks)
	}
}

func TestBuildTooSmall(t *testing.T) {
	_, err := Build("q", nil, hits(strings.Repeat("x ", 2000)), Budget{ContextWindow: 300, AnswerTokens: 200}, "")
	if !errors.Is(err, ErrContextWindow) {
		t.Fatalf("err = %v", err)
	}
	// A big top chunk in a window with room is trimmed, not an error.
	p, err := Build("q", nil, hits(strings.Repeat("x ", 2000)), Budget{ContextWindow: 1000, AnswerTokens: 200}, "")
	if err != nil || !p.Blocks[0].Trimmed {
		t.Fatalf("%v %+v", err, p)
	}
	if _, err := Build("q", nil, nil, Budget{}, "chatty"); err == nil {
		t.Fatal("unknown style accepted")
	}
}

func TestBuildBaseStylePrefill(t *testing.T) {
	p, err := Build("q?", nil, hits("text"), Budget{}, StyleBase)
	if err != nil {
		t.Fatal(err)
	}
	if p.Prefill != "[" || !strings.HasSuffix(p.Messages[0].Content, "Answer: [") {
		t.Fatalf("prefill %q, prompt ends %q", p.Prefill, p.Messages[0].Content[len(p.Messages[0].Content)-20:])
	}
}

func TestFilterStreaming(t *testing.T) {
	valid := map[int]bool{1: true, 2: true, 3: true}
	for _, tc := range []struct {
		in, want string
		invalid  []int
	}{
		{"  Tides come from the Moon [1].", "Tides come from the Moon [1].", nil},
		{"A [1, 2] and B [2][3].", "A [1, 2] and B [2][3].", nil},
		{"A [9] and B [2; 7].", "A and B [2].", []int{7, 9}},
		{"Array a[i] and [x] and [1 2] stay.", "Array a[i] and [x] and [1 2] stay.", nil},
		{"unclosed [12", "unclosed [12", nil},
		{"trailing space  \n", "trailing space", nil},
		{"[0] none", "none", []int{0}},
	} {
		// Feed one rune at a time: the result must not depend on chunking.
		f := NewFilter(valid)
		var got strings.Builder
		for _, r := range tc.in {
			got.WriteString(f.Push(string(r)))
		}
		got.WriteString(f.Flush())
		whole, inv := Apply(tc.in, valid)
		if got.String() != tc.want || whole != tc.want {
			t.Errorf("%q: streamed %q, whole %q, want %q", tc.in, got.String(), whole, tc.want)
		}
		if !reflect.DeepEqual(inv, tc.invalid) && !(len(inv) == 0 && len(tc.invalid) == 0) {
			t.Errorf("%q: invalid %v, want %v", tc.in, inv, tc.invalid)
		}
	}
}

func TestCitePicksSupportingSentence(t *testing.T) {
	hs := hits("Paris is in France. The Eiffel Tower was completed in 1889. It is 330 metres tall.", "Mars has two moons.")
	hs[0].RuneStart = 100
	blocks := []Block{{Marker: 1, Hit: 0, Text: hs[0].Text}, {Marker: 2, Hit: 1, Text: hs[1].Text}}
	cs := Cite("The tower was completed in 1889 [1]. Mars has two moons [2][1].", blocks, hs)
	if len(cs) < 2 {
		t.Fatalf("citations %+v", cs)
	}
	c := cs[0]
	if c.Marker != 1 || c.Text != "The Eiffel Tower was completed in 1889." {
		t.Fatalf("first citation %+v", c)
	}
	// Offsets are code points into the document: RuneStart + position in chunk.
	if want := 100 + utf8.RuneCountInString("Paris is in France. "); c.Start != want || c.End != want+utf8.RuneCountInString(c.Text) {
		t.Fatalf("offsets %d-%d, want start %d", c.Start, c.End, want)
	}
	if cs[1].Marker != 2 || cs[1].Text != "Mars has two moons." {
		t.Fatalf("second citation %+v", cs[1])
	}
	// Marker first (base style): the statement is the sentence it opens.
	cs = Cite("[1] It was completed in 1889.", blocks, hs)
	if len(cs) != 1 || cs[0].Text != "The Eiffel Tower was completed in 1889." {
		t.Fatalf("marker-first citation %+v", cs)
	}
	// No shared word: the whole chunk is cited.
	cs = Cite("Unrelated claim [2].", blocks, hs)
	if len(cs) != 1 || cs[0].Text != hs[1].Text {
		t.Fatalf("fallback citation %+v", cs)
	}
	if got := Markers("a [1] b [2, 3][4]"); !reflect.DeepEqual(got, []int{1, 2, 3, 4}) {
		t.Fatalf("Markers = %v", got)
	}
}

func FuzzFilter(f *testing.F) {
	f.Add("A [1] b [2, 9] c [x] [")
	f.Fuzz(func(t *testing.T, s string) {
		if !utf8.ValidString(s) {
			return
		}
		valid := map[int]bool{1: true, 2: true}
		out, _ := Apply(s, valid)
		for _, n := range Markers(out) {
			if !valid[n] {
				t.Fatalf("%q kept invalid marker %d: %q", s, n, out)
			}
		}
	})
}

// TestStopsEndEchoedFencing: the instruct prompt's stop sequences end an
// answer where a small model echoes the source fencing or starts another
// answer (it otherwise runs to its token limit), and none of them can
// occur inside a fenced source the model is quoting.
func TestStopsEndEchoedFencing(t *testing.T) {
	p, err := Build("How many moons does Mars have?", nil, []base.Hit{{DocID: "mars", ChunkID: "mars#0", Title: "Mars",
		Text: "Mars has two moons."}}, Budget{}, StyleInstruct)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"</source>", "<source", "\nAnswer:", "\nQuestion:"} {
		if !slices.Contains(p.Stop, want) {
			t.Errorf("stops %q lack %q", p.Stop, want)
		}
	}
}
