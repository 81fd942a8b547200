package lab

import (
	"crypto/tls"
	"crypto/x509"
	"encoding/pem"
	"fmt"
	"os"
	"path/filepath"

	"github.com/ntlmscope/ntlmscope/internal/ntlmserver"
	"github.com/ntlmscope/ntlmscope/internal/tlslab"
)

// HAProxyTLSServerClose is HAProxyServerClose behind HTTPS: haproxy
// terminates TLS on the frontend (a throwaway certificate) and talks
// plaintext HTTP to the backends, as a balancer doing TLS offload does.
const HAProxyTLSServerClose Topology = "haproxy-https-server-close"

// TLS reports whether the scenario's clients speak HTTPS, to the frontend
// or through a proxy's tunnels: its client leg is TLS, readable only with
// the clients' key log.
func (s *Scenario) TLS() bool { return s.Topology == HAProxyTLSServerClose || s.BackendTLS }

// keyLogSuffix names a client leg's key log: the capture's path with
// .keylog instead of .pcap. The key log travels next to the capture it
// decrypts, in a run's directory and in testdata/lab alike, so whoever
// reads a client leg finds its secrets without being told.
const keyLogSuffix = ".keylog"

// keyLogOf returns the key log path that goes with a capture file.
func keyLogOf(capture string) string {
	return capture[:len(capture)-len(filepath.Ext(capture))] + keyLogSuffix
}

// keyLogsFor returns the key logs that exist next to files, in order.
func keyLogsFor(files []string) []string {
	var out []string
	for _, f := range files {
		if kl := keyLogOf(f); fileExists(kl) {
			out = append(out, kl)
		}
	}
	return out
}

func fileExists(path string) bool {
	_, err := os.Stat(path)
	return err == nil
}

// TLSConfig returns the client TLS configuration of an HTTPS scenario: the
// frontend's certificate is a throwaway one (not verified, as curl -k), and
// every session's secrets are appended to the scenario's key log, as
// SSLKEYLOGFILE makes a browser do.
func (e *Env) TLSConfig() *tls.Config {
	return &tls.Config{
		InsecureSkipVerify: true, // the lab's own throwaway certificate
		KeyLogWriter:       appendFile(e.keyLog),
		// HTTP/1.1 only: ntlmscope counts h2 connections but does not
		// parse them, and NTLM needs HTTP/1.1's connection affinity.
		NextProtos: []string{"http/1.1"},
	}
}

// appendFile is a key log writer that opens, appends and closes for every
// line: crypto/tls writes a whole line per Write, several clients may share
// the file, and no handle outlives the clients.
type appendFile string

// Write appends p to the file.
func (f appendFile) Write(p []byte) (int, error) {
	fh, err := os.OpenFile(string(f), os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o600)
	if err != nil {
		return 0, err
	}
	n, err := fh.Write(p)
	if cerr := fh.Close(); err == nil {
		err = cerr
	}
	return n, err
}

// writeCertPEM writes a throwaway certificate and its private key into one
// PEM file in dir, the form haproxy's "bind … ssl crt FILE" reads, and
// returns its path.
func writeCertPEM(dir string) (string, error) {
	// ECDSA: made in a millisecond, and every OpenSSL and Go client
	// negotiates ECDHE_ECDSA or TLS 1.3 with it.
	cert, err := tlslab.Certificate(tlslab.ECDSA)
	if err != nil {
		return "", fmt.Errorf("lab: certificate: %w", err)
	}
	key, err := x509.MarshalPKCS8PrivateKey(cert.PrivateKey)
	if err != nil {
		return "", fmt.Errorf("lab: certificate key: %w", err)
	}
	var b []byte
	for _, der := range cert.Certificate {
		b = append(b, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})...)
	}
	b = append(b, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: key})...)
	path := filepath.Join(dir, "frontend.pem")
	return path, os.WriteFile(path, b, 0o600)
}

// startTLSBackend starts an NTLM server that speaks HTTPS, HTTP/1.1 only
// (see TLSConfig), with a throwaway certificate.
func startTLSBackend(opts ntlmserver.Options, addr string) (*ntlmserver.Server, error) {
	cert, err := tlslab.Certificate(tlslab.ECDSA)
	if err != nil {
		return nil, fmt.Errorf("lab: certificate: %w", err)
	}
	return ntlmserver.StartTLS(opts, addr, &tls.Config{Certificates: []tls.Certificate{cert}, NextProtos: []string{"http/1.1"}})
}
