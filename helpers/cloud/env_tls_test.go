package cloud

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func writePEM(t *testing.T, path, typ string, der []byte) string {
	t.Helper()
	require.NoError(t, os.WriteFile(path, pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: der}), 0o600))
	return path
}

// clientCert writes a self-signed client certificate and its key.
func clientCert(t *testing.T, dir string) (certFile, keyFile string) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	require.NoError(t, err)
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(7), Subject: pkix.Name{CommonName: "cloudpulse-client"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	require.NoError(t, err)
	kder, err := x509.MarshalECPrivateKey(key)
	require.NoError(t, err)
	return writePEM(t, filepath.Join(dir, "client.pem"), "CERTIFICATE", der), writePEM(t, filepath.Join(dir, "client.key"), "EC PRIVATE KEY", kder)
}

// OS_CACERT, OS_INSECURE, OS_CERT and OS_KEY reach the TLS handshake with keystone.
func TestLoadFromEnvTLS(t *testing.T) {
	ks := newTokenKeystone(t, true)
	dir := t.TempDir()
	ca := writePEM(t, filepath.Join(dir, "ca.pem"), "CERTIFICATE", ks.Certificate().Raw)
	base := func(t *testing.T) {
		clearEnv(t)
		t.Setenv("OS_AUTH_URL", ks.URL+"/v3")
		t.Setenv("OS_USERNAME", "u")
		t.Setenv("OS_PASSWORD", "pw")
		t.Setenv("OS_PROJECT_NAME", "p")
	}
	connect := func(t *testing.T) error {
		cfg, err := Load("")
		require.NoError(t, err)
		_, err = cfg.Connect(context.Background())
		return err
	}

	t.Run("unknown CA refused", func(t *testing.T) {
		base(t)
		err := connect(t)
		require.Error(t, err)
		assert.Contains(t, err.Error(), "certificate signed by unknown authority")
	})
	t.Run("OS_CACERT", func(t *testing.T) {
		base(t)
		t.Setenv("OS_CACERT", ca)
		require.NoError(t, connect(t))
		cfg, err := Load("")
		require.NoError(t, err)
		assert.Equal(t, ca, cfg.TerraformEnv()["OS_CACERT"])
	})
	t.Run("OS_INSECURE", func(t *testing.T) {
		base(t)
		t.Setenv("OS_INSECURE", "true")
		require.NoError(t, connect(t))
		cfg, err := Load("")
		require.NoError(t, err)
		assert.Equal(t, "true", cfg.TerraformEnv()["OS_INSECURE"])
	})
	t.Run("OS_CERT and OS_KEY", func(t *testing.T) {
		seen := make(chan string, 1)
		mtls := newTokenKeystone(t, true)
		// the listener reads this config at each handshake: no connection was made yet
		mtls.TLS.ClientAuth = tls.RequireAnyClientCert
		mtls.TLS.VerifyPeerCertificate = func(raw [][]byte, _ [][]*x509.Certificate) error {
			c, err := x509.ParseCertificate(raw[0])
			if err == nil {
				select {
				case seen <- c.Subject.CommonName:
				default:
				}
			}
			return err
		}
		base(t)
		t.Setenv("OS_AUTH_URL", mtls.URL+"/v3")
		t.Setenv("OS_CACERT", writePEM(t, filepath.Join(dir, "ca2.pem"), "CERTIFICATE", mtls.Certificate().Raw))
		err := connect(t)
		require.Error(t, err, "the server requires a client certificate")

		certFile, keyFile := clientCert(t, dir)
		t.Setenv("OS_CERT", certFile)
		t.Setenv("OS_KEY", keyFile)
		require.NoError(t, connect(t))
		assert.Equal(t, "cloudpulse-client", <-seen)
		cfg, err := Load("")
		require.NoError(t, err)
		assert.Equal(t, certFile, cfg.TerraformEnv()["OS_CERT"])
		assert.Equal(t, keyFile, cfg.TerraformEnv()["OS_KEY"])
	})
}
