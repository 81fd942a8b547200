package reassembly

import (
	"encoding/binary"
)

// pcapng Decryption Secrets Block (pcapng spec, section 4.7; written by
// `editcap --inject-secrets tls,KEYLOG`):
//
//	0: block type 0x0000000A | 4: block total length
//	8: secrets type (32)     | 12: secrets length (32)
//	16: secrets data, padded to 32 bits | options | block total length
//
// Secrets type 0x544c534b ("TLSK") holds an NSS key log. gopacket's
// NgReader reads these blocks but keeps them to itself, so the capture
// file peeks at the blocks ahead of the reader (as ngGuard does) and hands
// the key logs it finds to its own KeyLog.
const (
	ngBlockDSB   = 0x0000000a
	dsbTLSKeyLog = 0x544c534b
)

// secretsScan is a capture file's search for Decryption Secrets Blocks.
type secretsScan struct {
	keys  *KeyLog          // the file's embedded secrets
	order binary.ByteOrder // of the section the reader is in
}

// scanSecrets reads the Decryption Secrets Blocks among the blocks the
// pcapng reader will consume next: those up to and including the next
// packet block. (NewNgReader, with WantMixedLinkType, consumes only the
// section header, so every other block passes here once.) A block too
// large for the read buffer ends the look-ahead: secrets are never that
// large.
func (f *captureFile) scanSecrets() {
	s := &f.secrets
	off := 0
	for {
		head, _ := f.br.Peek(off + 12)
		if len(head) < off+8 {
			return
		}
		if binary.BigEndian.Uint32(head[off:]) == ngBlockSHB {
			if len(head) < off+12 {
				return
			}
			switch bom := head[off+8 : off+12]; {
			case binary.BigEndian.Uint32(bom) == 0x1a2b3c4d:
				s.order = binary.BigEndian
			case binary.LittleEndian.Uint32(bom) == 0x1a2b3c4d:
				s.order = binary.LittleEndian
			default:
				return
			}
		}
		if s.order == nil {
			s.order = binary.LittleEndian
		}
		typ, length := s.order.Uint32(head[off:]), s.order.Uint32(head[off+4:])
		if length < 12 || length%4 != 0 || length > maxNgBlock {
			return // the guard reports damage
		}
		switch typ {
		case ngBlockEPB, ngBlockPB, ngBlockSPB:
			return
		case ngBlockDSB:
			end := off + int(length)
			blk, _ := f.br.Peek(end)
			if len(blk) < end {
				return
			}
			f.readSecretsBlock(blk[off:end])
		}
		off += int(length)
	}
}

// readSecretsBlock reads one Decryption Secrets Block (the whole block).
func (f *captureFile) readSecretsBlock(b []byte) {
	order := f.secrets.order
	if len(b) < 20 {
		f.warnf("a decryption secrets block is too short (%d bytes); its secrets were skipped", len(b))
		return
	}
	typ, n := order.Uint32(b[8:]), uint64(order.Uint32(b[12:]))
	if n+20 > uint64(len(b)) {
		f.warnf("a decryption secrets block's secrets (%d bytes) overrun the block; they were skipped", n)
		return
	}
	if typ != dsbTLSKeyLog {
		return // WireGuard, SSH, ... keys: not ours
	}
	f.stats.TLSSecretsBlocks++
	f.secrets.keys.AddEmbedded(displayName(f.path), b[16:16+n])
}

// secretsWarnings returns the warnings about the file's embedded key log.
func (f *captureFile) secretsWarnings() []string {
	if f.secrets.keys == nil {
		return nil
	}
	return f.secrets.keys.Stats().Warnings
}

// EmbeddedKeyLogs returns the key logs of the TLS secrets embedded in src's
// captures (pcapng Decryption Secrets Blocks); they fill as src is read.
// Run uses them; a caller driving a Reassembler itself passes them to
// AddKeyLog.
func EmbeddedKeyLogs(src Source) []*KeyLog {
	switch s := src.(type) {
	case *mergeSource:
		var out []*KeyLog
		for _, f := range s.files {
			if k := f.embeddedKeys(); k != nil {
				out = append(out, k)
			}
		}
		return out
	}
	return nil
}

// embeddedKeys returns the file's embedded key log. It is created at open
// (see openCapture), before any reader goroutine runs, so that blocks found
// later still reach the reassembler; nil for pcap files.
func (f *captureFile) embeddedKeys() *KeyLog { return f.secrets.keys }

// AddKeyLog adds key sources to look TLS secrets up in (besides
// Options.KeyLog). Call it before the first packet.
func (r *Reassembler) AddKeyLog(keys ...*KeyLog) {
	for _, k := range keys {
		if k != nil {
			r.keys = append(r.keys, k)
		}
	}
}

// countTLS adds a closed connection's TLS outcome to the statistics.
func (s *StreamStats) countTLS(info *TLSInfo) {
	switch info.Outcome {
	case TLSDecrypted:
		s.TLSDecrypted++
	case TLSNoKeys, TLSNoHandshake:
		s.TLSWithoutKeys++
	case TLSBadKeys:
		s.TLSBadKeys++
	case TLSUnsupported:
		s.TLSUnsupported++
	}
	for d := range info.Stopped {
		s.TLSFailedRecords += int64(info.FailedRecords[d])
		if info.Stopped[d] {
			s.TLSStopped++
		}
	}
}
