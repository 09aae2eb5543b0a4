package installer

import (
	"context"
	"strings"
)

// unitStep installs the hardened systemd unit.
func unitStep(paths Paths) step {
	return fileStep{id: "unit", path: paths.Unit, mode: 0o644, owner: ownerRoot,
		content: func() ([]byte, error) {
			return RenderUnit(UnitParams{Binary: paths.Binary, Config: paths.Config, DataDir: paths.DataDir, User: ServiceUser}), nil
		}}
}

// forwardingStep turns on IPv4 forwarding for the VPN at every boot: the service may not write
// /proc/sys itself (ProtectKernelTunables).
func forwardingStep(a *Answers, paths Paths) step {
	content := "# Rocca: the VPN forwards devices' traffic to the LAN.\nnet.ipv4.ip_forward = 1\n"
	if !a.Config.VPN.Enabled {
		return skipStep{id: "forwarding", msg: "installer.step.forwarding.skip"}
	}
	return fileStep{id: "forwarding", path: paths.Sysctl, mode: 0o644, owner: ownerRoot,
		content: func() ([]byte, error) { return []byte(content), nil },
		after: func(ctx context.Context, p *Plan) error {
			if !p.inst.Paths.System() || !p.inst.Sys.HasCommand("sysctl") {
				return nil
			}
			// In a container /proc/sys may be read-only: the host must then enable forwarding, which
			// the summary says; the rest of the install goes on.
			if out, err := p.inst.Sys.Command(ctx, "sysctl", "-p", paths.Sysctl); err != nil {
				p.note("installer.note.sysctl_failed", paths.Sysctl, commandError("sysctl", out, err).Error())
			}
			return nil
		}}
}

// skipStep is a step that has nothing to do in this install.
type skipStep struct{ id, msg string }

func (s skipStep) name() string { return s.id }

func (s skipStep) plan(context.Context, *Plan) (Change, error) {
	return Change{Action: Skip, Msg: s.msg}, nil
}

func (s skipStep) apply(context.Context, *Plan) error { return nil }

// commandError wraps err with the last line of the program's output.
func commandError(name string, out []byte, err error) error {
	if err == nil {
		return nil
	}
	lines := strings.Split(strings.TrimSpace(string(out)), "\n")
	return &CommandError{Name: name, Output: lines[len(lines)-1], Err: err}
}

// CommandError is a program the installer ran that failed.
type CommandError struct {
	Name, Output string
	Err          error
}

func (e *CommandError) Error() string {
	if e.Output == "" {
		return e.Name + ": " + e.Err.Error()
	}
	return e.Name + ": " + e.Err.Error() + ": " + e.Output
}

func (e *CommandError) Unwrap() error { return e.Err }
