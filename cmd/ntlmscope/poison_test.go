//go:build ntlmscope_poison

package main

// Tests built with the ntlmscope_poison tag run the command built with it
// too: the reassembler then poisons the messages it recycles (see
// reassembly.Message), and the golden reports prove that no Handler keeps
// one.
func init() {
	buildFlags = append(buildFlags, "-tags=ntlmscope_poison")
}
