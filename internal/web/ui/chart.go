package ui

import (
	"strconv"

	"github.com/zegocloud-console/console/internal/store"
)

// ChartModel is a server-rendered SVG bar chart of tokens issued per day:
// coordinates are computed here so that the template only draws.
type ChartModel struct {
	ID     string // prefix of the element ids (title, desc)
	Title  string
	Desc   string // the chart in one sentence, for screen readers
	Total  int64
	Bars   []ChartBar
	Ticks  []ChartTick  // horizontal grid lines with their value
	Labels []ChartLabel // dates under the bars
}

// ChartBar is one day's bar; Label is its tooltip ("2025-11-28: 3 tokens").
type ChartBar struct{ X, Y, W, H, Label string }

// ChartTick is a grid line at Y showing Value.
type ChartTick struct{ Y, Value string }

// ChartLabel is a date written under the bar at X; Anchor is its SVG
// text-anchor ("middle", or "end" when centring would cross the right edge).
type ChartLabel struct{ X, Text, Anchor string }

// Chart geometry in SVG user units; the SVG scales to its container.
const (
	chartW, chartH             = 720, 200
	chartLeft, chartRight      = 40, 24
	chartTop, chartBottom      = 10, 26
	chartPlotW, chartPlotH     = chartW - chartLeft - chartRight, chartH - chartTop - chartBottom
	chartBaseline          int = chartTop + chartPlotH
	chartLabelHalfW            = 16 // half the width of "28 Nov" at the labels' font size
)

// newChart lays out one bar per day, oldest on the left.
func newChart(id, title string, days []store.DailyCount) ChartModel {
	m := ChartModel{ID: id, Title: title}
	var peak store.DailyCount
	for _, d := range days {
		m.Total += d.Count
		if d.Count > peak.Count {
			peak = d
		}
	}
	top := niceCeil(peak.Count)
	slot := float64(chartPlotW) / float64(max(len(days), 1))
	for i, d := range days {
		h := float64(chartPlotH) * float64(d.Count) / float64(top)
		x := float64(chartLeft) + float64(i)*slot + slot*0.15
		m.Bars = append(m.Bars, ChartBar{X: fnum(x), Y: fnum(float64(chartBaseline) - h), W: fnum(slot * 0.7), H: fnum(h),
			Label: d.Day.Format("Mon 2 Jan") + ": " + plural(d.Count, "token", "tokens")})
		if (len(days)-1-i)%7 == 0 {
			l := ChartLabel{X: fnum(x + slot*0.35), Text: d.Day.Format("2 Jan"), Anchor: "middle"}
			if right := x + slot*0.35 + chartLabelHalfW; right > chartW-4 {
				l.X, l.Anchor = fnum(chartW-4), "end"
			}
			m.Labels = append(m.Labels, l)
		}
	}
	step := top / 2
	if top%2 != 0 {
		step = top / 5 // top is 5: a line per token, not one at 2 of 5
	}
	for v := int64(0); v <= top; v += step {
		m.Ticks = append(m.Ticks, ChartTick{Y: fnum(float64(chartBaseline) - float64(chartPlotH)*float64(v)/float64(top)), Value: i64(v)})
	}
	switch {
	case len(days) == 0:
		m.Desc = "No data."
	case m.Total == 0:
		m.Desc = "No tokens were issued from " + days[0].Day.Format("2 Jan") + " to " + days[len(days)-1].Day.Format("2 Jan 2006") + "."
	default:
		m.Desc = plural(m.Total, "token was", "tokens were") + " issued from " + days[0].Day.Format("2 Jan") + " to " +
			days[len(days)-1].Day.Format("2 Jan 2006") + "; the busiest day was " + peak.Day.Format("2 Jan") +
			" with " + plural(peak.Count, "token", "tokens") + "."
	}
	return m
}

// niceCeil rounds the largest value up to 1, 2 or 5 times a power of ten
// (at least 2), so that the grid lines carry round numbers.
func niceCeil(n int64) int64 {
	for p := int64(1); ; p *= 10 {
		for _, f := range []int64{1, 2, 5} {
			if f*p >= n && f*p >= 2 {
				return f * p
			}
		}
	}
}

func fnum(f float64) string { return strconv.FormatFloat(f, 'f', 1, 64) }

// Coordinates the template needs as strings.
var (
	chartViewBox  = "0 0 " + strconv.Itoa(chartW) + " " + strconv.Itoa(chartH)
	chartAxisX1   = strconv.Itoa(chartLeft)
	chartAxisX2   = strconv.Itoa(chartW - chartRight)
	chartLabelY   = strconv.Itoa(chartBaseline + 16)
	chartTickText = strconv.Itoa(chartLeft - 6)
)
