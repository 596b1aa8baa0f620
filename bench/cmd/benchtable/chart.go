package main

import (
	"fmt"
	"html"
	"io"
	"math"
	"strings"
)

// Chart geometry, in SVG user units.
const (
	chartWidth  = 760
	labelWidth  = 190 // client names, right-aligned before the bars
	barsWidth   = 480
	barHeight   = 14
	barGap      = 4
	groupGap    = 14
	headerSpace = 46
)

var clientColors = map[string]string{
	"respwire":             "#d9480f",
	"rueidis":              "#1c7ed6",
	"goredis":              "#2f9e44",
	"goredis-autopipeline": "#94d82d",
	// a peer's variants in lighter shades of its colour
	"rueidis-flush20us":          "#74c0fc",
	"rueidis-mux4":               "#a5d8ff",
	"goredis-autopipeline-tuned": "#c0eb75",
}

// writeChart draws every measured row's "vs best peer" ratio as a
// horizontal bar, grouped by workload, with a line at 1 (the best peer).
func writeChart(w io.Writer, sum summary) error {
	scale := 1.5
	for _, r := range sum.rows {
		scale = max(scale, r.vsBestPeer)
	}
	scale = math.Ceil(scale*2) / 2 // a round number of halves
	x := func(ratio float64) float64 { return labelWidth + barsWidth*ratio/scale }

	var body strings.Builder
	y := headerSpace
	for _, workload := range sum.workloads() {
		fmt.Fprintf(&body, `<text x="8" y="%d" font-weight="bold">%s</text>`+"\n", y+barHeight-3, html.EscapeString(workload))
		y += barHeight + barGap
		for _, r := range sum.rows {
			if r.workload != workload || r.vsBestPeer == 0 {
				continue
			}
			color, ok := clientColors[r.client]
			if !ok {
				color = "#868e96"
			}
			fmt.Fprintf(&body, `<text x="%d" y="%d" text-anchor="end">%s</text>`+"\n", labelWidth-6, y+barHeight-3, html.EscapeString(r.client))
			fmt.Fprintf(&body, `<rect x="%d" y="%d" width="%.1f" height="%d" fill="%s"/>`+"\n", labelWidth, y, x(r.vsBestPeer)-labelWidth, barHeight, color)
			fmt.Fprintf(&body, `<text x="%.1f" y="%d">%.2f×</text>`+"\n", x(r.vsBestPeer)+4, y+barHeight-3, r.vsBestPeer)
			y += barHeight + barGap
		}
		y += groupGap
	}
	height := y + 10

	var svg strings.Builder
	fmt.Fprintf(&svg, `<svg xmlns="http://www.w3.org/2000/svg" width="%d" height="%d" viewBox="0 0 %d %d" font-family="sans-serif" font-size="12">`+"\n",
		chartWidth, height, chartWidth, height)
	fmt.Fprintf(&svg, `<rect width="100%%" height="100%%" fill="white"/>`+"\n")
	fmt.Fprintf(&svg, `<text x="8" y="18" font-size="14" font-weight="bold">ops/s relative to the fastest peer (higher is better)</text>`+"\n")
	for tick := 0.0; tick <= scale+1e-9; tick += 0.5 {
		stroke := `stroke="#dee2e6"`
		if tick == 1 {
			stroke = `stroke="#495057" stroke-width="1.5"`
		}
		fmt.Fprintf(&svg, `<line x1="%.1f" y1="%d" x2="%.1f" y2="%d" %s/>`+"\n", x(tick), headerSpace-8, x(tick), height-10, stroke)
		fmt.Fprintf(&svg, `<text x="%.1f" y="%d" text-anchor="middle" fill="#495057">%.1f×</text>`+"\n", x(tick), headerSpace-12, tick)
	}
	svg.WriteString(body.String())
	svg.WriteString("</svg>\n")
	_, err := io.WriteString(w, svg.String())
	return err
}
