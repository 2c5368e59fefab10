package service

import (
	"context"
	"errors"
	"net"
	"net/http"
	"time"
)

// Serve answers the API on ln (TLS when cert and key are given) until ctx
// ends; then it stops accepting, cancels the queued and running runs and
// waits for the scenarios to destroy what they built (Shutdown).
func (s *Service) Serve(ctx context.Context, ln net.Listener, cert, key string) error {
	srv := &http.Server{Handler: s.Handler(), ReadHeaderTimeout: 10 * time.Second, ReadTimeout: time.Minute,
		IdleTimeout: 2 * time.Minute}
	errc := make(chan error, 1)
	go func() {
		if cert != "" || key != "" {
			errc <- srv.ServeTLS(ln, cert, key)
		} else {
			errc <- srv.Serve(ln)
		}
	}()
	var serveErr error
	select {
	case serveErr = <-errc:
	case <-ctx.Done():
	}
	s.log.Info("stopping: no new requests; cancelling runs")
	sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
	_ = srv.Shutdown(sctx)
	cancel()
	// Scenarios destroy within their destroy budget (15 min by default).
	dctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Minute)
	defer cancel()
	err := s.Shutdown(dctx)
	if errors.Is(serveErr, http.ErrServerClosed) {
		serveErr = nil
	}
	s.log.Info("stopped")
	return errors.Join(serveErr, err)
}
