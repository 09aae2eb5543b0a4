package main

import (
	"errors"
	"os"

	"github.com/rocca-pa/rocca/internal/config"
)

// loadConfig loads the config file the user named (it must exist), or the default file if present,
// or the embedded defaults. It returns the config and the file it came from ("" for defaults).
func (c *cli) loadConfig() (*config.Config, string, error) {
	if !c.configExplicit {
		if _, err := os.Stat(c.configPath); errors.Is(err, os.ErrNotExist) {
			cfg, err := config.LoadDefault(c.env)
			return cfg, "", err
		}
	}
	cfg, err := config.Load(c.configPath, c.env)
	return cfg, c.configPath, err
}
