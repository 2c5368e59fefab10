package status

import (
	"fmt"
	"time"
)

// The timeline of an upgrade watch: per path a strip over the watch window,
// green where the path was up, red over each gap; server-rendered SVG with a
// table of the gaps as its text form.

// gapMin is the narrowest gap drawn, in pixels: a 200 ms gap in a 6 h
// window still shows.
const gapMin = 2

// window is the timeline's axis for a watch from..to: five ticks.
func window(from, to, now time.Time) *windowView {
	w := &windowView{From: when(from, now), To: when(to, now), Length: formatDuration(to.Sub(from))}
	span := to.Sub(from)
	for i := 0; i <= 4; i++ {
		at := time.Duration(int64(span) * int64(i) / 4)
		w.Ticks = append(w.Ticks, tickView{X: barWidth * i / 4, Label: "+" + formatDuration(at)})
	}
	return w
}

// gaps places pj's gaps on a strip width pixels wide.
func gaps(pj *pathJSON, width int) []gapView {
	span := pj.To.Sub(pj.From)
	x := func(t time.Time) int {
		d := min(max(t.Sub(pj.From), 0), span)
		return int(int64(d) * int64(width) / int64(span))
	}
	out := make([]gapView, 0, len(pj.Gaps))
	for _, g := range pj.Gaps {
		x0, x1 := x(g.Start), x(g.End)
		w := max(x1-x0, gapMin)
		if x0+w > width {
			x0 = max(width-w, 0)
		}
		out = append(out, gapView{X: x0, W: w,
			Start: clock(g.Start), End: clock(g.End), Duration: formatSeconds(g.DurationS),
			StartOffset: offset(g.Start.Sub(pj.From)), EndOffset: offset(g.End.Sub(pj.From)),
			Open: g.Open, Error: g.Error})
	}
	return out
}

func clock(t time.Time) string { return t.UTC().Format("15:04:05.000") }

func offset(d time.Duration) string {
	if d < 0 {
		return "-" + formatDuration(-d)
	}
	return fmt.Sprintf("+%s", formatDuration(d))
}
