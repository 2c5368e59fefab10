package probe

import (
	"bytes"
	"encoding/json"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"reflect"
	"strings"
	"testing"
)

// The picture is well-formed standalone SVG: one row per path, one red bar per outage, escaped text.
func TestWatchSVG(t *testing.T) {
	r := sampleReport()
	var b bytes.Buffer
	if err := r.WriteSVG(&b); err != nil {
		t.Fatal(err)
	}

	dec := xml.NewDecoder(bytes.NewReader(b.Bytes()))
	var root string
	var down, rows int
	var texts []string
	var inText bool
	for {
		tok, err := dec.Token()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatalf("not well-formed XML: %v\n%s", err, b.String())
		}
		switch tok := tok.(type) {
		case xml.StartElement:
			if root == "" {
				root = tok.Name.Space + " " + tok.Name.Local
			}
			inText = tok.Name.Local == "text" || tok.Name.Local == "title"
			for _, a := range tok.Attr {
				if a.Name.Local == "class" && a.Value == "down" {
					down++
				}
				if a.Name.Local == "class" && a.Value == "path" {
					rows++
				}
			}
		case xml.CharData:
			if inText {
				texts = append(texts, string(tok))
			}
		case xml.EndElement:
			inText = false
		}
	}
	if root != "http://www.w3.org/2000/svg svg" {
		t.Fatalf("root element %q, want svg in the SVG namespace", root)
	}
	if rows != 2 || down != 2 {
		t.Fatalf("%d rows and %d outage bars, want 2 and 2", rows, down)
	}
	all := strings.Join(texts, "\n")
	for _, want := range []string{
		"Data-plane downtime: 2026-12-02 17:00:00 to 17:00:03 UTC (3s, a probe every 200ms per path)",
		"http/vm-1",
		"down 800ms, longest 800ms, 1 outage (threshold 5s)",
		"east-west/vm-1→vm-2",
		"down 200ms, longest 200ms, 1 outage",
		`down 800ms, from 1s to 1.8s: http GET http://172.24.4.10/?a=1&b=<2>: status 503, body "down"`,
		"down 200ms, from 2.8s to 3s: exit status 1 (still down at the end)",
		"0s", "1.5s", "3s",
	} {
		if !strings.Contains(all, want) {
			t.Errorf("no text %q in the picture; texts:\n%s", want, all)
		}
	}
}

// The JSON gives durations in seconds under _s keys, and reads back.
func TestWatchJSON(t *testing.T) {
	r := sampleReport()
	data, err := json.Marshal(r)
	if err != nil {
		t.Fatal(err)
	}
	var shape map[string]any
	if err := json.Unmarshal(data, &shape); err != nil {
		t.Fatal(err)
	}
	path := shape["paths"].([]any)[0].(map[string]any)
	outage := path["outages"].([]any)[0].(map[string]any)
	sample := path["samples"].([]any)[0].(map[string]any)
	for _, c := range []struct {
		what string
		got  any
		want any
	}{
		{"started", shape["started"], "2026-12-02T17:00:00Z"},
		{"duration_s", shape["duration_s"], 3.0},
		{"interval_s", shape["interval_s"], 0.2},
		{"name", path["name"], "http/vm-1"},
		{"probes", path["probes"], 15.0},
		{"failed", path["failed"], 4.0},
		{"inconclusive", path["inconclusive"], 0.0},
		{"downtime_s", path["downtime_s"], 0.8},
		{"longest_gap_s", path["longest_gap_s"], 0.8},
		{"threshold_s", path["threshold_s"], 5.0},
		{"exceeded", path["exceeded"], false},
		{"outage start", outage["start"], "2026-12-02T17:00:01Z"},
		{"outage start_s", outage["start_s"], 1.0},
		{"outage end_s", outage["end_s"], 1.8},
		{"outage duration_s", outage["duration_s"], 0.8},
		{"outage open", outage["open"], false},
		{"sample t_s", sample["t_s"], 0.0},
		{"sample ok", sample["ok"], true},
		{"sample latency_s", sample["latency_s"], 0.001234},
	} {
		if !reflect.DeepEqual(c.got, c.want) {
			t.Errorf("%s = %#v, want %#v", c.what, c.got, c.want)
		}
	}
	if len(shape) != 5 || len(path) != 10 || len(outage) != 7 || len(sample) != 3 {
		t.Errorf("unexpected keys:\n%s", data)
	}

	var back WatchReport
	if err := json.Unmarshal(data, &back); err != nil {
		t.Fatal(err)
	}
	if fmt.Sprintf("%+v", back) != fmt.Sprintf("%+v", r) {
		t.Fatalf("read back\n%+v\nwant\n%+v", back, r)
	}
}
