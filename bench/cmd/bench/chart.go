package main

import (
	"errors"
	"math"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/plotutil"
	"gonum.org/v1/plot/vg"
)

// chartMetric is one group of bars: a figure of each contestant divided
// by the base contestant's.
type chartMetric struct {
	label string
	value func(Summary) float64
}

var chartMetrics = []chartMetric{
	{"CPU/req", func(s Summary) float64 { return float64(s.CPUPerReq) }},
	{"req/s", func(s Summary) float64 { return s.RPS }},
	{"p99", func(s Summary) float64 { return float64(s.P99) }},
}

// ChartData is the ratio matrix: groups (workload × metric) along X, one
// series per contestant other than the base. Missing figures are NaN.
func ChartData(r Report) (groups []string, series []string, ratios [][]float64) {
	sums := Summarize(r.Runs)
	var workloads []string
	for _, w := range r.Workloads {
		n := 0
		for _, c := range r.Contestants {
			if _, ok := find(sums, c, w); ok {
				n++
			}
		}
		if _, ok := find(sums, r.Base, w); ok && n > 1 {
			workloads = append(workloads, w)
		}
	}
	for _, c := range r.Contestants {
		if c != r.Base {
			series = append(series, c)
		}
	}
	for _, w := range workloads {
		for _, m := range chartMetrics {
			groups = append(groups, w+" "+m.label)
		}
	}
	for _, c := range series {
		row := make([]float64, 0, len(groups))
		for _, w := range workloads {
			base, _ := find(sums, r.Base, w)
			s, ok := find(sums, c, w)
			for _, m := range chartMetrics {
				if !ok {
					row = append(row, math.NaN())
					continue
				}
				row = append(row, Ratio(m.value(s), m.value(base)))
			}
		}
		ratios = append(ratios, row)
	}
	return groups, series, ratios
}

// Chart draws the ratios to the base contestant as grouped bars.
func Chart(r Report, file string) error {
	groups, series, ratios := ChartData(r)
	if len(groups) == 0 || len(series) == 0 {
		return errors.New("nothing to compare")
	}
	p := plot.New()
	p.Title.Text = "Ratio to " + r.Base + " (dashed line: " + r.Base + " = 1)"
	p.X.Label.Text = "CPU/req and p99: lower is better; req/s: higher is better"
	p.Y.Label.Text = "ratio to " + r.Base
	p.Y.Min = 0
	w := vg.Points(10)
	n := len(series)
	for i, c := range series {
		vals := make(plotter.Values, len(groups))
		for j, v := range ratios[i] {
			if !math.IsNaN(v) {
				vals[j] = v
			}
		}
		bars, err := plotter.NewBarChart(vals, w)
		if err != nil {
			return err
		}
		bars.LineStyle.Width = 0
		bars.Color = plotutil.Color(i)
		bars.Offset = w * vg.Length(float64(i)-float64(n-1)/2)
		p.Add(bars)
		p.Legend.Add(c, bars)
	}
	one := plotter.NewFunction(func(float64) float64 { return 1 })
	one.Dashes = []vg.Length{vg.Points(4), vg.Points(3)}
	one.Width = vg.Points(1)
	p.Add(one)
	p.Legend.Top = true
	p.NominalX(groups...)
	p.X.Tick.Label.Rotation = math.Pi / 6
	p.X.Tick.Label.XAlign = -0.8
	p.X.Tick.Label.YAlign = -0.8
	p.Add(plotter.NewGrid())
	width := vg.Length(len(groups))*(w*vg.Length(n)+vg.Points(24)) + vg.Points(120)
	return p.Save(max(width, 7*vg.Inch), 4.5*vg.Inch, file)
}
