package ntlmserver

import (
	"io"
	"strings"
)

// Default names, used when Options leaves them empty.
const (
	DefaultDomain    = "LAB"
	DefaultDNSDomain = "lab.example"
)

// Options configure a Server.
type Options struct {
	// Name is the server's NetBIOS computer name (WEB01). It goes into the
	// Type 2 as MsvAvNbComputerName, and, lower-cased and qualified with
	// DNSDomain, as MsvAvDnsComputerName. Required.
	Name string
	// Domain is the NetBIOS domain name (MsvAvNbDomainName and the Type 2
	// TargetName); DefaultDomain when empty.
	Domain string
	// DNSDomain is the DNS domain (MsvAvDnsDomainName, MsvAvDnsTreeName);
	// DefaultDNSDomain when empty.
	DNSDomain string
	// Users are the accounts the server accepts.
	Users []User
	// PersistSingleRequest authenticates a request, not the connection, like
	// IIS with authPersistSingleRequest="true": after a successful Type 3,
	// the next request without credentials is challenged again.
	PersistSingleRequest bool
	// Anonymous serves every request without authentication (IIS with only
	// anonymous authentication enabled); credentials sent anyway are
	// ignored.
	Anonymous bool
	// Log receives one JSON line per request (see Entry); nil logs nothing.
	// Writes are serialised.
	Log io.Writer
}

// User is one account of the user table.
type User struct {
	// Domain is the user's NetBIOS domain; a Type 3 may name it by its
	// NetBIOS or DNS name, or leave it empty. Empty means the server's own
	// domain.
	Domain string
	// Name is the account name, compared case-insensitively.
	Name string
	// Password is the clear-text password NTOWFv2 is computed from.
	Password string
}

// withDefaults returns opts with empty names filled in.
func (o Options) withDefaults() Options {
	if o.Domain == "" {
		o.Domain = DefaultDomain
	}
	if o.DNSDomain == "" {
		o.DNSDomain = DefaultDNSDomain
	}
	return o
}

// dnsName returns the server's fully qualified name, web01.lab.example.
func (o Options) dnsName() string {
	return strings.ToLower(o.Name) + "." + o.DNSDomain
}
