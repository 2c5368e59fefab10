package service_test

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
	"net"
	"net/http"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/cloudpulse/cloudpulse/helpers/service"
)

// selfSigned writes a certificate for 127.0.0.1 and its key; it returns their paths and a pool that trusts it.
func selfSigned(t *testing.T) (string, string, *x509.CertPool) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	require.NoError(t, err)
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "cpulse"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IPAddresses: []net.IP{net.ParseIP("127.0.0.1")}, KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	require.NoError(t, err)
	kb, err := x509.MarshalECPrivateKey(key)
	require.NoError(t, err)
	dir := t.TempDir()
	cert, keyPath := filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	require.NoError(t, os.WriteFile(cert, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600))
	require.NoError(t, os.WriteFile(keyPath, pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: kb}), 0o600))
	c, err := x509.ParseCertificate(der)
	require.NoError(t, err)
	pool := x509.NewCertPool()
	pool.AddCert(c)
	return cert, keyPath, pool
}

// Serve speaks TLS when given a certificate, and when its context ends it
// stops accepting, cancels the running scenario (which destroys) and returns.
func TestServeTLSAndStop(t *testing.T) {
	cert, key, pool := selfSigned(t)
	st, fr := &memStore{}, newFakeRunner()
	svc := service.New(service.Options{Clouds: []string{"a"}, Token: token}, st, fr.Run)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	ctx, stop := context.WithCancel(t.Context())
	served := make(chan error, 1)
	go func() { served <- svc.Serve(ctx, ln, cert, key) }()

	client := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}}}
	resp, err := client.Get("https://" + ln.Addr().String() + "/healthz")
	require.NoError(t, err)
	resp.Body.Close()
	assert.Equal(t, 401, resp.StatusCode, "over TLS, and healthz is not open here")

	r, _, err := svc.Submit(t.Context(), "functional", "a", "api")
	require.NoError(t, err)
	require.Eventually(t, func() bool { return len(fr.startedList()) == 1 }, 5*time.Second, time.Millisecond)
	stop() // SIGTERM in cpulse serve
	select {
	case err := <-served:
		require.NoError(t, err)
	case <-time.After(10 * time.Second):
		t.Fatal("Serve did not return")
	}
	assert.Equal(t, []string{"functional/a"}, fr.destroyedList())
	got, err := st.Get(t.Context(), r.Handle)
	require.NoError(t, err)
	assert.Equal(t, service.Cancelled, got.State)
	_, err = client.Get("https://" + ln.Addr().String() + "/healthz")
	assert.Error(t, err, "no longer accepting")
}
