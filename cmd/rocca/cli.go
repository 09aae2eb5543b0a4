package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/rocca-pa/rocca"
	"github.com/rocca-pa/rocca/internal/config"
	"github.com/rocca-pa/rocca/internal/i18n"
)

// Exit codes (DESIGN.md): 0 success, 1 user error with a one-line message, 2 usage error.
const (
	exitOK    = 0
	exitError = 1
	exitUsage = 2
)

const defaultConfigPath = "/etc/rocca/rocca.toml"

// cli carries what every command needs: streams, environment, catalog and language.
type cli struct {
	stdin          io.Reader
	stdout, stderr io.Writer
	env            []string
	cat            *i18n.Catalog
	lang           string
	configPath     string // from --config, ROCCA_CONFIG or the default
	configExplicit bool   // the user named a config file: it must exist
}

type command struct {
	name    string
	summary string // catalog key
	run     func(c *cli, args []string) int
}

func newCLI(stdin io.Reader, stdout, stderr io.Writer, env []string) *cli {
	cat, err := i18n.New()
	if err != nil {
		fmt.Fprintln(stderr, "rocca:", err)
		os.Exit(exitError)
	}
	c := &cli{stdin: stdin, stdout: stdout, stderr: stderr, env: env, cat: cat}
	c.lang = cat.Supported(c.envLang())
	c.configPath = defaultConfigPath
	if p := c.getenv("ROCCA_CONFIG"); p != "" {
		c.configPath, c.configExplicit = p, true
	}
	return c
}

func (c *cli) commands() []command {
	return []command{
		{"serve", "cli.cmd.serve", (*cli).cmdServe},
		{"config", "cli.cmd.config", (*cli).cmdConfig},
		{"user", "cli.cmd.user", (*cli).cmdUser},
		{"vpn", "cli.cmd.vpn", (*cli).cmdVPN},
		{"meeting", "cli.cmd.meeting", (*cli).cmdMeeting},
		{"ticket", "cli.cmd.ticket", (*cli).cmdTicket},
		{"council", "cli.cmd.council", (*cli).cmdCouncil},
		{"backup", "cli.cmd.backup", (*cli).cmdBackup},
		{"restore", "cli.cmd.restore", (*cli).cmdRestore},
		{"version", "cli.cmd.version", (*cli).cmdVersion},
		{"install", "cli.cmd.install", (*cli).cmdInstall},
		{"doctor", "cli.cmd.doctor", (*cli).cmdDoctor},
		{"mail", "cli.cmd.mail", (*cli).cmdMail},
	}
}

// envLang picks the CLI language: ROCCA_LANG, then the POSIX locale variables.
func (c *cli) envLang() string {
	for _, k := range []string{"ROCCA_LANG", "LC_ALL", "LC_MESSAGES", "LANG"} {
		if v := c.getenv(k); v != "" && v != "C" && v != "POSIX" {
			return v
		}
	}
	return i18n.Default
}

func (c *cli) getenv(key string) string {
	for _, kv := range c.env {
		if k, v, ok := strings.Cut(kv, "="); ok && k == key {
			return v
		}
	}
	return ""
}

func (c *cli) t(key string, args ...any) string { return c.cat.T(c.lang, key, args...) }

func (c *cli) run(args []string) int {
	// Global flags may come before the command.
	for len(args) > 0 && strings.HasPrefix(args[0], "-") {
		switch {
		case args[0] == "-h" || args[0] == "--help" || args[0] == "-help":
			c.usage(c.stdout)
			return exitOK
		case (args[0] == "--config" || args[0] == "-config") && len(args) > 1:
			c.setConfig(args[1])
			args = args[2:]
		case strings.HasPrefix(args[0], "--config="):
			c.setConfig(strings.TrimPrefix(args[0], "--config="))
			args = args[1:]
		default:
			fmt.Fprintln(c.stderr, c.t("cli.unknown_flag", args[0]))
			return exitUsage
		}
	}
	if len(args) == 0 {
		c.usage(c.stderr)
		return exitUsage
	}
	if args[0] == "help" {
		c.usage(c.stdout)
		return exitOK
	}
	for _, cmd := range c.commands() {
		if cmd.name == args[0] {
			return cmd.run(c, args[1:])
		}
	}
	fmt.Fprintln(c.stderr, c.t("cli.unknown_command", args[0]))
	return exitUsage
}

func (c *cli) setConfig(p string) { c.configPath, c.configExplicit = p, true }

func (c *cli) usage(w io.Writer) {
	fmt.Fprintln(w, c.t("cli.usage"))
	fmt.Fprintln(w)
	for _, cmd := range c.commands() {
		fmt.Fprintf(w, "  %-10s %s\n", cmd.name, c.t(cmd.summary))
	}
	fmt.Fprintln(w)
	fmt.Fprintln(w, c.t("cli.usage_footer"))
}

// flags returns a FlagSet for a subcommand with the global --config flag and localized help.
func (c *cli) flags(name, usageKey string) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(c.stderr)
	fs.Func("config", c.t("cli.flag.config"), func(v string) error { c.setConfig(v); return nil })
	fs.Usage = func() {
		fmt.Fprintln(fs.Output(), c.t(usageKey))
		fmt.Fprintln(fs.Output())
		fs.PrintDefaults()
	}
	return fs
}

// parse parses args and returns an exit code when the command must stop (help or usage error).
// Help goes to standard output with exit 0; a usage error goes to standard error with exit 2.
func (c *cli) parse(fs *flag.FlagSet, args []string) (int, bool) {
	args = interleave(fs, args)
	for _, a := range args {
		if a == "--" {
			break
		}
		if a == "-h" || a == "-help" || a == "--help" {
			fs.SetOutput(c.stdout)
			fs.Usage()
			return exitOK, true
		}
	}
	fs.SetOutput(c.stderr)
	if err := fs.Parse(args); err != nil {
		return exitUsage, true
	}
	return 0, false
}

// interleave moves flags after positional arguments to the front, so that
// `rocca user add anna@x --name Anna` works like the documented form.
func interleave(fs *flag.FlagSet, args []string) []string {
	var flags, pos []string
	for i := 0; i < len(args); i++ {
		a := args[i]
		if a == "--" {
			pos = append(pos, args[i+1:]...)
			break
		}
		if !strings.HasPrefix(a, "-") || a == "-" {
			pos = append(pos, a)
			continue
		}
		flags = append(flags, a)
		name := strings.TrimLeft(a, "-")
		if strings.Contains(name, "=") {
			continue
		}
		if f := fs.Lookup(name); f != nil && !isBool(f) && i+1 < len(args) {
			flags = append(flags, args[i+1])
			i++
		}
	}
	return append(flags, pos...)
}

func isBool(f *flag.Flag) bool {
	b, ok := f.Value.(interface{ IsBoolFlag() bool })
	return ok && b.IsBoolFlag()
}

// fail prints err in the user's language (one line; one per problem for a bad config) and returns
// the exit code for it.
func (c *cli) fail(err error) int {
	var probs *config.Problems
	if errors.As(err, &probs) {
		for _, p := range *probs {
			fmt.Fprintln(c.stderr, p.Text(c.cat, c.lang))
		}
		return exitError
	}
	fmt.Fprintln(c.stderr, "rocca: "+c.message(err))
	return exitError
}

// message renders an error for the user: catalog text when the error carries a key.
func (c *cli) message(err error) string {
	var re *rocca.Error
	if errors.As(err, &re) {
		if re.Key != "" && c.cat.Has(c.lang, re.Key) {
			return c.cat.T(c.lang, re.Key, re.Args...)
		}
		if re.Code != rocca.EINTERNAL {
			return re.Message
		}
	}
	return c.t("cli.internal_error", err.Error())
}

func (c *cli) usageError(fs *flag.FlagSet, key string, args ...any) int {
	fmt.Fprintln(c.stderr, "rocca: "+c.t(key, args...))
	fs.Usage()
	return exitUsage
}

func (c *cli) cmdVersion(args []string) int {
	fs := c.flags("version", "cli.usage.version")
	if code, stop := c.parse(fs, args); stop {
		return code
	}
	fmt.Fprintln(c.stdout, "rocca", buildVersion())
	return exitOK
}

func buildVersion() string {
	if version != "" {
		return version
	}
	return rocca.Version
}
