package config

import (
	"math"
	"strconv"
	"strings"
	"time"

	"gopkg.in/yaml.v3"
)

// duration parses a Go duration (30m, 2h). With disable, "0" and "-1" are
// accepted (off) and returned as 0 and -1; without it the value must be positive.
func (l *loader) duration(v *yaml.Node, key, fix string, disable bool) (time.Duration, error) {
	s, err := l.str(v, key, fix)
	if err != nil {
		return 0, err
	}
	s = strings.TrimSpace(s)
	if disable && (s == "0" || s == "-1") {
		n, _ := strconv.Atoi(s)
		return time.Duration(n), nil
	}
	if n, err := strconv.Atoi(s); err == nil && n < 0 {
		return 0, l.errAt(v.Line, fix, "%s: %q is negative", key, s)
	}
	d, err := time.ParseDuration(s)
	switch {
	case err != nil:
		return 0, l.errAt(v.Line, fix, "%s: %q is not a duration", key, s)
	case d < 0:
		return 0, l.errAt(v.Line, fix, "%s: %q is negative", key, s)
	case d == 0 && !disable:
		return 0, l.errAt(v.Line, fix, "%s: %q is not positive", key, s)
	}
	return d, nil
}

var sizeUnits = []struct {
	suffix string
	factor int64
}{ // longest suffix first
	{"KiB", 1 << 10}, {"MiB", 1 << 20}, {"GiB", 1 << 30},
	{"KB", 1000}, {"MB", 1000 * 1000}, {"GB", 1000 * 1000 * 1000},
	{"B", 1},
}

// size parses a byte size: 1MiB, 512KiB, 1MB, 1048576.
func (l *loader) size(v *yaml.Node, key string) (int64, error) {
	fix := "write it like 1MiB, 64KiB or a number of bytes"
	s, err := l.str(v, key, fix)
	if err != nil {
		return 0, err
	}
	num, factor := strings.TrimSpace(s), int64(1)
	for _, u := range sizeUnits {
		if strings.HasSuffix(num, u.suffix) {
			num, factor = strings.TrimSpace(strings.TrimSuffix(num, u.suffix)), u.factor
			break
		}
	}
	n, err := strconv.ParseInt(num, 10, 64)
	if err != nil || n <= 0 || n > math.MaxInt64/factor {
		return 0, l.errAt(v.Line, fix, "%s: %q is not a size", key, s)
	}
	return n * factor, nil
}

// percent parses "10%" (or 0) into a fraction, 0–50%.
func (l *loader) percent(v *yaml.Node, key string) (float64, error) {
	fix := "write it like 10%; 0% to 50%"
	s, err := l.str(v, key, fix)
	if err != nil {
		return 0, err
	}
	t := strings.TrimSpace(s)
	if t == "0" {
		return 0, nil
	}
	p, err := strconv.ParseFloat(strings.TrimSpace(strings.TrimSuffix(t, "%")), 64)
	if err != nil || !strings.HasSuffix(t, "%") || math.IsNaN(p) {
		return 0, l.errAt(v.Line, fix, "%s: %q is not a percentage", key, s)
	}
	if p < 0 || p > 50 {
		return 0, l.errAt(v.Line, fix, "%s: %q is outside 0%%–50%%", key, s)
	}
	return p / 100, nil
}
