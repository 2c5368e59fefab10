package endpoint

import (
	"context"

	"github.com/gophercloud/gophercloud/v2/pagination"
)

// firstPage fetches only the first page of a list: enough to prove the API
// answers, cheap on a cloud with thousands of items.
func firstPage[T any](ctx context.Context, pager pagination.Pager, extract func(pagination.Page) ([]T, error)) ([]T, error) {
	var items []T
	err := pager.EachPage(ctx, func(_ context.Context, p pagination.Page) (bool, error) {
		var err error
		items, err = extract(p)
		return false, err
	})
	return items, err
}
