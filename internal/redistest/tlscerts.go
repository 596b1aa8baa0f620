package redistest

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"fmt"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"sync"
	"time"
)

// The harness makes one certificate authority per test binary, at first
// use, and signs with it a server certificate (127.0.0.1, ::1, localhost;
// usable as a client certificate too, which TLS replicas and the cluster bus
// need) and a client certificate. The PEM files live in a temporary directory
// removed at teardown.

// TLSServerName is the name the server certificate is valid for; the
// configurations from ClientTLSConfig set it.
const TLSServerName = "localhost"

type certSet struct {
	caCert, serverCert, serverKey string // file paths
	ca                            *x509.Certificate
	pool                          *x509.CertPool
	client                        tls.Certificate
}

var certs struct {
	mu  sync.Mutex
	set *certSet
}

// harnessCerts returns the harness's certificates, making them on first use.
func harnessCerts() (*certSet, error) {
	certs.mu.Lock()
	defer certs.mu.Unlock()
	if certs.set != nil {
		return certs.set, nil
	}
	set, err := makeCerts()
	if err != nil {
		return nil, fmt.Errorf("redistest: make TLS certificates: %w", err)
	}
	certs.set = set
	return set, nil
}

// resetCerts forgets the certificates (their directory is being removed).
func resetCerts() {
	certs.mu.Lock()
	defer certs.mu.Unlock()
	certs.set = nil
}

// ClientTLSConfig returns a client configuration that trusts the harness CA,
// presents the harness client certificate and expects TLSServerName. Each
// call returns a new copy.
func ClientTLSConfig() (*tls.Config, error) {
	set, err := harnessCerts()
	if err != nil {
		return nil, err
	}
	return &tls.Config{
		RootCAs:      set.pool,
		Certificates: []tls.Certificate{set.client},
		ServerName:   TLSServerName,
		MinVersion:   tls.VersionTLS12,
	}, nil
}

// CertPool returns a pool holding the harness CA.
func CertPool() (*x509.CertPool, error) {
	set, err := harnessCerts()
	if err != nil {
		return nil, err
	}
	return set.pool, nil
}

// CACertificate returns the harness CA's certificate, for clients outside
// this process.
func CACertificate() (*x509.Certificate, error) {
	set, err := harnessCerts()
	if err != nil {
		return nil, err
	}
	return set.ca, nil
}

type keyPair struct {
	cert *x509.Certificate
	der  []byte
	key  *ecdsa.PrivateKey
}

func makeCerts() (*certSet, error) {
	ca, err := newCA("redistest CA")
	if err != nil {
		return nil, err
	}
	server, err := ca.issue("redistest server", x509.ExtKeyUsageServerAuth, x509.ExtKeyUsageClientAuth)
	if err != nil {
		return nil, err
	}
	client, err := ca.issue("redistest client", x509.ExtKeyUsageClientAuth)
	if err != nil {
		return nil, err
	}
	dir, err := makeDir()
	if err != nil {
		return nil, err
	}
	trackDir(dir)
	set := &certSet{
		caCert:     filepath.Join(dir, "ca.crt"),
		serverCert: filepath.Join(dir, "server.crt"),
		serverKey:  filepath.Join(dir, "server.key"),
		ca:         ca.cert,
		pool:       x509.NewCertPool(),
	}
	set.pool.AddCert(ca.cert)
	if err := writePEM(set.caCert, "CERTIFICATE", ca.der); err != nil {
		return nil, err
	}
	if err := writePEM(set.serverCert, "CERTIFICATE", server.der); err != nil {
		return nil, err
	}
	keyDER, err := x509.MarshalECPrivateKey(server.key)
	if err != nil {
		return nil, err
	}
	if err := writePEM(set.serverKey, "EC PRIVATE KEY", keyDER); err != nil {
		return nil, err
	}
	set.client = tls.Certificate{Certificate: [][]byte{client.der}, PrivateKey: client.key, Leaf: client.cert}
	return set, nil
}

// newCA makes a self-signed certificate authority valid for a day.
func newCA(name string) (*keyPair, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, err
	}
	tmpl := &x509.Certificate{
		SerialNumber:          serialNumber(),
		Subject:               pkix.Name{CommonName: name},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().Add(24 * time.Hour),
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageDigitalSignature,
		BasicConstraintsValid: true,
		IsCA:                  true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return nil, err
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		return nil, err
	}
	return &keyPair{cert: cert, der: der, key: key}, nil
}

// issue signs a leaf certificate for loopback with the given uses.
func (ca *keyPair) issue(name string, usage ...x509.ExtKeyUsage) (*keyPair, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, err
	}
	tmpl := &x509.Certificate{
		SerialNumber: serialNumber(),
		Subject:      pkix.Name{CommonName: name},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(24 * time.Hour),
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  usage,
		DNSNames:     []string{TLSServerName},
		IPAddresses:  []net.IP{net.IPv4(127, 0, 0, 1), net.IPv6loopback},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca.cert, &key.PublicKey, ca.key)
	if err != nil {
		return nil, err
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		return nil, err
	}
	return &keyPair{cert: cert, der: der, key: key}, nil
}

func serialNumber() *big.Int {
	n, _ := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 62))
	return n
}

func writePEM(path, kind string, der []byte) error {
	return os.WriteFile(path, pem.EncodeToMemory(&pem.Block{Type: kind, Bytes: der}), 0o600)
}
