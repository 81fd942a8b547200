package synth

// The small capture the tests check ntlmscope against (see synth_test.go).
//go:generate go run ../cmd/ntlmgen -profile small -seed 1 -size 150000 -o ../../testdata/synth/small.pcapng -expect ../../testdata/synth/small.expected.json
