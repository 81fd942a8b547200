// Package reassembly turns captured packets into HTTP/1.1 messages per TCP
// connection.
//
// Data flows through four stages, each in its own files:
//
//   - sources (source*.go): read pcap and pcapng files (plain or gzipped,
//     several merged by timestamp) and decode link, tunnel, IP and TCP
//     headers into [Packet] values;
//   - connection tracking (tracker*.go): give every TCP conversation the
//     index Wireshark's tcp.stream gives it, and a stable [Conn];
//   - TCP reassembly (stream*.go), on gopacket's reassembly package;
//   - TLS decryption (tls*.go), when a key source exists ([KeyLog], or
//     secrets embedded in pcapng captures): records are decrypted and their
//     plaintext goes on to the HTTP parsers;
//   - HTTP/1.1 extraction (http*.go): requests and responses per direction,
//     with the frames and times of their first and last segments.
//
// The results reach a [Handler] as events. The package knows nothing of
// NTLM and makes no judgement: it reports what the capture holds, and
// where evidence was lost (gaps, mid-stream starts, evictions).
package reassembly
