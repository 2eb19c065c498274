package drift

import "github.com/prometheus/client_golang/prometheus"

// Gauges export the last report of each collection to Prometheus:
//
//	quarry_drift_statistic{collection,stat}  MMD², PSI or the rate difference
//	quarry_drift_p_value{collection,stat}    the test's p-value (1 when not run)
//	quarry_drift_alarm{collection,stat}      1 drift, 0 stable, -1 too few samples
//	quarry_drift_samples{collection,stat,side} samples on each side
type Gauges struct {
	stat, p, alarm, n *prometheus.GaugeVec
}

// NewGauges creates the gauges and registers them with reg when it is not
// nil.
func NewGauges(reg prometheus.Registerer) *Gauges {
	g := &Gauges{
		stat: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "quarry_drift_statistic",
			Help: "Drift test statistic of the last report: MMD² for query embeddings, PSI for top-1 scores, current minus baseline for rates.",
		}, []string{"collection", "stat"}),
		p: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "quarry_drift_p_value",
			Help: "p-value of the last drift test (1 when it did not run).",
		}, []string{"collection", "stat"}),
		alarm: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "quarry_drift_alarm",
			Help: "Verdict of the last drift test: 1 drift, 0 stable, -1 too few samples.",
		}, []string{"collection", "stat"}),
		n: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "quarry_drift_samples",
			Help: "Samples behind the last drift test, by side (baseline, current).",
		}, []string{"collection", "stat", "side"}),
	}
	if reg != nil {
		reg.MustRegister(g.stat, g.p, g.alarm, g.n)
	}
	return g
}

// Set records rep as collection c's latest report.
func (g *Gauges) Set(c string, rep *Report) {
	for _, r := range rep.Results {
		s := string(r.Stat)
		g.stat.WithLabelValues(c, s).Set(r.Statistic)
		g.p.WithLabelValues(c, s).Set(r.PValue)
		a := -1.0
		switch r.Verdict {
		case Stable:
			a = 0
		case Drift:
			a = 1
		}
		g.alarm.WithLabelValues(c, s).Set(a)
		g.n.WithLabelValues(c, s, "baseline").Set(float64(r.Baseline))
		g.n.WithLabelValues(c, s, "current").Set(float64(r.Current))
	}
}
