package main

import (
	"fmt"
	"os"
	"runtime"
	"runtime/pprof"

	"github.com/spf13/cobra"
)

// profileOptions are the hidden --cpuprofile and --memprofile flags: a user
// who reports a slow run can attach profiles that `go tool pprof` reads.
type profileOptions struct {
	CPUProfile string
	MemProfile string

	cpuFile *os.File
}

// addProfileFlags registers the hidden profiling flags on root.
func addProfileFlags(root *cobra.Command, opts *profileOptions) {
	f := root.PersistentFlags()
	f.StringVar(&opts.CPUProfile, "cpuprofile", "", "write a CPU profile to this file")
	f.StringVar(&opts.MemProfile, "memprofile", "", "write a heap profile to this file at exit")
	_ = f.MarkHidden("cpuprofile")
	_ = f.MarkHidden("memprofile")
}

// start begins CPU profiling when asked to.
func (o *profileOptions) start() error {
	if o.CPUProfile == "" {
		return nil
	}
	f, err := os.Create(o.CPUProfile)
	if err != nil {
		return fmt.Errorf("--cpuprofile: %w", err)
	}
	if err := pprof.StartCPUProfile(f); err != nil {
		f.Close()
		return fmt.Errorf("--cpuprofile: %w", err)
	}
	o.cpuFile = f
	return nil
}

// stop ends CPU profiling and writes the heap profile when asked to.
func (o *profileOptions) stop() error {
	if o.cpuFile != nil {
		pprof.StopCPUProfile()
		if err := o.cpuFile.Close(); err != nil {
			return fmt.Errorf("--cpuprofile: %w", err)
		}
		o.cpuFile = nil
	}
	if o.MemProfile == "" {
		return nil
	}
	f, err := os.Create(o.MemProfile)
	if err != nil {
		return fmt.Errorf("--memprofile: %w", err)
	}
	defer f.Close()
	runtime.GC()
	if err := pprof.Lookup("allocs").WriteTo(f, 0); err != nil {
		return fmt.Errorf("--memprofile: %w", err)
	}
	return nil
}
