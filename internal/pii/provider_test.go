package pii_test

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"testing"

	"github.com/quarry-rag/quarry/internal/pii"
)

// TestThirdPartyProviderSeesNoPII: a loopback server stands in for a
// third-party LLM provider (it answers by echoing the placeholders it
// received, as a model quoting its sources does). With question and
// sources redacted into one Map, the request body holds none of the
// values, and the restored answer holds all of them and no placeholder.
func TestThirdPartyProviderSeesNoPII(t *testing.T) {
	values := []string{"anna.schmidt@example.de", "+49 30 12345678", "DE89 3704 0044 0532 0130 00", "4111 1111 1111 1111", "86 095 742 719", "192.168.4.20"}
	sources := []string{
		"Kontakt: anna.schmidt@example.de, Telefon +49 30 12345678.",
		"Gehalt an DE89 3704 0044 0532 0130 00; Firmenkarte 4111 1111 1111 1111.",
		"Steuer-ID 86 095 742 719, VPN-Adresse 192.168.4.20.",
	}
	question := "Wie erreiche ich anna.schmidt@example.de und was ist ihre Steuer-ID?"

	var body string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		body = string(b)
		var req struct{ Prompt string }
		json.Unmarshal(b, &req)
		// the "model" quotes every placeholder it saw, in a mangled form
		phs := regexp.MustCompile(`<([A-Z_]+)_(\d+)>`).FindAllStringSubmatch(req.Prompt, -1)
		var parts []string
		for _, p := range phs {
			parts = append(parts, "["+strings.ToLower(p[1])+"_"+p[2]+"]")
		}
		json.NewEncoder(w).Encode(map[string]string{"answer": "Laut Quellen: " + strings.Join(parts, ", ") + "."})
	}))
	defer srv.Close()

	r := pii.NewRedactor(nil)
	m := pii.NewMap()
	prompt := "Frage: " + r.RedactWith(question, m) + "\n"
	for _, s := range sources {
		prompt += r.RedactWith(s, m) + "\n"
	}
	reqBody, _ := json.Marshal(map[string]string{"prompt": prompt})
	resp, err := http.Post(srv.URL, "application/json", strings.NewReader(string(reqBody)))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var out struct{ Answer string }
	if err := json.NewDecoder(resp.Body).Decode(&out); err != nil {
		t.Fatal(err)
	}
	for _, v := range values {
		compact := strings.ReplaceAll(v, " ", "")
		if strings.Contains(body, v) || strings.Contains(strings.ReplaceAll(body, " ", ""), compact) {
			t.Errorf("provider received %q", v)
		}
	}
	answer := m.Restore(out.Answer)
	for _, v := range values {
		if !strings.Contains(answer, v) {
			t.Errorf("restored answer lacks %q: %s", v, answer)
		}
	}
	if regexp.MustCompile(`(?i)(EMAIL|PHONE|IBAN|CARD|DE_TAX_ID|IP)_\d`).MatchString(answer) {
		t.Errorf("placeholder left in %s", answer)
	}
}
