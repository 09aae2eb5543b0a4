package main

import (
	"fmt"
	"os"

	"github.com/rocca-pa/rocca/conferencing/council"
)

// cmdCouncil: `rocca council verify RECORD_FILE` checks a sealed session record offline.
func (c *cli) cmdCouncil(args []string) int {
	if len(args) == 0 || args[0] != "verify" {
		if len(args) > 0 && (args[0] == "-h" || args[0] == "--help") {
			fmt.Fprintln(c.stdout, c.t("cli.usage.council_verify"))
			return exitOK
		}
		fmt.Fprintln(c.stderr, c.t("cli.usage.council_verify"))
		return exitUsage
	}
	fs := c.flags("council verify", "cli.usage.council_verify")
	if code, stop := c.parse(fs, args[1:]); stop {
		return code
	}
	if fs.NArg() != 1 {
		return c.usageError(fs, "cli.error.one_file")
	}
	f, err := os.Open(fs.Arg(0))
	if err != nil {
		fmt.Fprintln(c.stderr, "rocca: "+c.t("cli.council.open", fs.Arg(0), err.Error()))
		return exitError
	}
	defer f.Close()
	res, err := council.Verify(f, nil)
	if err != nil {
		return c.fail(err)
	}
	if res.Valid {
		fmt.Fprintln(c.stdout, c.t("cli.council.valid", fs.Arg(0), res.Entries, res.SealedAt, res.Fingerprint()))
		return exitOK
	}
	if res.Entry > 0 {
		fmt.Fprintln(c.stderr, c.t("cli.council.invalid_entry", fs.Arg(0), res.Entry, c.t("cli.council.problem."+string(res.Problem))))
	} else {
		fmt.Fprintln(c.stderr, c.t("cli.council.invalid", fs.Arg(0), c.t("cli.council.problem."+string(res.Problem))))
	}
	return exitError
}
