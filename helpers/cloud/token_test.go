package cloud

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/gophercloud/gophercloud/v2"
	"github.com/gophercloud/gophercloud/v2/openstack/identity/v3/tokens"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestExtractToken(t *testing.T) {
	for _, tc := range []struct {
		name, expires string
		want          time.Time
		err           string
	}{
		{"keystone's usual form", "2026-12-02T12:15:13.248327Z", time.Date(2026, 12, 2, 12, 15, 13, 248327000, time.UTC), ""},
		// Keystone Zed, token of an application credential with expires_at: no zone (gophercloud alone fails)
		{"application credential's expiry, no zone", "2026-12-02T12:15:13.248327", time.Date(2026, 12, 2, 12, 15, 13, 248327000, time.UTC), ""},
		{"garbage", "soon", time.Time{}, `parsing time "soon" as "2006-01-02T15:04:05Z07:00": cannot parse "soon" as "2006" (expires_at "soon")`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Content-Type", "application/json")
				w.Header().Set("X-Subject-Token", r.Header.Get("X-Subject-Token"))
				_, _ = io.WriteString(w, `{"token":{"methods":["application_credential"],"expires_at":"`+tc.expires+`"}}`)
			}))
			defer srv.Close()
			pc := &gophercloud.ProviderClient{HTTPClient: *srv.Client()}
			pc.SetToken("tok-1")
			sc := &gophercloud.ServiceClient{ProviderClient: pc, Endpoint: srv.URL + "/v3/"}
			tok, err := ExtractToken(tokens.Get(context.Background(), sc, "tok-1"))
			if tc.err != "" {
				require.Error(t, err)
				assert.Equal(t, tc.err, err.Error())
				return
			}
			require.NoError(t, err)
			assert.Equal(t, "tok-1", tok.ID)
			assert.True(t, tc.want.Equal(tok.ExpiresAt), "%s != %s", tok.ExpiresAt, tc.want)
		})
	}
}
