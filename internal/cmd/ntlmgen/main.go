// Command ntlmgen writes a synthetic pcapng of NTLM over HTTP behind a load
// balancer, with the counts ntlmscope must report, for benchmarks and
// end-to-end tests:
//
//	go run ./internal/cmd/ntlmgen -seed 1 -size 2GB -o /tmp/big.pcapng -expect /tmp/big.expected.json
//
// With -check it compares an ntlmscope JSON report with an expected file
// instead, prints PASS or FAIL with the fields that differ, and exits 1 on
// FAIL:
//
//	ntlmgen -check report.json -expect /tmp/big.expected.json
//
// See internal/synth for the scenarios and what each contributes.
package main

import "os"

func main() { os.Exit(int(run(os.Args[1:], os.Stdout, os.Stderr))) }
