package store

import (
	"context"
	"encoding/base64"
	"fmt"
	"strconv"
	"strings"
)

// List returns the runs that match f, newest (queued) first, at most f.Limit
// (DefaultLimit when ≤ 0, MaxLimit when above). next is the cursor of the
// following page, "" on the last one. runs is never nil.
func (s *DB) List(ctx context.Context, f Filter) (runs []Run, next string, err error) {
	limit := f.Limit
	switch {
	case limit <= 0:
		limit = DefaultLimit
	case limit > MaxLimit:
		limit = MaxLimit
	}
	var (
		where []string
		args  []any
	)
	if f.Type != "" {
		where, args = append(where, "type = ?"), append(args, f.Type)
	}
	if f.Cloud != "" {
		where, args = append(where, "cloud = ?"), append(args, f.Cloud)
	}
	if f.Failed {
		where = append(where, "failed = 1")
	}
	if !f.Since.IsZero() {
		where, args = append(where, "queued >= ?"), append(args, nanos(f.Since))
	}
	if f.Cursor != "" {
		queued, handle, err := decodeCursor(f.Cursor)
		if err != nil {
			return nil, "", fmt.Errorf("list runs: %w", err)
		}
		// (queued, handle) < cursor, written so the index range is on queued.
		where = append(where, "queued <= ? AND (queued < ? OR handle < ?)")
		args = append(args, queued, queued, handle)
	}
	q := `SELECT ` + columns + ` FROM runs`
	if len(where) > 0 {
		q += ` WHERE ` + strings.Join(where, " AND ")
	}
	q += ` ORDER BY queued DESC, handle DESC LIMIT ?`
	args = append(args, limit+1)

	rows, err := s.db.QueryContext(ctx, s.q(q), args...)
	if err != nil {
		return nil, "", fmt.Errorf("list runs: %w", err)
	}
	defer rows.Close()
	runs = make([]Run, 0, min(limit+1, 64)) // [] not null in JSON when nothing matches
	for rows.Next() {
		r, err := scanRun(rows)
		if err != nil {
			return nil, "", fmt.Errorf("list runs: %w", err)
		}
		runs = append(runs, r)
	}
	if err := rows.Err(); err != nil {
		return nil, "", fmt.Errorf("list runs: %w", err)
	}
	if len(runs) > limit {
		runs = runs[:limit]
		last := runs[limit-1]
		next = encodeCursor(nanos(last.Queued), last.Handle)
	}
	return runs, next, nil
}

// A cursor is the (queued, handle) key of the last run on the page.
func encodeCursor(queued int64, handle string) string {
	return base64.RawURLEncoding.EncodeToString([]byte(strconv.FormatInt(queued, 10) + "." + handle))
}

func decodeCursor(c string) (queued int64, handle string, err error) {
	b, err := base64.RawURLEncoding.DecodeString(c)
	if err != nil {
		return 0, "", fmt.Errorf("%w %q", ErrBadCursor, c)
	}
	n, h, ok := strings.Cut(string(b), ".")
	if !ok || h == "" {
		return 0, "", fmt.Errorf("%w %q", ErrBadCursor, c)
	}
	queued, err = strconv.ParseInt(n, 10, 64)
	if err != nil {
		return 0, "", fmt.Errorf("%w %q", ErrBadCursor, c)
	}
	return queued, h, nil
}
