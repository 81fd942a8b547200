package reassembly

import (
	"net"
	"net/netip"
	"os"
	"strconv"
	"strings"

	"github.com/gopacket/gopacket/layers"
)

// ARPHRD values (Linux if_arp.h) that decide how an interface is read.
const (
	arphrdEther    = 1
	arphrdLoopback = 772
)

// LiveInterface describes a network interface a capture can use.
type LiveInterface struct {
	// Index is the kernel's interface index; 0 for "any".
	Index int
	// Name is the interface name.
	Name string
	// Flags are the interface flags (up, loopback, ...).
	Flags net.Flags
	// HardwareType is the ARPHRD type (1 Ethernet, 772 loopback, 65534
	// none for tun and WireGuard...), 0 when unknown.
	HardwareType int
	// LinkType is how a capture on it delivers packets: Ethernet for
	// Ethernet and loopback interfaces, raw IP for every other one (the
	// kernel strips their link header).
	LinkType layers.LinkType
	// Addrs are the interface's addresses.
	Addrs []netip.Prefix
}

// Interfaces lists the interfaces of the system, in index order.
func Interfaces() ([]LiveInterface, error) {
	ifs, err := net.Interfaces()
	if err != nil {
		return nil, err
	}
	out := make([]LiveInterface, 0, len(ifs))
	for _, i := range ifs {
		out = append(out, describe(i))
	}
	return out, nil
}

// describe fills a LiveInterface from the system's description.
func describe(i net.Interface) LiveInterface {
	li := LiveInterface{Index: i.Index, Name: i.Name, Flags: i.Flags, HardwareType: hardwareType(i)}
	li.LinkType = layers.LinkTypeRaw
	if li.HardwareType == arphrdEther || li.HardwareType == arphrdLoopback {
		li.LinkType = layers.LinkTypeEthernet
	}
	if addrs, err := i.Addrs(); err == nil {
		for _, a := range addrs {
			if n, ok := a.(*net.IPNet); ok {
				if addr, ok := netip.AddrFromSlice(n.IP); ok {
					bits, _ := n.Mask.Size()
					li.Addrs = append(li.Addrs, netip.PrefixFrom(addr.Unmap(), bits))
				}
			}
		}
	}
	return li
}

// hardwareType reads the ARPHRD type from sysfs, or guesses it from the
// flags and hardware address where sysfs is not there.
func hardwareType(i net.Interface) int {
	if b, err := os.ReadFile("/sys/class/net/" + i.Name + "/type"); err == nil {
		if n, err := strconv.Atoi(strings.TrimSpace(string(b))); err == nil {
			return n
		}
	}
	switch {
	case i.Flags&net.FlagLoopback != 0:
		return arphrdLoopback
	case len(i.HardwareAddr) == 6:
		return arphrdEther
	}
	return 0
}

// LookupInterface returns the interface named name, or the "any"
// pseudo-interface. The error is a *LiveError wrapping ErrNoInterface that
// lists the interfaces there are.
func LookupInterface(name string) (LiveInterface, error) {
	if name == AnyInterface {
		return anyInterface(), nil
	}
	i, err := net.InterfaceByName(name)
	if err != nil {
		return LiveInterface{}, noInterface(name)
	}
	return describe(*i), nil
}

// anyInterface is the pseudo-interface of -i any.
func anyInterface() LiveInterface {
	return LiveInterface{Name: AnyInterface, LinkType: layers.LinkTypeRaw, Flags: net.FlagUp}
}
