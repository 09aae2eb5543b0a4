package main

import (
	"context"
	"os"
	"os/signal"
	"runtime/debug"
	"syscall"
)

func (c *cli) cmdServe(args []string) int {
	fs := c.flags("serve", "cli.usage.serve")
	if code, stop := c.parse(fs, args); stop {
		return code
	}
	if fs.NArg() != 0 {
		return c.usageError(fs, "cli.error.no_args")
	}
	cfg, cfgFile, err := c.loadConfig()
	if err != nil {
		return c.fail(err)
	}
	logger := newLogger(c.stderr)
	if cfgFile == "" {
		logger.Info("no config file: running on embedded defaults", "looked_for", c.configPath, "data_dir", cfg.Server.DataDir)
	} else {
		logger.Info("config loaded", "file", cfgFile)
	}
	if mb := cfg.Server.MemoryLimitMB; mb > 0 {
		debug.SetMemoryLimit(int64(mb) << 20) // 0 keeps Go's default, or GOMEMLIMIT from the environment
		logger.Info("soft memory limit set", "mib", mb)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	s, err := newServer(ctx, cfg, c.cat, logger, buildVersion())
	if err != nil {
		logger.Error("cannot start", "err", err)
		return c.fail(err)
	}
	if err := s.run(ctx); err != nil {
		logger.Error("server stopped with an error", "err", err)
		return c.fail(err)
	}
	logger.Info("server stopped")
	return exitOK
}
