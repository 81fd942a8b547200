package lab

import (
	"slices"
	"testing"

	"github.com/ntlmscope/ntlmscope/internal/ntlmserver"
)

// A proxy-authenticated curl session, as curl --verbose prints it (headers
// trimmed): Type 1 → 407, Type 3 → 200, then a request on the
// authenticated connection.
const curlProxyTrace = `* Connected to 127.1.6.20 (127.1.6.20) port 48080 (#0)
> GET http://127.1.6.101:48081/s6/1 HTTP/1.1
> Host: 127.1.6.101:48081
> Proxy-Authorization: NTLM TlRMTVNTUAABAAAABoIIAAAAAAAAAAAAAAAAAAAAAAA=
>
< HTTP/1.1 407 Proxy Authentication Required
< Proxy-Authenticate: NTLM TlRMTVNTUAACAAAACQAJAK6qqqoGgggAE/a5qUAlHYoAAAAAAAA6AFdPUktHUk9VUA==
> GET http://127.1.6.101:48081/s6/1 HTTP/1.1
> Proxy-Authorization: NTLM TlRMTVNTUAADAAAAGAAYAEAAAAAwADAAWAAAAAMAAwCIAAAABQAFAIsAAAALAAsAkAAAAAAAAAAAAAAABoIIABUUhKzHW1kT/hqczaQQ9h2Dwis3FFhmhPkbAsoe2h0/WWBX76XqDesBAQAAAAAAAICGfeoJe90Bg8IrNxRYZoQAAAAAAAAAAExBQmFsaWNlV09SS1NUQVRJT04=
>
< HTTP/1.1 200 OK
> GET http://127.1.6.101:48081/s6/2 HTTP/1.1
>
< HTTP/1.1 200 OK
`

func TestParseCurlTrace(t *testing.T) {
	legs, err := parseCurlTrace(`LAB\alice`, curlProxyTrace)
	if err != nil {
		t.Fatal(err)
	}
	want := []ClientLeg{
		{User: `LAB\alice`, Path: "http://127.1.6.101:48081/s6/1", Step: ntlmserver.StepType1, Proxy: true, Status: 407},
		{User: `LAB\alice`, Path: "http://127.1.6.101:48081/s6/1", Step: ntlmserver.StepType3, Proxy: true, Status: 200},
		{User: `LAB\alice`, Path: "http://127.1.6.101:48081/s6/2", Step: ntlmserver.StepNone, Status: 200},
	}
	if !slices.Equal(legs, want) {
		t.Fatalf("legs\n %+v\nwant\n %+v", legs, want)
	}
	tr := &Truth{Clients: legs}
	if got, want := tr.ClientUsers(), []UserCounts{counts(`LAB\alice`, 1, 1, 0, 1)}; !slices.Equal(got, want) {
		t.Errorf("client users %v, want %v", got, want)
	}
}

func TestServerUsersCountsTheBackendsView(t *testing.T) {
	tr := &Truth{Backends: []ntlmserver.Entry{
		{Step: ntlmserver.StepNone, Status: 401, Result: ntlmserver.ResultOffered},
		{Step: ntlmserver.StepType1, Status: 401, Result: ntlmserver.ResultChallenged},
		{Step: ntlmserver.StepType3, Status: 401, Result: ntlmserver.ResultNoChallenge, User: `LAB\bob`},
		{Step: ntlmserver.StepType1, Status: 401, Result: ntlmserver.ResultChallenged},
		{Step: ntlmserver.StepType3, Status: 200, Result: ntlmserver.ResultAuthenticated, User: `LAB\bob`},
		{Step: ntlmserver.StepNone, Status: 200, Result: ntlmserver.ResultSession, User: `LAB\bob`},
	}}
	want := []UserCounts{counts(`LAB\bob`, 2, 1, 1, 1)}
	if got := tr.ServerUsers(); !slices.Equal(got, want) {
		t.Fatalf("server users %v, want %v", got, want)
	}
	if got := tr.Type3Results(); !slices.Equal(got, []ntlmserver.Result{ntlmserver.ResultNoChallenge, ntlmserver.ResultAuthenticated}) {
		t.Errorf("type 3 results %v", got)
	}
}
