package lab

import (
	"bufio"
	"context"
	"fmt"
	"os/exec"
	"regexp"
	"strconv"
	"strings"
)

// curlRun is one curl invocation: several URLs, so that curl reuses its
// connection between them as it does for a real user's session.
type curlRun struct {
	// User is the account, for the client legs (DOMAIN\user).
	User string
	// Args are curl's arguments (authentication options, URLs).
	Args []string
	// LocalIP is the source address (--interface).
	LocalIP string
	// Env is added to curl's environment (NTLM_USER_FILE for gss-ntlmssp).
	Env []string
}

// run runs curl verbosely and returns the requests it made, read from its
// trace: curl's own account of each leg.
func (c curlRun) run(ctx context.Context) ([]ClientLeg, error) {
	args := append([]string{"--silent", "--show-error", "--verbose", "--interface", c.LocalIP}, c.Args...)
	cmd := exec.CommandContext(ctx, "curl", args...)
	cmd.Env = append(cmd.Environ(), c.Env...)
	var stderr strings.Builder
	cmd.Stderr = &stderr
	if err := cmd.Run(); err != nil {
		return nil, fmt.Errorf("lab: curl %s: %w\n%s", strings.Join(args, " "), err, stderr.String())
	}
	return parseCurlTrace(c.User, stderr.String())
}

var (
	curlRequestRE  = regexp.MustCompile(`^> [A-Z]+ (\S+) HTTP/1\.[01]\r?$`)
	curlStatusRE   = regexp.MustCompile(`^< HTTP/1\.[01] (\d{3})`)
	curlAuthHeader = regexp.MustCompile(`^> (Proxy-Authorization|Authorization): (.*?)\r?$`)
)

// parseCurlTrace reads curl --verbose output: "> " lines are request
// headers, "< " lines response headers.
func parseCurlTrace(user, trace string) ([]ClientLeg, error) {
	var legs []ClientLeg
	var cur *ClientLeg
	sc := bufio.NewScanner(strings.NewReader(trace))
	for sc.Scan() {
		line := sc.Text()
		if m := curlRequestRE.FindStringSubmatch(line); m != nil {
			legs = append(legs, ClientLeg{User: user, Path: m[1], Step: stepOf("")})
			cur = &legs[len(legs)-1]
			continue
		}
		if cur == nil {
			continue
		}
		if m := curlAuthHeader.FindStringSubmatch(line); m != nil {
			cur.Step = stepOf(m[2])
			cur.Proxy = m[1] == "Proxy-Authorization"
			continue
		}
		if m := curlStatusRE.FindStringSubmatch(line); m != nil {
			cur.Status, _ = strconv.Atoi(m[1])
		}
	}
	for _, l := range legs {
		if l.Status == 0 {
			return legs, fmt.Errorf("lab: curl trace: no response to %s:\n%s", l.Path, trace)
		}
	}
	return legs, nil
}
