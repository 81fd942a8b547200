package analyzer

import (
	"math"
	"time"
)

// nanotime is a capture time as Unix nanoseconds: 8 bytes where a
// time.Time takes 24, for what the analyzer keeps per request, exchange and
// handshake step until the report is built.
type nanotime int64

// noTime stands for the zero time.Time (a step not seen).
const noTime nanotime = math.MinInt64

// nanoOf converts t; the zero time becomes noTime.
func nanoOf(t time.Time) nanotime {
	if t.IsZero() {
		return noTime
	}
	return nanotime(t.UnixNano())
}

// time converts n back (in UTC, as the report shows times).
func (n nanotime) time() time.Time {
	if n == noTime {
		return time.Time{}
	}
	return time.Unix(0, int64(n)).UTC()
}
