package installer

import "context"

// userStep creates the system account the service runs as. Under a prefix (tests, packagers) it
// does nothing and says so.
type userStep struct{}

func (userStep) name() string { return "user" }

func (userStep) plan(_ context.Context, p *Plan) (Change, error) {
	switch {
	case !p.inst.Paths.System():
		return Change{Action: Skip, Target: ServiceUser, Msg: "installer.step.user.skip_prefix"}, nil
	}
	if _, _, err := p.inst.Sys.LookupUser(ServiceUser); err == nil {
		return Change{Action: Keep, Target: ServiceUser, Msg: "installer.step.user.keep", Args: []any{ServiceUser}}, nil
	}
	return Change{Action: Create, Target: ServiceUser, Msg: "installer.step.user.create", Args: []any{ServiceUser}}, nil
}

func (userStep) apply(ctx context.Context, p *Plan) error {
	out, err := p.inst.Sys.Command(ctx, "useradd", "--system", "--user-group", "--no-create-home",
		"--home-dir", p.inst.Paths.DataDir, "--shell", "/usr/sbin/nologin", "--comment", "Rocca", ServiceUser)
	return commandError("useradd", out, err)
}
