package main

// exitCode is what ntlmscope returns to the shell; scripts rely on it.
type exitCode int

const (
	// exitOK: the command ran, whatever it found.
	exitOK exitCode = 0
	// exitError: a usage error or an input that could not be read.
	exitError exitCode = 1
	// exitFailOn: the report matched --fail-on.
	exitFailOn exitCode = 3
)

// failOnError is returned by a command whose report matched --fail-on: the
// run succeeded, but the exit code says so.
type failOnError struct{ reason string }

func (e *failOnError) Error() string { return "--fail-on matched: " + e.reason }
