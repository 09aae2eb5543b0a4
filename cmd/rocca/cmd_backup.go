package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"

	"github.com/rocca-pa/rocca"
	"github.com/rocca-pa/rocca/internal/adminapi"
	"github.com/rocca-pa/rocca/internal/backup"
	"github.com/rocca-pa/rocca/internal/mail"
	"github.com/rocca-pa/rocca/internal/sqlite"
)

// cmdBackup writes an archive while the server may be running: SQLite's VACUUM INTO reads a
// consistent snapshot alongside the server's writers. The key of the mail accounts' OAuth2
// sign-ins goes in only with --with-oauth-key.
func (c *cli) cmdBackup(args []string) int {
	fs := c.flags("backup", "cli.usage.backup")
	withKey := fs.Bool("with-oauth-key", false, c.t("cli.flag.with_oauth_key"))
	if code, stop := c.parse(fs, args); stop {
		return code
	}
	if fs.NArg() != 1 {
		return c.usageError(fs, "cli.error.one_file")
	}
	cfg, cfgFile, err := c.loadConfig()
	if err != nil {
		return c.fail(err)
	}
	dbPath := cfg.DatabasePath()
	if _, err := os.Stat(dbPath); err != nil {
		return c.fail(rocca.Localized(rocca.ENOTFOUND, "cli.backup.no_database", "no database at "+dbPath, dbPath))
	}
	ctx := context.Background()
	db, err := sqlite.Open(ctx, dbPath)
	if err != nil {
		return c.fail(err)
	}
	defer db.Close()
	dest, _ := filepath.Abs(fs.Arg(0))
	src := backup.Source{DB: db, DataDir: cfg.Server.DataDir, ConfigFile: cfgFile, Version: buildVersion()}
	if *withKey {
		src.OAuthKey = filepath.Join(cfg.Server.DataDir, mail.KeyFileName)
		if _, err := os.Stat(src.OAuthKey); err != nil {
			return c.fail(rocca.Localized(rocca.ENOTFOUND, "cli.backup.no_oauth_key", "no OAuth2 key at "+src.OAuthKey+": no mail account was ever signed in with OAuth2", src.OAuthKey))
		}
	}
	m, err := backup.Create(ctx, src, dest)
	if err != nil {
		return c.fail(err)
	}
	fmt.Fprintln(c.stdout, c.t("cli.backup.done", dest, len(m.Files)))
	if *withKey {
		fmt.Fprintln(c.stdout, c.t("cli.backup.oauth_key_included"))
	}
	return exitOK
}

// cmdRestore replaces the data dir's database and keys with an archive's, after checking it; the
// server must be stopped.
func (c *cli) cmdRestore(args []string) int {
	fs := c.flags("restore", "cli.usage.restore")
	fs.Bool("verify", true, c.t("cli.flag.verify"))
	if code, stop := c.parse(fs, args); stop {
		return code
	}
	if fs.NArg() != 1 {
		return c.usageError(fs, "cli.error.one_file")
	}
	cfg, cfgFile, err := c.loadConfig()
	if err != nil {
		return c.fail(err)
	}
	ctx := context.Background()
	if err := adminapi.NewClient(cfg.AdminSocketPath()).Do(ctx, "GET", "/v1/ping", nil, nil); rocca.ErrorCodeOf(err) != rocca.EUNAVAILABLE {
		return c.fail(rocca.Localized(rocca.ECONFLICT, "cli.restore.server_running", "stop the server before restoring"))
	}
	res, err := backup.Restore(ctx, fs.Arg(0), backup.Target{DataDir: cfg.Server.DataDir, ConfigFile: cfgFile})
	if err != nil {
		return c.fail(err)
	}
	fmt.Fprintln(c.stdout, c.t("cli.restore.done", fs.Arg(0), cfg.Server.DataDir, len(res.Manifest.Files)))
	if res.MovedAside != "" {
		fmt.Fprintln(c.stdout, c.t("cli.restore.moved_aside", res.MovedAside))
	}
	if res.ConfigNote != "" {
		fmt.Fprintln(c.stdout, c.t("cli.restore.config_kept", cfgFile, res.ConfigNote))
	}
	if res.OAuthKey {
		fmt.Fprintln(c.stdout, c.t("cli.restore.oauth_key"))
	}
	return exitOK
}
