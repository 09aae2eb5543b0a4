package main

import (
	"context"
	"fmt"

	"github.com/rocca-pa/rocca/installer"
)

// cmdDoctor is `rocca doctor [--json]`: the installer's preflight checks on an installed system.
// The JSON format is documented in docs/doctor.md and pinned by a golden test.
func (c *cli) cmdDoctor(args []string) int {
	fs := c.flags("doctor", "cli.usage.doctor")
	asJSON := fs.Bool("json", false, c.t("cli.flag.json"))
	fs.Func("lang", c.t("cli.flag.install_lang"), c.setLang)
	if code, stop := c.parse(fs, args); stop {
		return code
	}
	if fs.NArg() > 0 {
		return c.usageError(fs, "cli.error.no_args")
	}
	cfg, path, err := c.loadConfig()
	if err != nil {
		return c.fail(err)
	}
	paths := installer.NewPaths("")
	if path != "" {
		paths.Config = path
	}
	in := installer.Input{Sys: installer.NewHost(), Config: cfg, Paths: paths, Doctor: true}
	rep := installer.Preflight(context.Background(), in, nil)
	if *asJSON {
		if err := rep.WriteJSON(c.stdout, c.cat, c.lang, path); err != nil {
			return c.fail(err)
		}
	} else {
		rep.WriteText(c.stdout, c.cat, c.lang)
		fmt.Fprintln(c.stdout, c.t("cli.doctor.summary", len(rep.Results)-len(rep.Problems()), len(rep.Problems())-len(rep.Blockers()), len(rep.Blockers())))
	}
	if len(rep.Blockers()) > 0 {
		return exitBlocked
	}
	return exitOK
}
