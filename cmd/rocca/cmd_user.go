package main

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"strings"
	"text/tabwriter"

	"golang.org/x/term"

	"github.com/rocca-pa/rocca"
	"github.com/rocca-pa/rocca/internal/adminapi"
)

func (c *cli) cmdUser(args []string) int {
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" {
		w := c.stderr
		if len(args) > 0 {
			w = c.stdout
		}
		fmt.Fprintln(w, c.t("cli.usage.user"))
		if len(args) == 0 {
			return exitUsage
		}
		return exitOK
	}
	switch args[0] {
	case "add":
		return c.userAdd(args[1:])
	case "list":
		return c.userList(args[1:])
	case "passwd":
		return c.userPasswd(args[1:])
	case "disable":
		return c.userDisable(args[1:])
	}
	fmt.Fprintln(c.stderr, c.t("cli.unknown_command", "user "+args[0]))
	fmt.Fprintln(c.stderr, c.t("cli.usage.user"))
	return exitUsage
}

// admin returns a client for the running server's admin socket.
func (c *cli) admin() (*adminapi.Client, error) {
	cfg, _, err := c.loadConfig()
	if err != nil {
		return nil, err
	}
	return adminapi.NewClient(cfg.AdminSocketPath()), nil
}

func (c *cli) userAdd(args []string) int {
	fs := c.flags("user add", "cli.usage.user_add")
	name := fs.String("name", "", c.t("cli.flag.name"))
	role := fs.String("role", "", c.t("cli.flag.role"))
	lang := fs.String("lang", "", c.t("cli.flag.user_lang"))
	stdinPW := fs.Bool("password-stdin", false, c.t("cli.flag.password_stdin"))
	if code, stop := c.parse(fs, args); stop {
		return code
	}
	if fs.NArg() != 1 {
		return c.usageError(fs, "cli.error.need_email")
	}
	if *name == "" || !rocca.Role(*role).Valid() {
		return c.usageError(fs, "cli.error.need_name_role")
	}
	req := adminapi.UserAddRequest{Email: fs.Arg(0), Name: *name, Role: rocca.Role(*role), Language: *lang}
	if *stdinPW {
		pw, err := readLine(c.stdin)
		if err != nil {
			return c.fail(err)
		}
		req.Password = pw
	}
	cl, err := c.admin()
	if err != nil {
		return c.fail(err)
	}
	var res adminapi.UserAddResponse
	if err := cl.Do(context.Background(), "POST", "/v1/users", req, &res); err != nil {
		return c.fail(err)
	}
	fmt.Fprintln(c.stdout, c.t("cli.user.added", res.User.Email, string(res.User.Role)))
	if res.SetPasswordLink != "" {
		fmt.Fprintln(c.stdout, c.t("cli.user.set_password_link", res.SetPasswordLink))
	}
	return exitOK
}

func (c *cli) userList(args []string) int {
	fs := c.flags("user list", "cli.usage.user_list")
	asJSON := fs.Bool("json", false, c.t("cli.flag.json"))
	if code, stop := c.parse(fs, args); stop {
		return code
	}
	cl, err := c.admin()
	if err != nil {
		return c.fail(err)
	}
	var users []*rocca.User
	if err := cl.Do(context.Background(), "GET", "/v1/users", nil, &users); err != nil {
		return c.fail(err)
	}
	if *asJSON {
		return c.printJSON(users)
	}
	tw := tabwriter.NewWriter(c.stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, c.t("cli.user.list_header"))
	for _, u := range users {
		state := c.t("cli.user.active")
		if u.Disabled {
			state = c.t("cli.user.disabled")
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", u.Email, u.Name, u.Role, state)
	}
	tw.Flush()
	return exitOK
}

func (c *cli) userPasswd(args []string) int {
	fs := c.flags("user passwd", "cli.usage.user_passwd")
	stdinPW := fs.Bool("password-stdin", false, c.t("cli.flag.password_stdin"))
	if code, stop := c.parse(fs, args); stop {
		return code
	}
	if fs.NArg() != 1 {
		return c.usageError(fs, "cli.error.need_email")
	}
	pw, err := c.newPassword(*stdinPW)
	if err != nil {
		return c.fail(err)
	}
	cl, err := c.admin()
	if err != nil {
		return c.fail(err)
	}
	req := adminapi.PasswordRequest{Password: pw}
	if err := cl.Do(context.Background(), "POST", "/v1/users/"+fs.Arg(0)+"/password", req, nil); err != nil {
		return c.fail(err)
	}
	fmt.Fprintln(c.stdout, c.t("cli.user.password_changed", fs.Arg(0)))
	return exitOK
}

func (c *cli) userDisable(args []string) int {
	fs := c.flags("user disable", "cli.usage.user_disable")
	if code, stop := c.parse(fs, args); stop {
		return code
	}
	if fs.NArg() != 1 {
		return c.usageError(fs, "cli.error.need_email")
	}
	cl, err := c.admin()
	if err != nil {
		return c.fail(err)
	}
	if err := cl.Do(context.Background(), "POST", "/v1/users/"+fs.Arg(0)+"/disable", nil, nil); err != nil {
		return c.fail(err)
	}
	fmt.Fprintln(c.stdout, c.t("cli.user.disabled_ok", fs.Arg(0)))
	return exitOK
}

// newPassword reads a password from standard input, or asks twice on the terminal without echo.
func (c *cli) newPassword(fromStdin bool) (string, error) {
	f, isFile := c.stdin.(*os.File)
	if fromStdin || !isFile || !term.IsTerminal(int(f.Fd())) {
		return readLine(c.stdin)
	}
	fmt.Fprint(c.stderr, c.t("cli.prompt.password"))
	a, err := term.ReadPassword(int(f.Fd()))
	fmt.Fprintln(c.stderr)
	if err != nil {
		return "", fmt.Errorf("read password: %w", err)
	}
	fmt.Fprint(c.stderr, c.t("cli.prompt.password_again"))
	b, err := term.ReadPassword(int(f.Fd()))
	fmt.Fprintln(c.stderr)
	if err != nil {
		return "", fmt.Errorf("read password: %w", err)
	}
	if string(a) != string(b) {
		return "", rocca.Localized(rocca.EINVALID, "cli.error.password_mismatch", "the two passwords differ")
	}
	return string(a), nil
}

func readLine(r io.Reader) (string, error) {
	line, err := bufio.NewReader(r).ReadString('\n')
	if err != nil && line == "" {
		return "", rocca.Localized(rocca.EINVALID, "cli.error.no_password", "no password on standard input")
	}
	return strings.TrimRight(line, "\r\n"), nil
}

func (c *cli) printJSON(v any) int {
	enc := json.NewEncoder(c.stdout)
	enc.SetIndent("", "  ")
	if err := enc.Encode(v); err != nil {
		return c.fail(err)
	}
	return exitOK
}
