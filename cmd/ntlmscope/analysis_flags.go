package main

import (
	"fmt"
	"time"

	"github.com/spf13/pflag"
)

// analysisOptions are the flags that tune the analysis itself, the same
// for analyze and capture.
type analysisOptions struct {
	RestartWindow time.Duration
	IdleTimeout   time.Duration
	MaxConns      int
	KeyLogs       []string
}

// addAnalysisFlags registers the analysis flags on a command.
func addAnalysisFlags(f *pflag.FlagSet, o *analysisOptions) {
	f.DurationVar(&o.RestartWindow, "restart-window", 30*time.Second, "a new handshake by the same client within this time after a failed one counts as a restart")
	f.DurationVar(&o.IdleTimeout, "idle-timeout", 5*time.Minute, "end a connection idle this long in capture time")
	f.IntVar(&o.MaxConns, "max-connections", 250_000, "connections tracked at once; the least recently active are evicted (and counted) beyond it")
	f.StringArrayVar(&o.KeyLogs, "keylog", nil, keylogUsage)
}

// evictionWarning says that the connection table overflowed, what it
// costs, and what to do; workers is 1 for a run that was not sharded.
func evictionWarning(evicted int64, maxConns, workers int) string {
	w := fmt.Sprintf("%d connections were evicted from a full table (--max-connections %d): their analysis stopped early; raise --max-connections", evicted, maxConns)
	if workers > 1 {
		w += fmt.Sprintf(" (with --workers %d each worker has a share of the table, so which ones were evicted can differ from --workers 1)", workers)
	}
	return w
}
