package text

import (
	"slices"
	"testing"
)

func TestCountTokens(t *testing.T) {
	tests := []struct {
		in    string
		want  int
		spans []string
	}{
		{"", 0, nil},
		{"  ...  !!", 0, nil},
		{"Hello, world!", 2, []string{"Hello", "world"}},
		{"don't stop 3.14 U.S.A", 4, []string{"don't", "stop", "3.14", "U.S.A"}},
		{"e-mail", 2, []string{"e", "mail"}},
		{"日本語", 3, []string{"日", "本", "語"}},
		{"東京タワー", 5, []string{"東", "京", "タ", "ワ", "ー"}},
		{"한국어 텍스트", 6, []string{"한", "국", "어", "텍", "스", "트"}},
		{"iPhone발표 ok", 4, []string{"iPhone", "발", "표", "ok"}},
		{"हिंदी भाषा", 2, []string{"हिंदी", "भाषा"}},
		{"Привет, мир", 2, []string{"Привет", "мир"}},
		{"👍 🐶", 0, nil},
		{"½ ①", 2, []string{"½", "①"}},
	}
	for _, tt := range tests {
		if got := CountTokens(tt.in); got != tt.want {
			t.Errorf("CountTokens(%q) = %d, want %d", tt.in, got, tt.want)
		}
		var spans []string
		for sp := range TokensSeq(tt.in) {
			spans = append(spans, tt.in[sp.Start:sp.End])
		}
		if len(spans) != tt.want || (tt.spans != nil && !slices.Equal(spans, tt.spans)) {
			t.Errorf("TokensSeq(%q) = %q, want %q", tt.in, spans, tt.spans)
		}
	}
}

func BenchmarkCountTokens(b *testing.B) {
	b.SetBytes(int64(len(englishSample)))
	for b.Loop() {
		CountTokens(englishSample)
	}
}

func TestCountTokensThaiWords(t *testing.T) {
	tests := []struct {
		in   string
		want []string
	}{
		{"ภาษาไทยเป็นภาษาที่สวยงาม", []string{"ภาษาไทย", "เป็น", "ภาษา", "ที่", "สวยงาม"}},
		{"ไทย 2020 ลาวດີ", []string{"ไทย", "2020", "ลาว", "ດີ"}},
		{"ភាសាខ្មែរ", []string{"ភា", "សា", "ខ្", "មែ", "រ"}}, // no dictionary: UAX #29 segments, as before
	}
	for _, tt := range tests {
		var got []string
		for sp := range TokensSeq(tt.in) {
			got = append(got, tt.in[sp.Start:sp.End])
		}
		if !slices.Equal(got, tt.want) || CountTokens(tt.in) != len(tt.want) {
			t.Errorf("TokensSeq(%q) = %q (CountTokens %d), want %q", tt.in, got, CountTokens(tt.in), tt.want)
		}
	}
}
