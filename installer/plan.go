package installer

import (
	"context"
	"fmt"

	"github.com/rocca-pa/rocca/internal/i18n"
)

// Action is what a step will do, found by comparing the desired state with the machine.
type Action string

// The actions. Only Create and Update change anything.
const (
	Create Action = "create"
	Update Action = "update"
	Keep   Action = "keep" // already as wanted
	Skip   Action = "skip" // not done in this kind of install; the message says why
)

// Change is one step of the plan: what it will do to which target, and a message (catalog key).
type Change struct {
	Step   string
	Action Action
	Target string
	Msg    string
	Args   []any
}

// Changes reports whether the step will change the machine.
func (c Change) Changes() bool { return c.Action == Create || c.Action == Update }

// Text is the message in lang.
func (c Change) Text(cat *i18n.Catalog, lang string) string { return cat.T(lang, c.Msg, c.Args...) }

// step is one unit of work. plan looks and changes nothing; apply brings the target to the desired
// state and is called only when plan returned Create or Update.
type step interface {
	name() string
	plan(ctx context.Context, p *Plan) (Change, error)
	apply(ctx context.Context, p *Plan) error
}

// Outcome is what the summary needs to know after Apply.
type Outcome struct {
	AdminEmail      string
	AdminCreated    bool
	AdminLink       string // one-time link to choose the password, when none was given
	CertFingerprint string // SHA-256 of the self-signed certificate, for the user to compare
	ServiceStarted  bool
	Healthy         bool
	Notes           []Note // things the user should know that did not stop the install
	// MailPending are the OAuth2 mail accounts still to sign in after the install (set by
	// NoteMailSignIns): the summary says how.
	MailPending []MailSignIn
}

// Note is a message (catalog key) for the summary.
type Note struct {
	Msg  string
	Args []any
}

func (p *Plan) note(msg string, args ...any) {
	p.Outcome.Notes = append(p.Outcome.Notes, Note{Msg: msg, Args: args})
}

// Plan is the list of steps with what each will do. Build it with Installer.Plan, show Changes,
// then Apply.
type Plan struct {
	inst    *Installer
	answers *Answers
	steps   []step
	changes []Change
	Outcome Outcome
}

// Plan compares the answers with the machine and returns the plan; it changes nothing.
func (in *Installer) Plan(ctx context.Context, a *Answers) (*Plan, error) {
	p := &Plan{inst: in, answers: a, steps: in.steps(a)}
	p.Outcome.AdminEmail = a.Admin.Email
	for _, s := range p.steps {
		c, err := s.plan(ctx, p)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", s.name(), err)
		}
		c.Step = s.name()
		p.changes = append(p.changes, c)
	}
	return p, nil
}

// steps lists the steps in the order they run: who owns files before the files, the files before
// the database, the database before ownership is fixed, everything before the service starts.
func (in *Installer) steps(a *Answers) []step {
	steps := []step{userStep{}, binaryStep{}, dataDirStep{}}
	steps = append(steps, secretSteps(a, in.Paths)...)
	steps = append(steps, configStep(a, in.Paths, in.Cat), keysStep{}, tlsStep{}, databaseStep{},
		ownershipStep{}, forwardingStep(a, in.Paths), unitStep(in.Paths), serviceStep{}, healthStep{})
	return steps
}

// Changes returns what each step will do, in order.
func (p *Plan) Changes() []Change { return p.changes }

// Changed reports whether Apply would change anything.
func (p *Plan) Changed() bool {
	for _, c := range p.changes {
		if c.Changes() {
			return true
		}
	}
	return false
}

// changeOf returns the planned change of the named step.
func (p *Plan) changeOf(name string) Change {
	for _, c := range p.changes {
		if c.Step == name {
			return c
		}
	}
	return Change{}
}

// EventState is where a step is.
type EventState string

// The states of a step during Apply.
const (
	StepRunning EventState = "running"
	StepDone    EventState = "done"
	StepFailed  EventState = "failed"
)

// Event reports progress: step Index of Total is in State.
type Event struct {
	Index, Total int
	Change       Change
	State        EventState
	Err          error
}

// Apply runs the steps that change something, reporting each to progress (which may be nil). It
// stops at the first error, or between steps when ctx is cancelled: every step is atomic, so the
// machine is left as it was or part-way, and the next run converges.
func (p *Plan) Apply(ctx context.Context, progress func(Event)) error {
	if progress == nil {
		progress = func(Event) {}
	}
	for i, s := range p.steps {
		c := p.changes[i]
		ev := Event{Index: i, Total: len(p.steps), Change: c, State: StepRunning}
		if !c.Changes() {
			ev.State = StepDone
			progress(ev)
			continue
		}
		if err := ctx.Err(); err != nil {
			return err
		}
		progress(ev)
		if err := s.apply(ctx, p); err != nil {
			ev.State, ev.Err = StepFailed, err
			progress(ev)
			return fmt.Errorf("%s: %w", s.name(), err)
		}
		ev.State = StepDone
		progress(ev)
	}
	return nil
}
