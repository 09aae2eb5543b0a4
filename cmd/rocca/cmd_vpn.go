package main

import (
	"context"
	"fmt"
	"os"
	"strconv"
	"text/tabwriter"
	"time"

	"golang.org/x/term"

	"github.com/rocca-pa/rocca"
	"github.com/rocca-pa/rocca/vpn"
)

func (c *cli) cmdVPN(args []string) int {
	if len(args) == 0 {
		fmt.Fprintln(c.stderr, c.t("cli.usage.vpn"))
		return exitUsage
	}
	switch args[0] {
	case "status":
		return c.vpnStatus(args[1:])
	case "import":
		return c.vpnImport(args[1:])
	case "peer":
		if len(args) > 1 {
			switch args[1] {
			case "add":
				return c.vpnPeerAdd(args[2:])
			case "list":
				return c.vpnPeerList(args[2:])
			case "revoke":
				return c.vpnPeerRevoke(args[2:])
			}
		}
	case "-h", "--help", "help":
		fmt.Fprintln(c.stdout, c.t("cli.usage.vpn"))
		return exitOK
	}
	fmt.Fprintln(c.stderr, c.t("cli.usage.vpn"))
	return exitUsage
}

func (c *cli) vpnStatus(args []string) int {
	fs := c.flags("vpn status", "cli.usage.vpn")
	asJSON := fs.Bool("json", false, c.t("cli.flag.json"))
	if code, stop := c.parse(fs, args); stop {
		return code
	}
	var st vpn.Status
	if code, ok := c.adminDo("GET", "/v1/vpn/status", nil, &st); !ok {
		return code
	}
	if *asJSON {
		return c.printJSON(st)
	}
	state := c.t("cli.vpn.up", st.Mode)
	if !st.Up {
		problem := st.Problem
		if st.ProblemKey != "" {
			problem = c.t(st.ProblemKey, st.ProblemArgs...)
		}
		state = c.t("cli.vpn.down", problem)
	}
	fmt.Fprintln(c.stdout, c.t("cli.vpn.status", st.Interface, state, st.Endpoint, st.Subnet, st.PublicKey, st.Peers, st.Online, st.FreeAddresses))
	return exitOK
}

func (c *cli) vpnPeerAdd(args []string) int {
	fs := c.flags("vpn peer add", "cli.usage.vpn_peer_add")
	var in vpn.PeerAddRequest
	fs.StringVar(&in.User, "user", "", c.t("cli.flag.vpn_user"))
	fs.StringVar(&in.Name, "name", "", c.t("cli.flag.vpn_name"))
	fs.StringVar(&in.PublicKey, "public-key", "", c.t("cli.flag.vpn_public_key"))
	fs.StringVar(&in.Expires, "expires", "", c.t("cli.flag.vpn_expires"))
	fs.BoolVar(&in.Link, "link", false, c.t("cli.flag.vpn_link"))
	fs.BoolVar(&in.Email, "email", false, c.t("cli.flag.vpn_email"))
	out := fs.String("out", "", c.t("cli.flag.vpn_out"))
	qr := fs.Bool("qr", false, c.t("cli.flag.vpn_qr"))
	asJSON := fs.Bool("json", false, c.t("cli.flag.json"))
	if code, stop := c.parse(fs, args); stop {
		return code
	}
	if in.User == "" || in.Name == "" || fs.NArg() != 0 {
		return c.usageError(fs, "cli.error.vpn_user_name")
	}
	var res vpn.PeerAddResponse
	if code, ok := c.adminDo("POST", "/v1/vpn/peers", in, &res); !ok {
		return code
	}
	if *asJSON {
		if *out != "" && res.Config != "" {
			// The private key goes to the file only, not also to standard output.
			if err := writeSecretFile(*out, res.Config); err != nil {
				return c.fail(err)
			}
			res.Config = ""
		}
		return c.printJSON(res)
	}
	fmt.Fprintln(c.stdout, c.t("cli.vpn.peer_added", res.Peer.ID, res.Peer.Name, res.Peer.Owner, res.Peer.Address))
	if res.Link != nil {
		fmt.Fprintln(c.stdout, c.t("cli.vpn.link", res.Link.URL, res.Link.ExpiresAt.Local().Format("02/01/2006 15:04")))
		if res.Link.Emailed != "" {
			fmt.Fprintln(c.stdout, c.t("cli.vpn.link_emailed", res.Link.Emailed))
		}
	}
	if res.Config == "" {
		return exitOK
	}
	return c.deliverConfig(res.Config, res.FileName, *out, *qr)
}

// deliverConfig writes the client configuration (which holds the private key, shown this once) to
// a 0600 file, as a QR code on the terminal, or to standard output.
func (c *cli) deliverConfig(config, fileName, out string, qr bool) int {
	if out != "" {
		if err := writeSecretFile(out, config); err != nil {
			return c.fail(err)
		}
		fmt.Fprintln(c.stdout, c.t("cli.vpn.config_written", out))
	}
	if qr {
		code, err := vpn.TerminalQR(config, c.termWidth())
		if err != nil {
			return c.fail(err)
		}
		fmt.Fprint(c.stdout, code)
		fmt.Fprintln(c.stdout, c.t("cli.vpn.qr_hint"))
	}
	if out == "" && !qr {
		fmt.Fprintln(c.stderr, c.t("cli.vpn.config_once", fileName))
		fmt.Fprint(c.stdout, config)
	}
	return exitOK
}

// writeSecretFile writes a client configuration (it holds a private key) readable by its owner only.
func writeSecretFile(path, body string) error {
	if err := os.WriteFile(path, []byte(body), 0o600); err != nil {
		return rocca.Localized(rocca.EINVALID, "cli.error.write_file", "cannot write "+path+": "+err.Error(), path, err.Error())
	}
	return nil
}

func (c *cli) termWidth() int {
	if f, ok := c.stdout.(*os.File); ok {
		if w, _, err := term.GetSize(int(f.Fd())); err == nil {
			return w
		}
	}
	return 80
}

func (c *cli) vpnPeerList(args []string) int {
	fs := c.flags("vpn peer list", "cli.usage.vpn")
	asJSON := fs.Bool("json", false, c.t("cli.flag.json"))
	all := fs.Bool("all", false, c.t("cli.flag.vpn_all"))
	if code, stop := c.parse(fs, args); stop {
		return code
	}
	path := "/v1/vpn/peers"
	if *all {
		path += "?all=1"
	}
	var peers []*vpn.Peer
	if code, ok := c.adminDo("GET", path, nil, &peers); !ok {
		return code
	}
	if *asJSON {
		return c.printJSON(peers)
	}
	tw := tabwriter.NewWriter(c.stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, c.t("cli.vpn.list_header"))
	for _, p := range peers {
		seen := "-"
		if !p.LastHandshake.IsZero() {
			seen = p.LastHandshake.Local().Format("02/01 15:04")
		}
		online := ""
		if p.Online {
			online = "●"
		}
		fmt.Fprintf(tw, "%d\t%s\t%s\t%s\t%s\t%s %s\n", p.ID, p.Owner, p.Name, p.Address, p.State, online, seen)
	}
	tw.Flush()
	return exitOK
}

func (c *cli) vpnPeerRevoke(args []string) int {
	fs := c.flags("vpn peer revoke", "cli.usage.vpn")
	if code, stop := c.parse(fs, args); stop {
		return code
	}
	id, err := strconv.ParseInt(fs.Arg(0), 10, 64)
	if fs.NArg() != 1 || err != nil {
		return c.usageError(fs, "cli.error.vpn_peer_id")
	}
	if code, ok := c.adminDo("POST", "/v1/vpn/peers/"+fs.Arg(0)+"/revoke", nil, nil); !ok {
		return code
	}
	fmt.Fprintln(c.stdout, c.t("cli.vpn.revoked", id))
	return exitOK
}

func (c *cli) vpnImport(args []string) int {
	fs := c.flags("vpn import", "cli.usage.vpn")
	user := fs.String("user", "", c.t("cli.flag.vpn_import_user"))
	if code, stop := c.parse(fs, args); stop {
		return code
	}
	if fs.NArg() != 1 {
		return c.usageError(fs, "cli.error.one_file")
	}
	body, err := os.ReadFile(fs.Arg(0))
	if err != nil {
		return c.fail(rocca.Localized(rocca.EINVALID, "cli.error.read_file", "cannot read "+fs.Arg(0)+": "+err.Error(), fs.Arg(0), err.Error()))
	}
	var res vpn.ImportResult
	if code, ok := c.adminDo("POST", "/v1/vpn/import", vpn.ImportRequest{Config: string(body), User: *user}, &res); !ok {
		return code
	}
	for _, w := range res.Warnings {
		fmt.Fprintln(c.stderr, c.t(w.Key, w.Args...))
	}
	fmt.Fprintln(c.stdout, c.t("cli.vpn.imported", len(res.Added), len(res.Skipped), res.PublicKey))
	return exitOK
}

// adminDo calls the running server and, on failure, prints the error and returns the exit code.
func (c *cli) adminDo(method, path string, in, out any) (int, bool) {
	cl, err := c.admin()
	if err != nil {
		return c.fail(err), false
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if err := cl.Do(ctx, method, path, in, out); err != nil {
		return c.fail(err), false
	}
	return exitOK, true
}
