package probe

import (
	"context"
	"errors"
	"os"
	"strings"
	"testing"
	"time"
)

func needRawICMP(t *testing.T) {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("raw ICMP needs root (or CAP_NET_RAW)")
	}
}

func TestPingLoopback(t *testing.T) {
	needRawICMP(t)
	ctx, cancel := context.WithTimeout(t.Context(), 5*time.Second)
	defer cancel()

	if err := Ping(ctx, "127.0.0.1"); err != nil {
		t.Fatalf("Ping: %v", err)
	}
}

func TestPingCountLoopback(t *testing.T) {
	needRawICMP(t)
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	defer cancel()

	res, err := PingCount(ctx, "127.0.0.1", 3)
	if err != nil {
		t.Fatalf("PingCount: %v", err)
	}
	if res.Sent != 3 || res.Received != 3 || res.Loss() != 0 || len(res.RTTs) != 3 {
		t.Fatalf("result %+v, want 3 sent, 3 received, 3 RTTs", res)
	}
	if res.Min <= 0 || res.Min > res.Max || res.Avg < res.Min || res.Avg > res.Max {
		t.Fatalf("RTTs inconsistent: min %s avg %s max %s", res.Min, res.Avg, res.Max)
	}
}

func TestPingRefusesNames(t *testing.T) {
	err := Ping(t.Context(), "example.invalid")
	if err == nil || !strings.Contains(err.Error(), "not an IP address") {
		t.Fatalf("err = %v, want a refusal to resolve names", err)
	}
	if _, err := PingCount(t.Context(), "127.0.0.1", 0); err == nil {
		t.Fatal("PingCount accepted count 0")
	}
}

func TestPingEndedContext(t *testing.T) {
	ctx, cancel := context.WithCancel(t.Context())
	cancel()

	err := Ping(ctx, "127.0.0.1")
	if !errors.Is(err, context.Canceled) || !strings.Contains(err.Error(), "ping 127.0.0.1") {
		t.Fatalf("err = %v, want one naming 127.0.0.1 and wrapping context.Canceled", err)
	}
}

func TestPingResultLoss(t *testing.T) {
	for _, tc := range []struct {
		res  PingResult
		want float64
	}{
		{PingResult{Sent: 4, Received: 3}, 0.25},
		{PingResult{Sent: 2, Received: 2}, 0},
		{PingResult{}, 1},
	} {
		if got := tc.res.Loss(); got != tc.want {
			t.Errorf("%+v.Loss() = %v, want %v", tc.res, got, tc.want)
		}
	}
}
