package installer

import (
	"context"
	"io/fs"

	"github.com/rocca-pa/rocca"
	"github.com/rocca-pa/rocca/internal/auth"
	"github.com/rocca-pa/rocca/internal/mail"
	"github.com/rocca-pa/rocca/internal/sqlite"
)

// databaseStep creates the database, applies the migrations of the accounts and the outbox (the
// parts apply theirs at the first start) and creates the first administrator unless that e-mail
// has an account already. An existing account is never changed: its password stays.
type databaseStep struct{}

func (databaseStep) name() string { return "database" }

// migrations are those the installer applies, the same cmd/rocca applies first at every start.
func migrations() []sqlite.Migrations {
	return []sqlite.Migrations{auth.Migrations(), mail.Migrations()}
}

func (databaseStep) plan(ctx context.Context, p *Plan) (Change, error) {
	path := p.answers.Config.DatabasePath()
	email := p.answers.Admin.Email
	if !exists(path) {
		return Change{Action: Create, Target: path, Msg: "installer.step.database.create", Args: []any{path, email}}, nil
	}
	db, err := sqlite.Open(ctx, path)
	if err != nil {
		return Change{}, err
	}
	defer db.Close()
	pending, err := pendingMigrations(ctx, db)
	if err != nil {
		return Change{}, err
	}
	hasAdmin := pending == 0 && accountExists(ctx, p, db, email)
	switch {
	case pending == 0 && hasAdmin:
		return Change{Action: Keep, Target: path, Msg: "installer.step.database.keep", Args: []any{path, email}}, nil
	case pending == 0:
		return Change{Action: Update, Target: path, Msg: "installer.step.database.admin", Args: []any{path, email}}, nil
	}
	return Change{Action: Update, Target: path, Msg: "installer.step.database.migrate", Args: []any{path, pending, email}}, nil
}

// pendingMigrations counts the migration files not yet recorded in schema_migrations.
func pendingMigrations(ctx context.Context, db *sqlite.DB) (int, error) {
	applied := map[string]bool{}
	rows, err := db.QueryContext(ctx, `SELECT part || '/' || name FROM schema_migrations`)
	if err == nil {
		defer rows.Close()
		for rows.Next() {
			var k string
			if err := rows.Scan(&k); err != nil {
				return 0, err
			}
			applied[k] = true
		}
	}
	pending := 0
	for _, m := range migrations() {
		names, err := fs.Glob(m.FS, "*.sql")
		if err != nil {
			return 0, err
		}
		for _, n := range names {
			if !applied[m.Part+"/"+n] {
				pending++
			}
		}
	}
	return pending, nil
}

func accountExists(ctx context.Context, p *Plan, db *sqlite.DB, email string) bool {
	svc, err := newAuth(p, db)
	if err != nil {
		return false
	}
	_, err = svc.UserByEmail(ctx, email)
	return err == nil
}

func newAuth(p *Plan, db *sqlite.DB) (*auth.Service, error) {
	c := p.answers.Config
	return auth.NewService(db, p.inst.Cat, p.inst.Logger, p.inst.Sys.Now, auth.Options{
		PublicURL: c.Server.PublicURL, Municipality: c.Municipality.Name,
	})
}

func (databaseStep) apply(ctx context.Context, p *Plan) error {
	db, err := sqlite.Open(ctx, p.answers.Config.DatabasePath())
	if err != nil {
		return err
	}
	defer db.Close()
	if err := db.Migrate(ctx, migrations()...); err != nil {
		return err
	}
	svc, err := newAuth(p, db)
	if err != nil {
		return err
	}
	return createAdmin(ctx, p, svc)
}

// createAdmin adds the administrator unless the account exists; without a password it asks for a
// one-time link with which the admin chooses one.
func createAdmin(ctx context.Context, p *Plan, svc *auth.Service) error {
	a := p.answers
	_, err := svc.UserByEmail(ctx, a.Admin.Email)
	if err == nil {
		return nil
	}
	if rocca.ErrorCodeOf(err) != rocca.ENOTFOUND {
		return err
	}
	_, err = svc.CreateUser(ctx, auth.NewUser{Email: a.Admin.Email, Name: a.Admin.Name, Role: rocca.RoleAdmin,
		Password: a.AdminPassword, Language: a.Config.Municipality.Language})
	if err != nil {
		return err
	}
	p.Outcome.AdminCreated = true
	if a.AdminPassword == "" {
		link, err := svc.PasswordLink(ctx, a.Admin.Email)
		if err != nil {
			return err
		}
		p.Outcome.AdminLink = link
	}
	return nil
}
