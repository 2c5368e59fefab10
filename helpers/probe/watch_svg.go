package probe

import (
	"bytes"
	"encoding/xml"
	"fmt"
	"io"
	"strconv"
	"time"
)

// Geometry of the timeline picture, in pixels.
const (
	svgWidth   = 1100
	svgLabelW  = 380 // the left column: path name and its numbers
	svgRight   = 20
	svgTop     = 44 // below the title
	svgRowH    = 40
	svgBarH    = 18
	svgAxisH   = 36
	svgUpColor = "#2e9e44"
	svgDownCol = "#d7263d"
)

// WriteSVG draws the report as a standalone SVG picture: one timeline per path (green up, red down; hover an
// outage for its times and first error), its total downtime and longest gap beside it (red when over the
// threshold), and an axis in seconds from the start of the watch.
func (r WatchReport) WriteSVG(w io.Writer) error {
	span := r.Ended.Sub(r.Started)
	if span <= 0 {
		span = time.Millisecond
	}
	plotW := float64(svgWidth - svgLabelW - svgRight)
	x := func(t time.Time) float64 {
		return svgLabelW + plotW*float64(t.Sub(r.Started))/float64(span)
	}
	height := svgTop + svgRowH*len(r.Paths) + svgAxisH

	var b bytes.Buffer
	fmt.Fprintf(&b, `<svg xmlns="http://www.w3.org/2000/svg" width="%d" height="%d" viewBox="0 0 %d %d" font-family="sans-serif" font-size="12">`+"\n",
		svgWidth, height, svgWidth, height)
	fmt.Fprintf(&b, `<rect width="%d" height="%d" fill="white"/>`+"\n", svgWidth, height)
	fmt.Fprintf(&b, `<text x="10" y="20" font-size="14" font-weight="bold">%s</text>`+"\n",
		svgEscape(fmt.Sprintf("Data-plane downtime: %s to %s UTC (%s, a probe every %s per path)",
			r.Started.UTC().Format("2006-01-02 15:04:05"), r.Ended.UTC().Format("15:04:05"), watchSeconds(span), r.Interval)))

	for i, p := range r.Paths {
		top := float64(svgTop + i*svgRowH)
		fmt.Fprintf(&b, `<g class="path"><title>%s</title>`+"\n", svgEscape(p.Name))
		fmt.Fprintf(&b, `<text x="10" y="%.1f" font-weight="bold">%s</text>`+"\n", top+12, svgEscape(p.Name))
		color := "#444"
		if p.Exceeded() {
			color = svgDownCol
		}
		fmt.Fprintf(&b, `<text x="10" y="%.1f" fill="%s" font-size="11">%s</text>`+"\n", top+28, color, svgEscape(pathSummary(p)))
		fmt.Fprintf(&b, `<rect class="up" x="%.1f" y="%.1f" width="%.1f" height="%d" fill="%s"/>`+"\n",
			float64(svgLabelW), top+2, plotW, svgBarH, svgUpColor)
		for _, o := range p.Outages {
			x0, x1 := x(o.Start), x(o.End)
			tip := fmt.Sprintf("down %s, from %s to %s: %s", watchSeconds(o.Duration), watchOffset(o.Start.Sub(r.Started)),
				watchOffset(o.End.Sub(r.Started)), o.Error)
			if o.Open {
				tip += " (still down at the end)"
			}
			fmt.Fprintf(&b, `<rect class="down" x="%.1f" y="%.1f" width="%.1f" height="%d" fill="%s"><title>%s</title></rect>`+"\n",
				x0, top+2, max(x1-x0, 1), svgBarH, svgDownCol, svgEscape(tip))
		}
		b.WriteString("</g>\n")
	}

	axisY := float64(svgTop + svgRowH*len(r.Paths) + 4)
	fmt.Fprintf(&b, `<line x1="%d" y1="%.1f" x2="%.1f" y2="%.1f" stroke="#444"/>`+"\n", svgLabelW, axisY, svgLabelW+plotW, axisY)
	step := axisStep(span)
	for t := time.Duration(0); t <= span; t += step {
		tx := svgLabelW + plotW*float64(t)/float64(span)
		fmt.Fprintf(&b, `<line x1="%.1f" y1="%.1f" x2="%.1f" y2="%.1f" stroke="#444"/>`+"\n", tx, axisY, tx, axisY+5)
		fmt.Fprintf(&b, `<text x="%.1f" y="%.1f" text-anchor="middle">%ss</text>`+"\n", tx, axisY+18,
			strconv.FormatFloat(t.Seconds(), 'f', -1, 64))
	}
	b.WriteString("</svg>\n")
	_, err := w.Write(b.Bytes())
	if err != nil {
		return fmt.Errorf("write downtime timeline: %w", err)
	}
	return nil
}

// pathSummary is the line under a path's name.
func pathSummary(p PathReport) string {
	s := fmt.Sprintf("down %s, longest %s, %s", watchSeconds(p.Downtime), watchSeconds(p.LongestGap), outageCount(len(p.Outages)))
	if p.Threshold > 0 {
		s += fmt.Sprintf(" (threshold %s)", p.Threshold)
	}
	return s
}

// axisStep is a round step that puts 5 to 12 ticks on the axis.
func axisStep(span time.Duration) time.Duration {
	for _, s := range []time.Duration{
		100 * time.Millisecond, 200 * time.Millisecond, 500 * time.Millisecond,
		time.Second, 2 * time.Second, 5 * time.Second, 10 * time.Second, 15 * time.Second, 30 * time.Second,
		time.Minute, 2 * time.Minute, 5 * time.Minute, 10 * time.Minute, 15 * time.Minute, 30 * time.Minute,
	} {
		if span/s <= 12 {
			return s
		}
	}
	return time.Hour
}

func watchSeconds(d time.Duration) string { return d.Round(time.Millisecond).String() }

func watchOffset(d time.Duration) string {
	return strconv.FormatFloat(d.Round(time.Millisecond).Seconds(), 'f', -1, 64) + "s"
}

func svgEscape(s string) string {
	var b bytes.Buffer
	_ = xml.EscapeText(&b, []byte(s))
	return b.String()
}
