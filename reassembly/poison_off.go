//go:build !ntlmscope_poison

package reassembly

// poisonBuild is the default of poisonMessages (see message.go).
const poisonBuild = false
