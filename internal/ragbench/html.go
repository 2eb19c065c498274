package ragbench

import (
	"fmt"
	"html/template"
	"io"
	"math"
	"os"
	"path/filepath"
	"strings"
)

// HTMLName is the file WriteHTML writes in its folder.
const HTMLName = "rag-report.html"

// WriteHTML writes rep as one self-contained HTML file (no scripts, no
// external resources; plots are inline SVG) into dir, through a temporary
// file renamed into place, and returns its path.
func WriteHTML(dir string, rep *Report) (string, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", err
	}
	f, err := os.CreateTemp(dir, ".rag-report-*.html")
	if err != nil {
		return "", err
	}
	defer os.Remove(f.Name())
	if err := RenderHTML(f, rep); err != nil {
		f.Close()
		return "", err
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return "", err
	}
	if err := f.Close(); err != nil {
		return "", err
	}
	path := filepath.Join(dir, HTMLName)
	return path, os.Rename(f.Name(), path)
}

type plot struct {
	Name  Metric
	Mean  float64
	N     int
	SVG   template.HTML
	Label string
}

// RenderHTML writes the report page.
func RenderHTML(w io.Writer, rep *Report) error {
	var plots []plot
	for _, m := range AllMetrics {
		v, ok := rep.Metrics[m]
		if !ok {
			continue
		}
		var xs []float64
		for _, r := range rep.Results {
			if s, ok := r.Scores[m]; ok && r.Error == "" {
				xs = append(xs, s)
			}
		}
		plots = append(plots, plot{Name: m, Mean: v, N: rep.Counts[m], SVG: histogram(xs)})
	}
	return page.Execute(w, struct {
		R     *Report
		Bars  template.HTML
		Plots []plot
	}{rep, meanBars(rep), plots})
}

// meanBars draws one horizontal bar per metric mean.
func meanBars(rep *Report) template.HTML {
	var ms []Metric
	for _, m := range AllMetrics {
		if _, ok := rep.Metrics[m]; ok {
			ms = append(ms, m)
		}
	}
	const w, left, row = 640, 200, 22
	h := row*len(ms) + 30
	var b strings.Builder
	fmt.Fprintf(&b, `<svg xmlns="http://www.w3.org/2000/svg" width="%d" height="%d" role="img" aria-label="metric means">`, w, h)
	for i, m := range ms {
		v := clamp01(rep.Metrics[m])
		y := i*row + 4
		bw := int(v * float64(w-left-60))
		fmt.Fprintf(&b, `<text x="%d" y="%d" text-anchor="end" font-size="12">%s</text>`, left-6, y+14, template.HTMLEscapeString(string(m)))
		fmt.Fprintf(&b, `<rect x="%d" y="%d" width="%d" height="16" fill="#4a7bd0"/>`, left, y+2, bw)
		fmt.Fprintf(&b, `<text x="%d" y="%d" font-size="12">%.3f</text>`, left+bw+4, y+14, rep.Metrics[m])
	}
	fmt.Fprintf(&b, `<line x1="%d" y1="0" x2="%d" y2="%d" stroke="#888"/>`, left, left, h-24)
	fmt.Fprintf(&b, `<text x="%d" y="%d" font-size="11">0</text><text x="%d" y="%d" font-size="11">1</text></svg>`, left-3, h-8, w-60, h-8)
	return template.HTML(b.String())
}

// histogram draws the distribution of per-question scores in ten bins.
func histogram(xs []float64) template.HTML {
	const bins, w, h = 10, 220, 90
	var c [bins]int
	top := 1
	for _, x := range xs {
		i := min(int(clamp01(x)*bins), bins-1)
		c[i]++
		top = max(top, c[i])
	}
	var b strings.Builder
	fmt.Fprintf(&b, `<svg xmlns="http://www.w3.org/2000/svg" width="%d" height="%d" role="img">`, w, h+16)
	bw := w / bins
	for i, n := range c {
		bh := int(math.Round(float64(n) / float64(top) * h))
		fmt.Fprintf(&b, `<rect x="%d" y="%d" width="%d" height="%d" fill="#6aa84f"><title>[%.1f, %.1f): %d</title></rect>`,
			i*bw+1, h-bh, bw-2, bh, float64(i)/bins, float64(i+1)/bins, n)
	}
	fmt.Fprintf(&b, `<line x1="0" y1="%d" x2="%d" y2="%d" stroke="#888"/>`, h, w, h)
	fmt.Fprintf(&b, `<text x="0" y="%d" font-size="10">0</text><text x="%d" y="%d" font-size="10" text-anchor="end">1</text></svg>`, h+12, w, h+12)
	return template.HTML(b.String())
}

func clamp01(x float64) float64 {
	if !(x > 0) {
		return 0
	}
	return min(x, 1)
}

var page = template.Must(template.New("report").Funcs(template.FuncMap{
	"score": func(s map[Metric]float64, m Metric) string {
		if v, ok := s[m]; ok {
			return fmt.Sprintf("%.2f", v)
		}
		return "–"
	},
	"short": func(s string) string {
		if r := []rune(s); len(r) > 400 {
			return string(r[:400]) + "…"
		}
		return s
	},
	"inc": func(i int) int { return i + 1 },
}).Parse(`<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>Quarry RAG evaluation: {{.R.Dataset}}</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<style>
body{font:14px/1.4 system-ui,sans-serif;margin:24px;color:#222}
h1{font-size:20px}h2{font-size:16px;margin-top:28px}
.grid{display:flex;flex-wrap:wrap;gap:16px}.card{border:1px solid #ddd;border-radius:6px;padding:8px}
table{border-collapse:collapse;width:100%}td,th{border:1px solid #ddd;padding:4px;vertical-align:top;font-size:12px}
th{background:#f4f4f4;position:sticky;top:0}.err{color:#b00}.ctx{color:#555;max-width:420px}
details summary{cursor:pointer}
</style></head><body>
<h1>RAG evaluation: {{.R.Dataset}}</h1>
<p>method <b>{{.R.Method}}</b>{{if .R.Mode}}, mode {{.R.Mode}}{{end}}{{if .R.Model}}, model {{.R.Model}}{{end}}{{if .R.JudgeModel}}, judge {{.R.JudgeModel}}{{end}},
k {{.R.K}}, max sentences {{.R.MaxSentences}}, language {{.R.Lang}};
{{.R.Questions}} questions, {{.R.Errors}} errors, {{.R.JudgeErrors}} judge errors{{if .R.Partial}}, <b class="err">partial run</b>{{end}};
wall {{printf "%.1f" .R.WallSeconds}} s{{if .R.TokensPerSecond}}, {{printf "%.1f" .R.TokensPerSecond}} tokens/s{{end}}.</p>
<h2>Means</h2>
<div id="means">{{.Bars}}</div>
<h2>Latency</h2>
<table style="width:auto"><tr><th>stage</th><th>p50 ms</th><th>p99 ms</th></tr>
{{range $k, $v := .R.Latency}}<tr><td>{{$k}}</td><td>{{printf "%.2f" $v.P50}}</td><td>{{printf "%.2f" $v.P99}}</td></tr>{{end}}</table>
<h2>Distributions</h2>
<div class="grid">{{range .Plots}}<div class="card"><div>{{.Name}}: mean {{printf "%.3f" .Mean}} (n={{.N}})</div>{{.SVG}}</div>{{end}}</div>
<h2>Questions</h2>
<table id="questions"><tr><th>#</th><th>question</th><th>gold</th><th>answer</th><th>citations</th><th>contexts</th>
{{range .Plots}}<th>{{.Name}}</th>{{end}}</tr>
{{range $i, $r := .R.Results}}<tr><td>{{inc $i}}</td><td>{{$r.Question}}</td><td>{{range $r.Golds}}{{.}}<br>{{end}}</td>
<td>{{if $r.Error}}<span class="err">error: {{$r.Error}}</span>{{else}}{{$r.Answer}}{{end}}{{range $r.JudgeErrors}}<div class="err">judge: {{.}}</div>{{end}}</td>
<td>{{range $j, $c := $r.Citations}}<div>[{{inc $j}}] {{$c.DocID}}: {{short $c.Text}}</div>{{end}}</td>
<td class="ctx"><details><summary>{{len $r.Contexts}} contexts</summary>{{range $r.Contexts}}<p><b>{{.DocID}}</b> {{short .Text}}</p>{{end}}</details></td>
{{range $.Plots}}<td>{{score $r.Scores .Name}}</td>{{end}}</tr>
{{end}}</table>
</body></html>
`))
