//go:build ntlmscope_poison

package reassembly

// poisonBuild is the default of poisonMessages (see message.go): tests
// built with -tags ntlmscope_poison prove that nothing keeps a released
// Message.
const poisonBuild = true
