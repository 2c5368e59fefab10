package status_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/cloudpulse/cloudpulse/helpers/service/status"
	"github.com/cloudpulse/cloudpulse/helpers/service/store"
)

// BenchmarkOverview renders / from a history of 10 000 runs: 2 clouds, 6
// families, 20 operator-sized checks each, a fifth of them failed.
func BenchmarkOverview(b *testing.B) {
	st, err := store.Open(context.Background(), b.TempDir()+"/history.db")
	if err != nil {
		b.Fatal(err)
	}
	defer st.Close()
	ctx := context.Background()
	families := []string{"operator", "endpoint", "functional", "comprehensive", "upgrade", "all"}
	t0 := now.Add(-10000 * time.Minute)
	for i := range 10000 {
		r := store.Run{Cloud: fmt.Sprintf("cloud-%d", i%2), Type: families[i/2%len(families)], State: store.StatePassed,
			Queued: t0.Add(time.Duration(i) * time.Minute), Started: t0.Add(time.Duration(i) * time.Minute),
			Finished: t0.Add(time.Duration(i)*time.Minute + 3*time.Second)}
		for j := range 20 {
			c := store.Check{Name: fmt.Sprintf("check-%d", j), Status: "ok", Seconds: 0.1}
			if i%5 == 0 && j == 3 {
				c.Status, c.Error, r.State = "FAIL", "haproxy controller:/run/haproxy/admin.sock: 1 of 6 backend servers not UP: placement/api-1 MAINT", store.StateFailed
			}
			r.Checks = append(r.Checks, c)
		}
		if err := st.Create(ctx, &r); err != nil {
			b.Fatal(err)
		}
	}
	h := status.Handler(st, status.Options{Now: func() time.Time { return now }})
	b.ResetTimer()
	for b.Loop() {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/", nil))
		if rec.Code != http.StatusOK {
			b.Fatal(rec.Code)
		}
		b.SetBytes(int64(rec.Body.Len()))
	}
}
