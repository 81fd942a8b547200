// Command ntlmscope finds out why NTLM logins through a load balancer or
// proxy misbehave, from a packet capture.
//
//	ntlmscope analyze trace.pcapng
//
// See `ntlmscope --help`.
package main

import "os"

func main() { os.Exit(int(run(os.Args[1:], systemIO()))) }
