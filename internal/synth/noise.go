package synth

import (
	"encoding/binary"
	"strings"
)

// The noise scenarios: traffic an HTTP capture filter lets through or a
// capture without filter holds, which ntlmscope must pass over quickly.
// TLS and SMB count in source.tcp_connections (TLS also in
// tls_connections) and in nothing of the summary; DNS counts only in
// source.packets.

// tlsSession is TLS 1.3 to an HTTPS server on 443: ClientHello,
// ServerHello with the encrypted rest of the server's flight, the client's
// Finished, 1 to 3 application-data exchanges, an encrypted alert, FIN.
func (s *script) tlsSession() {
	c, rng := s.c, s.g.rng
	sni := proxyHosts[rng.IntN(len(proxyHosts))]
	from := len(c.arena)
	c.arena = s.clientHello(c.arena, sni)
	c.send(fromClient, from, len(c.arena), clientPace)
	c.wait(400_000)
	from = len(c.arena)
	c.arena = s.serverHello(c.arena)
	c.arena = append(c.arena, 0x14, 0x03, 0x03, 0x00, 0x01, 0x01) // change_cipher_spec
	c.arena = s.appData(c.arena, 2000+rng.IntN(2500))             // certificate … finished
	c.send(fromServer, from, len(c.arena), serverPace)
	s.think(500_000)
	from = len(c.arena)
	c.arena = append(c.arena, 0x14, 0x03, 0x03, 0x00, 0x01, 0x01)
	c.arena = s.appData(c.arena, 53)
	c.send(fromClient, from, len(c.arena), clientPace)
	for range 1 + rng.IntN(3) {
		s.think(200_000)
		from = len(c.arena)
		c.arena = s.appData(c.arena, 300+rng.IntN(1200))
		c.send(fromClient, from, len(c.arena), clientPace)
		c.wait(s.serverTime(page))
		from = len(c.arena)
		c.arena = s.appData(c.arena, 300+int(min(rng.ExpFloat64()*2000, 30000)))
		c.send(fromServer, from, len(c.arena), serverPace)
		s.c.wait(s.thinkTime(600e6))
	}
	from = len(c.arena)
	c.arena = append(c.arena, 0x17, 0x03, 0x03, 0x00, 0x13) // encrypted close_notify
	c.arena = append(c.arena, s.g.binAt(19)...)
	c.send(fromClient, from, len(c.arena), clientPace)
	c.close(fromClient, s.cl.rtt)
}

// clientHello appends a TLS 1.3 ClientHello record offering sni.
func (s *script) clientHello(b []byte, sni string) []byte {
	g := s.g
	var ext []byte
	name := append([]byte{0}, u16(len(sni))...)
	name = append(name, sni...)
	ext = tlsExt(ext, 0x0000, append(u16(len(name)), name...))                       // server_name
	ext = tlsExt(ext, 0x000a, []byte{0, 4, 0, 0x1d, 0, 0x17})                        // supported_groups
	ext = tlsExt(ext, 0x000d, []byte{0, 6, 4, 3, 8, 4, 4, 1})                        // signature_algorithms
	ext = tlsExt(ext, 0x002b, []byte{4, 3, 4, 3, 3})                                 // supported_versions
	ext = tlsExt(ext, 0x0033, append([]byte{0, 36, 0, 0x1d, 0, 32}, g.binAt(32)...)) // key_share
	body := []byte{3, 3}
	body = append(body, g.binAt(32)...) // random
	body = append(body, 32)
	body = append(body, g.binAt(32)...) // legacy session id
	body = append(body, 0, 8, 0x13, 0x01, 0x13, 0x02, 0xc0, 0x2b, 0xc0, 0x2f)
	body = append(body, 1, 0)
	body = append(body, u16(len(ext))...)
	body = append(body, ext...)
	return tlsHandshake(b, 0x01, 0x0301, body)
}

// serverHello appends a TLS 1.3 ServerHello record.
func (s *script) serverHello(b []byte) []byte {
	g := s.g
	body := []byte{3, 3}
	body = append(body, g.binAt(32)...)
	body = append(body, 32)
	body = append(body, g.binAt(32)...)
	body = append(body, 0x13, 0x01, 0)
	var ext []byte
	ext = tlsExt(ext, 0x002b, []byte{3, 4})
	ext = tlsExt(ext, 0x0033, append([]byte{0, 0x1d, 0, 32}, g.binAt(32)...))
	body = append(body, u16(len(ext))...)
	body = append(body, ext...)
	return tlsHandshake(b, 0x02, 0x0303, body)
}

// appData appends n bytes of application data in records of at most
// 16 KiB.
func (s *script) appData(b []byte, n int) []byte {
	for n > 0 {
		k := min(n, 16384)
		b = append(b, 0x17, 0x03, 0x03, byte(k>>8), byte(k))
		b = append(b, s.g.binAt(k)...)
		n -= k
	}
	return b
}

func tlsHandshake(b []byte, typ byte, version uint16, body []byte) []byte {
	n := len(body) + 4
	b = append(b, 0x16, byte(version>>8), byte(version), byte(n>>8), byte(n))
	b = append(b, typ, byte(len(body)>>16), byte(len(body)>>8), byte(len(body)))
	return append(b, body...)
}

func tlsExt(b []byte, typ int, data []byte) []byte {
	b = append(b, u16(typ)...)
	b = append(b, u16(len(data))...)
	return append(b, data...)
}

func u16(v int) []byte { return []byte{byte(v >> 8), byte(v)} }

// SMB2 commands the SMB scenario uses.
const (
	smbNegotiate = 0x0000
	smbRead      = 0x0008
	smbWrite     = 0x0009
	smbEcho      = 0x000d
)

// smbSession is SMB2 on 445 as a file client on an existing session
// speaks it: NEGOTIATE (without a security blob, so no NTLMSSP), then 2 to
// 7 READ, WRITE or ECHO exchanges of 500 to 3,000 bytes of file data, then
// FIN. The messages are well formed; the file ids name no CREATE, and the
// data is opaque.
func (s *script) smbSession() {
	c, rng := s.c, s.g.rng
	cmds := []uint16{smbRead, smbWrite, smbEcho}
	var msgID uint64
	for i := range 3 + rng.IntN(6) {
		cmd := uint16(smbNegotiate)
		if i > 0 {
			cmd = cmds[rng.IntN(len(cmds))]
			s.think(s.thinkTime(80e6))
		}
		n := 500 + rng.IntN(2500)
		for dir := uint8(fromClient); dir <= fromServer; dir++ {
			from := len(c.arena)
			c.arena = s.smb2(c.arena, cmd, msgID, dir == fromServer, n)
			c.send(dir, from, len(c.arena), serverPace)
			c.wait(300_000)
		}
		msgID++
	}
	s.end(fromClient)
}

// smb2 appends one NetBIOS-framed SMB2 message: header, then the
// command's body (MS-SMB2 2.2) with n bytes of data for READ and WRITE.
func (s *script) smb2(b []byte, cmd uint16, msgID uint64, response bool, n int) []byte {
	le := binary.LittleEndian
	var body []byte
	data := 0
	switch {
	case cmd == smbNegotiate && !response:
		body = make([]byte, 36+4)
		le.PutUint16(body[0:], 36)
		le.PutUint16(body[2:], 2)        // dialect count
		le.PutUint16(body[4:], 1)        // signing enabled
		le.PutUint32(body[8:], 0x7f)     // capabilities
		copy(body[12:28], s.g.binAt(16)) // client GUID
		le.PutUint16(body[36:], 0x0202)  // SMB 2.0.2
		le.PutUint16(body[38:], 0x0210)  // SMB 2.1
	case cmd == smbNegotiate:
		body = make([]byte, 64+1)
		le.PutUint16(body[0:], 65)
		le.PutUint16(body[2:], 1)
		le.PutUint16(body[4:], 0x0210)
		copy(body[8:24], s.g.binAt(16)) // server GUID
		le.PutUint32(body[24:], 0x07)
		le.PutUint32(body[28:], 8<<20) // max transact, read, write
		le.PutUint32(body[32:], 8<<20)
		le.PutUint32(body[36:], 8<<20)
		le.PutUint16(body[56:], 0x80) // security buffer offset, length 0
	case cmd == smbEcho:
		body = []byte{4, 0, 0, 0}
	case cmd == smbWrite && !response, cmd == smbRead && response:
		data = n
		if cmd == smbWrite {
			body = make([]byte, 48)
			le.PutUint16(body[0:], 49)
			le.PutUint16(body[2:], 64+48) // data offset
			le.PutUint32(body[4:], uint32(n))
			le.PutUint64(body[8:], uint64(msgID)<<16)
			copy(body[16:32], s.g.bin[:16]) // file id
		} else {
			body = make([]byte, 16)
			le.PutUint16(body[0:], 17)
			body[2] = 64 + 16 // data offset
			le.PutUint32(body[4:], uint32(n))
		}
	case cmd == smbWrite: // response
		body = make([]byte, 16+1)
		le.PutUint16(body[0:], 17)
		le.PutUint32(body[4:], uint32(n))
	default: // READ request
		body = make([]byte, 48+1)
		le.PutUint16(body[0:], 49)
		body[2] = 64 + 16 // padding: where the response's data goes
		le.PutUint32(body[4:], uint32(n))
		le.PutUint64(body[8:], uint64(msgID)<<16)
		copy(body[16:32], s.g.bin[:16])
	}
	total := 64 + len(body) + data
	b = append(b, 0, byte(total>>16), byte(total>>8), byte(total))
	var h [64]byte
	copy(h[:], "\xfeSMB")
	le.PutUint16(h[4:], 64)
	le.PutUint16(h[12:], cmd)
	le.PutUint16(h[14:], 1) // credits
	if response {
		le.PutUint32(h[16:], 1) // SMB2_FLAGS_SERVER_TO_REDIR
	}
	le.PutUint64(h[24:], msgID)
	if cmd != smbNegotiate {
		le.PutUint32(h[36:], 1)                     // tree id
		le.PutUint64(h[40:], 0x0000_4000_0000_0011) // session id
	}
	b = append(b, h[:]...)
	b = append(b, body...)
	return append(b, s.g.binAt(data)...)
}

// dnsNames are the names the DNS scenario asks for.
var dnsNames = strings.Fields("wpad.corp.example intranet.corp.example static.corp.example dc01.corp.example www.example.com login.example.org")

// dnsQuery is one UDP query to the DNS server and its answer (A, or AAAA
// for IPv6 clients).
func (s *script) dnsQuery() {
	c, rng := s.c, s.g.rng
	name := dnsNames[rng.IntN(len(dnsNames))]
	qtype, rdlen := 1, 4
	if !s.cl.addr.Is4() {
		qtype, rdlen = 28, 16
	}
	id := rng.IntN(65536)
	from := len(c.arena)
	c.arena = dnsMessage(c.arena, id, 0x0100, name, qtype, nil)
	c.add(fromClient, 0, from, len(c.arena)-from)
	c.wait(300_000 + int64(rng.IntN(3_000_000)))
	from = len(c.arena)
	c.arena = dnsMessage(c.arena, id, 0x8180, name, qtype, s.g.binAt(rdlen))
	c.add(fromServer, 0, from, len(c.arena)-from)
}

// dnsMessage appends a DNS message with one question and, when rdata is
// set, one answer pointing back at the question's name.
func dnsMessage(b []byte, id, flags int, name string, qtype int, rdata []byte) []byte {
	an := 0
	if rdata != nil {
		an = 1
	}
	b = append(b, byte(id>>8), byte(id), byte(flags>>8), byte(flags), 0, 1, 0, byte(an), 0, 0, 0, 0)
	for _, label := range strings.Split(name, ".") {
		b = append(b, byte(len(label)))
		b = append(b, label...)
	}
	b = append(b, 0, 0, byte(qtype), 0, 1)
	if rdata != nil {
		b = append(b, 0xc0, 12, 0, byte(qtype), 0, 1, 0, 0, 0x0e, 0x10, 0, byte(len(rdata)))
		b = append(b, rdata...)
	}
	return b
}
