package status_test

import (
	"context"
	"fmt"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"

	"github.com/cloudpulse/cloudpulse/helpers/service/status"
	"github.com/cloudpulse/cloudpulse/helpers/service/store"
)

func Example() {
	ctx := context.Background()
	dir, _ := os.MkdirTemp("", "status-example")
	defer os.RemoveAll(dir)
	st, err := store.Open(ctx, filepath.Join(dir, "history.db"))
	if err != nil {
		fmt.Println(err)
		return
	}
	defer st.Close()
	_ = st.Create(ctx, &store.Run{Cloud: "lab-admin", Type: "operator", State: store.StateFailed,
		Checks: []store.Check{{Name: "pacemaker", Status: "FAIL", Error: "resource cp-dummy is Stopped"}}})

	rec := httptest.NewRecorder()
	status.Handler(st, status.Options{}).ServeHTTP(rec, httptest.NewRequest("GET", "/", nil))
	fmt.Println(rec.Code, strings.Contains(rec.Body.String(), "resource cp-dummy is Stopped"))
	// Output: 200 true
}
