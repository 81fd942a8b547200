package lab

import (
	"fmt"
	"os"
	"os/user"
	"path/filepath"
	"strconv"
	"syscall"
	"testing"
	"text/template"
)

// squidUser is the account squid switches to after binding its port (Debian's
// default cache_effective_user); its files must be writable by it.
const squidUser = "proxy"

// ntlmFakeAuthPaths are where distributions install squid's ntlm_fake_auth
// helper (Debian: /usr/lib/squid, from `dpkg -L squid`).
var ntlmFakeAuthPaths = []string{
	"/usr/lib/squid/ntlm_fake_auth",
	"/usr/lib64/squid/ntlm_fake_auth",
	"/usr/libexec/squid/ntlm_fake_auth",
}

// findNTLMFakeAuth returns the helper's path, "" when not installed.
func findNTLMFakeAuth() string {
	for _, p := range ntlmFakeAuthPaths {
		if fi, err := os.Stat(p); err == nil && fi.Mode()&0o111 != 0 {
			return p
		}
	}
	return ""
}

// squidConfig is the data of squidTemplate.
type squidConfig struct {
	Dir    string // pid, logs; owned by squidUser
	Listen string // ip:port
	Source string // tcp_outgoing_address
	Helper string // ntlm_fake_auth
	User   string // cache_effective_user
}

// squidTemplate is a forward proxy that requires NTLM proxy authentication
// (407) through ntlm_fake_auth, which runs the NTLM exchange for real and
// accepts any password. Nothing is cached; shutdown is not waited for.
var squidTemplate = template.Must(template.New("squid.conf").Parse(`http_port {{.Listen}}
cache_effective_user {{.User}}
pid_filename {{.Dir}}/squid.pid
cache_log {{.Dir}}/cache.log
access_log stdio:{{.Dir}}/access.log squid
cache_store_log none
coredump_dir {{.Dir}}
cache deny all
cache_mem 8 MB
visible_hostname lab-proxy
tcp_outgoing_address {{.Source}}
auth_param ntlm program {{.Helper}}
auth_param ntlm children 2 startup=1
acl authenticated proxy_auth REQUIRED
http_access allow authenticated
http_access deny all
shutdown_lifetime 0 seconds
`))

// startSquid runs squid in the foreground (-N) with its own configuration,
// logs and pid file in a directory of its own under the system temporary
// directory: the test's directory is not reachable by squidUser.
func startSquid(t testing.TB, listen, source string) (*Proc, error) {
	t.Helper()
	helper := findNTLMFakeAuth()
	if helper == "" {
		return nil, fmt.Errorf("lab: squid's ntlm_fake_auth not found in %v", ntlmFakeAuthPaths)
	}
	dir, err := os.MkdirTemp("", "ntlmscope-lab-squid-")
	if err != nil {
		return nil, err
	}
	t.Cleanup(func() { _ = os.RemoveAll(dir) })
	if err := chownTo(dir, squidUser); err != nil {
		return nil, err
	}
	cfg := squidConfig{Dir: dir, Listen: listen, Source: source, Helper: helper, User: squidUser}
	path := filepath.Join(dir, "squid.conf")
	if err := writeTemplate(path, squidTemplate, cfg); err != nil {
		return nil, err
	}
	p, err := startProc(t, dir, nil, "squid", "-N", "-f", path)
	if err != nil {
		return nil, err
	}
	if err := p.waitListening(listen); err != nil {
		return nil, fmt.Errorf("%w\ncache.log:\n%s", err, readFileString(filepath.Join(dir, "cache.log")))
	}
	return p, nil
}

// stopSquid kills squid. Its graceful shutdown waits seconds for clients
// and helpers, and the lab has nothing to save; the ntlm_fake_auth helpers
// (in process groups of their own) exit when squid's end closes their
// standard input.
func stopSquid(p *Proc) error { return p.Stop(syscall.SIGKILL) }

// chownTo gives path to the named account.
func chownTo(path, account string) error {
	u, err := user.Lookup(account)
	if err != nil {
		return fmt.Errorf("lab: %w", err)
	}
	uid, _ := strconv.Atoi(u.Uid)
	gid, _ := strconv.Atoi(u.Gid)
	return os.Chown(path, uid, gid)
}

// readFileString returns a file's content, or the error reading it.
func readFileString(path string) string {
	b, err := os.ReadFile(path)
	if err != nil {
		return err.Error()
	}
	return string(b)
}
