package ui

import (
	"context"
	"strconv"
	"time"

	"github.com/zegocloud-console/console/internal/store"
	"github.com/zegocloud-console/console/internal/web/ui/i18n"
)

// ChartModel is a server-rendered SVG bar chart of tokens issued per day:
// coordinates are computed here so that the template only draws, and the
// words and dates are written in the page's language when it draws.
type ChartModel struct {
	ID     string // prefix of the element ids (title, desc)
	Title  string // in the page's language
	Total  int64
	Bars   []ChartBar
	Ticks  []ChartTick  // horizontal grid lines with their value
	Labels []ChartLabel // dates under the bars
	days   []store.DailyCount
	peak   store.DailyCount // the busiest day (the first of equals)
}

// ChartBar is one day's bar, with the day and its count for the tooltip.
type ChartBar struct {
	X, Y, W, H string
	Day        time.Time
	Count      int64
}

// ChartTick is a grid line at Y showing Value.
type ChartTick struct{ Y, Value string }

// ChartLabel is a date written under the bar at X; Anchor is its SVG
// text-anchor ("middle", or "end" when centring would cross the right edge).
type ChartLabel struct {
	X, Anchor string
	Day       time.Time
}

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
	m := ChartModel{ID: id, Title: title, days: days}
	for _, d := range days {
		m.Total += d.Count
		if d.Count > m.peak.Count {
			m.peak = d
		}
	}
	top := niceCeil(m.peak.Count)
	slot := float64(chartPlotW) / float64(max(len(days), 1))
	for i, d := range days {
		h := float64(chartPlotH) * float64(d.Count) / float64(top)
		x := float64(chartLeft) + float64(i)*slot + slot*0.15
		m.Bars = append(m.Bars, ChartBar{X: fnum(x), Y: fnum(float64(chartBaseline) - h), W: fnum(slot * 0.7), H: fnum(h),
			Day: d.Day, Count: d.Count})
		if (len(days)-1-i)%7 == 0 {
			l := ChartLabel{X: fnum(x + slot*0.35), Day: d.Day, Anchor: "middle"}
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
	return m
}

// Desc is the chart in one sentence, for screen readers, in the page's
// language: "12 tokens were issued from 2 Nov to 1 Dec 2026; the busiest
// day was 28 Nov with 5 tokens."
func (m ChartModel) Desc(ctx context.Context) string {
	if len(m.days) == 0 {
		return t(ctx, "No data.")
	}
	from, to := dayText(ctx, m.days[0].Day, dayShort), dayText(ctx, m.days[len(m.days)-1].Day, dayWithYear)
	if m.Total == 0 {
		return t(ctx, "No tokens were issued from {{.From}} to {{.To}}.", "From", from, "To", to)
	}
	return tn(ctx, "{{.Count}} tokens were issued from {{.From}} to {{.To}}; the busiest day was {{.Peak}} with {{.Busiest}}.", m.Total,
		"From", from, "To", to, "Peak", dayText(ctx, m.peak.Day, dayShort), "Busiest", tn(ctx, "{{.Count}} tokens", m.peak.Count))
}

// Label is a bar's tooltip: "Mon 28 Nov: 3 tokens".
func (b ChartBar) Label(ctx context.Context) string {
	return tn(ctx, "{{.Day}}: {{.Count}} tokens", b.Count, "Day", dayText(ctx, b.Day, dayWithWeekday))
}

// Text is the date under a bar: "28 Nov", or "11月28日" in Chinese.
func (l ChartLabel) Text(ctx context.Context) string { return dayText(ctx, l.Day, dayShort) }

// How dayText writes a day.
const (
	dayShort       = iota // 28 Nov · 11月28日
	dayWithWeekday        // Fri 28 Nov · 11月28日 周五
	dayWithYear           // 28 Nov 2025 · 2025年11月28日
)

// chineseWeekdays are the days of the week as Chinese dates name them.
var chineseWeekdays = [...]string{"周日", "周一", "周二", "周三", "周四", "周五", "周六"}

// dayText writes a day the way the page's language does.
func dayText(ctx context.Context, d time.Time, form int) string {
	if i18n.From(ctx).Tag == i18n.Chinese {
		switch form {
		case dayWithWeekday:
			return d.Format("1月2日 ") + chineseWeekdays[d.Weekday()]
		case dayWithYear:
			return d.Format("2006年1月2日")
		default:
			return d.Format("1月2日")
		}
	}
	switch form {
	case dayWithWeekday:
		return d.Format("Mon 2 Jan")
	case dayWithYear:
		return d.Format("2 Jan 2006")
	default:
		return d.Format("2 Jan")
	}
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
