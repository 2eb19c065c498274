package server_test

import (
	"encoding/json"
	"fmt"
	"log"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"

	"github.com/quarry-rag/quarry"
	"github.com/quarry-rag/quarry/internal/server"
)

func Example() {
	dir, err := os.MkdirTemp("", "quarry-example")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(dir)
	eng, err := quarry.Open(dir, nil)
	if err != nil {
		log.Fatal(err)
	}
	defer eng.Close()
	// In production: server.New(eng, opts).ListenAndServe(ctx, addr).
	ts := httptest.NewServer(server.New(eng, server.Options{}).Handler())
	defer ts.Close()

	post := func(path, body string) map[string]any {
		res, err := http.Post(ts.URL+path, "application/json", strings.NewReader(body))
		if err != nil {
			log.Fatal(err)
		}
		defer res.Body.Close()
		var out map[string]any
		if err := json.NewDecoder(res.Body).Decode(&out); err != nil {
			log.Fatal(err)
		}
		return out
	}
	fmt.Println(post("/v1/collections/rocks/documents", `{"documents":[
		{"id":"granite","text":"Granite is a coarse igneous rock made of quartz and feldspar."},
		{"id":"marble","text":"Marble forms when limestone is metamorphosed."}]}`)["results"])
	res := post("/v1/collections/rocks/search", `{"query":"which rock contains quartz?"}`)
	for _, h := range res["results"].([]any) {
		fmt.Println(h.(map[string]any)["doc_id"])
	}
	fmt.Println(post("/v1/collections/rocks/search", `{"query":"quartz","k":0.5}`)["error"])
	// Output:
	// [map[chunks:1 id:granite status:created version:1] map[chunks:1 id:marble status:created version:1]]
	// granite
	// map[code:invalid_argument field:k message:must be an integer, got number 0.5 (at line 1, column 26 (byte 25))]
}
