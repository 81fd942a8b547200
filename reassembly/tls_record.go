package reassembly

import (
	"encoding/binary"
	"errors"
	"sync"
)

// TLS record content types (RFC 8446 §5.1, RFC 6520 for heartbeat).
const (
	ctChangeCipherSpec uint8 = 20
	ctAlert            uint8 = 21
	ctHandshake        uint8 = 22
	ctApplicationData  uint8 = 23
	ctHeartbeat        uint8 = 24
)

// Record size limits. RFC 5246 §6.2.3 allows a TLS 1.2 ciphertext
// fragment of 2^14 + 2048 bytes; RFC 8446 §5.2 allows 2^14 + 256 in TLS
// 1.3. A longer length field means the stream is not (or no longer) TLS.
const (
	tlsRecordHeader  = 5
	maxTLSFragment   = 1<<14 + 2048
	maxTLSRecordSize = tlsRecordHeader + maxTLSFragment
)

// recordBufs pools the buffers of records split across segments, so that
// a connection holds one only while a record is in flight.
var recordBufs = sync.Pool{New: func() any { return new([maxTLSRecordSize]byte) }}

// errNotTLS is a record header that cannot be TLS: the direction lost
// framing (or never had it).
var errNotTLS = errors.New("not a TLS record header")

// tlsRecord is one record as framed: hdr is its 5-byte header, body its
// fragment. Both are valid only during the callback.
type tlsRecord struct {
	typ     uint8
	version uint16
	hdr     []byte
	body    []byte
	seg     Segment // where its last byte was captured
}

// recordReader frames the TLS records of one direction out of bytes that
// arrive in any pieces: several records per TCP segment, or one record
// across many. Every record is
//
//	struct {
//	    ContentType type;                  // 20..24
//	    ProtocolVersion legacy_record_version; // 0x03 0x00..0x04
//	    uint16 length;                     // <= 2^14 + 2048
//	    opaque fragment[length];
//	} TLSPlaintext / TLSCiphertext;        // RFC 8446 §5.1, RFC 5246 §6.2
//
// A record wholly inside one piece is handed over in place; only a record
// split across pieces is copied, into a buffer of at most maxTLSRecordSize
// bytes.
type recordReader struct {
	buf  []byte                  // the record so far, in *pooled
	pool *[maxTLSRecordSize]byte // from recordBufs while buf is used
	// drop counts bytes of a record damaged by a gap still to be skipped;
	// dropping says such a record is being skipped, dropType and dropLen
	// are its type and fragment length.
	drop     int
	dropping bool
	dropType uint8
	dropLen  int
}

// feed frames data. fn receives each complete record; lost receives the
// type and fragment length of each record damaged by a gap, once its end is
// reached. An error means the stream is not TLS from here on.
func (r *recordReader) feed(data []byte, seg Segment, fn func(rec *tlsRecord), lost func(typ uint8, length int, seg Segment)) error {
	if r.dropping {
		n := min(r.drop, len(data))
		r.drop -= n
		data = data[n:]
		if r.drop > 0 {
			return nil
		}
		r.dropping = false
		lost(r.dropType, r.dropLen, seg)
	}
	var rec tlsRecord
	rec.seg = seg
	if len(r.buf) > 0 {
		// Complete the header, then the record, held from earlier pieces.
		if len(r.buf) < tlsRecordHeader {
			n := min(tlsRecordHeader-len(r.buf), len(data))
			r.buf = append(r.buf, data[:n]...)
			data = data[n:]
			if len(r.buf) < tlsRecordHeader {
				return nil
			}
			if err := checkRecordHeader(r.buf); err != nil {
				r.release()
				return err
			}
		}
		need := tlsRecordHeader + int(binary.BigEndian.Uint16(r.buf[3:])) - len(r.buf)
		n := min(need, len(data))
		r.buf = append(r.buf, data[:n]...)
		data = data[n:]
		if n < need {
			return nil
		}
		fillRecord(&rec, r.buf)
		fn(&rec)
		r.release()
	}
	for len(data) >= tlsRecordHeader {
		if err := checkRecordHeader(data); err != nil {
			return err
		}
		end := tlsRecordHeader + int(binary.BigEndian.Uint16(data[3:]))
		if end > len(data) {
			break
		}
		fillRecord(&rec, data[:end])
		fn(&rec)
		data = data[end:]
	}
	if len(data) > 0 {
		if len(data) >= tlsRecordHeader {
			if err := checkRecordHeader(data); err != nil {
				return err
			}
		}
		r.pool = recordBufs.Get().(*[maxTLSRecordSize]byte)
		r.buf = append(r.pool[:0], data...)
	}
	return nil
}

// release returns the buffer of a record split across segments.
func (r *recordReader) release() {
	if r.pool != nil {
		recordBufs.Put(r.pool)
	}
	r.buf, r.pool = nil, nil
}

// gap accounts for missing bytes (-1: unknown) lost before the next feed.
// When they fall inside the body of the record being read, that record
// alone is lost: its end is still known, and so are the sequence numbers
// after it. It reports false when framing is lost (the gap spans a record
// header, or its size is unknown).
func (r *recordReader) gap(missing int) bool {
	if r.dropping {
		if missing < 0 || missing > r.drop {
			return false
		}
		r.drop -= missing
		return true
	}
	if missing < 0 || len(r.buf) < tlsRecordHeader {
		return false
	}
	length := int(binary.BigEndian.Uint16(r.buf[3:]))
	rest := tlsRecordHeader + length - len(r.buf)
	if missing > rest {
		return false
	}
	r.dropType, r.dropLen = r.buf[0], length
	r.release()
	r.drop, r.dropping = rest-missing, true
	return true
}

// pending reports whether a record was cut off (for the end of the
// stream).
func (r *recordReader) pending() bool { return len(r.buf) > 0 || r.dropping }

// close releases the buffer when the direction is done with. (Not from
// inside a callback: the record handed over may be in the buffer.)
func (r *recordReader) close() { r.release() }

// checkRecordHeader checks the first five bytes of a record.
func checkRecordHeader(h []byte) error {
	typ, major, minor := h[0], h[1], h[2]
	if typ < ctChangeCipherSpec || typ > ctHeartbeat || major != 3 || minor > 4 {
		return errNotTLS
	}
	if int(binary.BigEndian.Uint16(h[3:])) > maxTLSFragment {
		return errNotTLS
	}
	return nil
}

// fillRecord points rec at the record b.
func fillRecord(rec *tlsRecord, b []byte) {
	rec.typ = b[0]
	rec.version = binary.BigEndian.Uint16(b[1:])
	rec.hdr = b[:tlsRecordHeader]
	rec.body = b[tlsRecordHeader:]
}
