package main

import (
	"errors"
	"math"
	"strconv"

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

// Chart draws the ratios to the base contestant as grouped bars on a log
// scale (a ratio of 0.1 is as far from 1 as one of 10).
func Chart(r Report, file string) error {
	groups, series, ratios := ChartData(r)
	if len(groups) == 0 || len(series) == 0 {
		return errors.New("nothing to compare")
	}
	lo, hi := 1.0, 1.0
	for _, row := range ratios {
		for _, v := range row {
			if !math.IsNaN(v) && v > 0 {
				lo, hi = math.Min(lo, v), math.Max(hi, v)
			}
		}
	}
	lo, hi = lo/1.5, hi*1.5
	p := plot.New()
	p.Title.Text = "Ratio to " + r.Base + " (log scale; dashed line: " + r.Base + " = 1)"
	p.X.Label.Text = "CPU/req and p99: lower is better; req/s: higher is better"
	p.Y.Label.Text = "ratio to " + r.Base
	p.Y.Scale = plot.LogScale{}
	p.Y.Min, p.Y.Max = lo, hi
	var ticks []plot.Tick
	for _, t := range []float64{0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1, 2, 5, 10, 20, 50, 100} {
		if t >= lo && t <= hi {
			ticks = append(ticks, plot.Tick{Value: t, Label: strconv.FormatFloat(t, 'g', -1, 64) + "x"})
		}
	}
	p.Y.Tick.Marker = plot.ConstantTicks(ticks)
	p.Add(plotter.NewGrid())
	n := len(series)
	w := 0.8 / float64(n)
	for i, c := range series {
		var first *plotter.Polygon
		for j, v := range ratios[i] {
			if math.IsNaN(v) || v <= 0 {
				continue
			}
			x0 := float64(j) - 0.4 + float64(i)*w
			poly, err := plotter.NewPolygon(plotter.XYs{{X: x0, Y: lo}, {X: x0 + w, Y: lo}, {X: x0 + w, Y: v}, {X: x0, Y: v}})
			if err != nil {
				return err
			}
			poly.Color = plotutil.Color(i)
			poly.LineStyle.Width = 0
			p.Add(poly)
			if first == nil {
				first = poly
			}
		}
		if first != nil {
			p.Legend.Add(c, first)
		}
	}
	one := plotter.NewFunction(func(float64) float64 { return 1 })
	one.Dashes = []vg.Length{vg.Points(4), vg.Points(3)}
	one.Width = vg.Points(1)
	p.Add(one)
	p.Legend.Top = true
	p.Legend.Left = true
	p.NominalX(groups...)
	p.X.Min, p.X.Max = -0.6, float64(len(groups))-0.4
	p.X.Tick.Label.Rotation = math.Pi / 6
	p.X.Tick.Label.XAlign = -0.8
	p.X.Tick.Label.YAlign = -0.8
	width := vg.Length(len(groups))*vg.Points(72) + vg.Points(120)
	return p.Save(max(width, 7*vg.Inch), 4.5*vg.Inch, file)
}
