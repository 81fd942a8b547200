package main

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"time"
)

// exitCode is the process's exit status.
type exitCode int

const (
	exitOK    exitCode = 0
	exitError exitCode = 1
	exitUsage exitCode = 2
)

func run(args []string, stdout, stderr io.Writer) exitCode {
	if len(args) != 1 || args[0] == "-h" || args[0] == "--help" {
		fmt.Fprintln(stderr, "usage: rawread FILE  (a pcap or pcapng file, Ethernet; prints JSON)")
		return exitUsage
	}
	f, err := os.Open(args[0])
	if err != nil {
		fmt.Fprintln(stderr, "rawread:", err)
		return exitError
	}
	defer f.Close()
	res := &result{File: args[0]}
	start := time.Now()
	err = readAll(f, res)
	res.Seconds = time.Since(start).Seconds()
	if err != nil {
		fmt.Fprintf(stderr, "rawread: %s: %v\n", args[0], err)
		return exitError
	}
	if res.Seconds > 0 {
		res.PacketsPerS = float64(res.Packets) / res.Seconds
		res.MBPerS = float64(res.Bytes) / 1e6 / res.Seconds
	}
	enc := json.NewEncoder(stdout)
	if err := enc.Encode(res); err != nil {
		fmt.Fprintln(stderr, "rawread:", err)
		return exitError
	}
	return exitOK
}
