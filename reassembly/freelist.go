package reassembly

// maxFree bounds each free list (internal/freelist). A Reassembler recycles its connections,
// their tracker entries and its HTTP messages through free lists; without
// a bound a list would keep, until the run ends, as many values as were
// ever released at once: up to the peak of open connections, which
// Options.MaxConnections lets reach 250,000. Recycling needs only what a
// burst of closings releases before new connections take it back. On the
// 2 GB benchmark capture, whose open connections peak at about 1,650, the
// retired ones exceed 1024 only once its last connection has opened, as
// the others close with nothing left to reuse them, and at most 45
// messages wait at once: this bound leaves its allocations unchanged
// (4096 would too), while a full list of retired connections
// (one to two kilobytes each; some 18 KB should both parsers keep their
// largest buffer) holds one or two megabytes, 18 MB at worst. Beyond
// the bound a value is left to the garbage collector. A sharded run has
// lists per worker, as it has connections.
const maxFree = 1024
