package probe

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"
)

// How often HTTP tries again, how long one request may take, and how much of a body it reads.
const (
	httpRetryEvery     = time.Second
	httpAttemptTimeout = 10 * time.Second
	httpMaxBody        = 1 << 20
)

// httpClient talks to the servers under test directly: no proxy from the environment (a floating IP is never
// behind the user's proxy), no kept-alive connections between attempts, and redirects are returned, not followed,
// so that wantStatus can be a 3xx.
var httpClient = &http.Client{
	Transport: &http.Transport{
		Proxy:             nil,
		DisableKeepAlives: true,
	},
	CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
}

// HTTP sends GET url until the response has wantStatus and its body contains wantBody (empty: any body), or
// ctx ends. Each failure (refused, timeout, wrong status, wrong body) is retried.
func HTTP(ctx context.Context, url string, wantStatus int, wantBody string) error {
	if wantStatus < 100 || wantStatus > 599 {
		return fmt.Errorf("http GET %s: want status %d is not an HTTP status", url, wantStatus)
	}
	req, err := http.NewRequest(http.MethodGet, url, nil)
	if err != nil {
		return fmt.Errorf("http GET %s: %w", url, err)
	}
	err = WaitFor(ctx, httpRetryEvery, func(ctx context.Context) (bool, error) {
		return httpOnce(ctx, req, wantStatus, wantBody)
	})
	if err != nil {
		return fmt.Errorf("http GET %s (want %d with %q): %w", url, wantStatus, wantBody, err)
	}
	return nil
}

func httpOnce(ctx context.Context, req *http.Request, wantStatus int, wantBody string) (bool, error) {
	ctx, cancel := context.WithTimeout(ctx, httpAttemptTimeout)
	defer cancel()
	resp, err := httpClient.Do(req.WithContext(ctx))
	if err != nil {
		return false, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, httpMaxBody))
	if err != nil {
		return false, fmt.Errorf("read body: %w", err)
	}
	if resp.StatusCode != wantStatus {
		return false, fmt.Errorf("status %d, body %q", resp.StatusCode, excerpt(body))
	}
	if !strings.Contains(string(body), wantBody) {
		return false, fmt.Errorf("status %d but body does not contain %q: %q", resp.StatusCode, wantBody, excerpt(body))
	}
	return true, nil
}

// excerpt keeps error messages short.
func excerpt(body []byte) string {
	const max = 200
	s := strings.TrimSpace(string(body))
	if len(s) > max {
		return s[:max] + "..."
	}
	return s
}
