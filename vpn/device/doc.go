// Package device owns the WireGuard interface of the VPN part on the host: choosing kernel WireGuard
// or the embedded userspace golang.zx2c4.com/wireguard (with its UAPI socket, so wgctrl and `wg show`
// work the same in both modes), or configuring an interface another program runs without ever
// creating or deleting it (external mode); the interface's private key, listen port, addresses, MTU
// and routes, incremental peer changes, and the nftables table `inet rocca` that forwards, filters
// and masquerades VPN traffic. It talks to the kernel only through netlink (vishvananda/netlink,
// google/nftables, wgctrl) and never runs `wg`, `ip`, `nft` or `iptables`.
//
// It knows nothing about users, peers in the database or HTTP. Only package vpn and cmd/rocca may
// import it.
package device
