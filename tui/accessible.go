package tui

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"

	"golang.org/x/sys/unix"

	"github.com/rocca-pa/rocca/installer"
)

// errStop ends the accessible wizard: end of input or Ctrl+C.
var errStop = errors.New("stopped")

// lineWizard asks the same questions as the full-screen wizard as plain lines, one after the
// other, without colours, boxes or cursor movement: what a screen reader reads well.
type lineWizard struct {
	ctx   context.Context
	o     Options
	t     func(key string, args ...any) string
	out   io.Writer
	lines chan string // lines of input, read by one goroutine that ends with the input
	fd    int         // the terminal, to hide typed passwords; -1 when input is not one
}

func runAccessible(ctx context.Context, o Options) (Result, error) {
	w := &lineWizard{ctx: ctx, o: o, out: o.Out, lines: make(chan string), fd: -1}
	w.t = func(key string, args ...any) string { return o.Installer.Cat.T(o.Lang, key, args...) }
	if f, ok := o.In.(*os.File); ok {
		if _, err := unix.IoctlGetTermios(int(f.Fd()), unix.TCGETS); err == nil {
			w.fd = int(f.Fd())
		}
	}
	go w.read(o.In)
	res, pre := w.run()
	printAfter(o, res, pre)
	return res, nil
}

// read feeds input lines to the wizard until the input ends; it is the only reader of In.
func (w *lineWizard) read(in io.Reader) {
	defer close(w.lines)
	sc := bufio.NewScanner(in)
	for sc.Scan() {
		w.lines <- sc.Text()
	}
}

func (w *lineWizard) run() (Result, *installer.Report) {
	inst := w.o.Installer
	fmt.Fprintln(w.out, w.t("tui.title"))
	def, _ := inst.Defaults(w.ctx)
	pre := installer.Preflight(w.ctx, inst.Input(def), w.o.Forced, systemChecks...)
	if len(pre.Blockers()) > 0 {
		return Result{Status: Blocked}, &pre
	}
	pre.WriteText(w.out, inst.Cat, w.o.Lang)
	f := &forms{t: w.t, def: def, v: newValues(def), paths: inst.Paths}
	for {
		if err := w.askAll(f); err != nil {
			return Result{Status: Cancelled}, nil
		}
		res, again := w.confirm(f)
		if !again {
			return res, nil
		}
	}
}

func (w *lineWizard) askAll(f *forms) error {
	for _, p := range f.pages() {
		if p.hidden != nil && p.hidden() {
			continue
		}
		fmt.Fprintf(w.out, "\n%s\n", p.title)
		if p.desc != "" {
			fmt.Fprintln(w.out, p.desc)
		}
		for _, q := range p.questions {
			if err := w.ask(q); err != nil {
				return err
			}
		}
	}
	return nil
}

// ask asks one question until the answer is valid.
func (w *lineWizard) ask(q question) error {
	if q.desc != "" {
		fmt.Fprintln(w.out, q.desc)
	}
	for {
		err := w.askOnce(q)
		if err == nil || errors.Is(err, errStop) {
			return err
		}
		fmt.Fprintln(w.out, w.t("tui.accessible.invalid", err.Error()))
	}
}

func (w *lineWizard) askOnce(q question) error {
	switch q.kind {
	case choice:
		return w.askChoice(q)
	case yesNo:
		return w.askYesNo(q)
	}
	prompt := q.title
	if d := q.defaultValue(); d != "" && q.kind != secret {
		prompt += " " + w.t("tui.accessible.default", d)
	}
	line, err := w.prompt(prompt+": ", q.kind == secret)
	if err != nil {
		return err
	}
	if err := check(q)(line); err != nil {
		return err
	}
	*q.str = strings.TrimSpace(line)
	return nil
}

func (w *lineWizard) askChoice(q question) error {
	fmt.Fprintln(w.out, q.title)
	current := 1
	for i, o := range q.options {
		fmt.Fprintf(w.out, "  %d. %s\n", i+1, o.label)
		if o.value == *q.str {
			current = i + 1
		}
	}
	line, err := w.prompt(w.t("tui.accessible.choose", len(q.options), current), false)
	if err != nil {
		return err
	}
	n := current
	if strings.TrimSpace(line) != "" {
		if n, err = strconv.Atoi(strings.TrimSpace(line)); err != nil || n < 1 || n > len(q.options) {
			return errors.New(w.t("tui.accessible.choose_range", len(q.options)))
		}
	}
	*q.str = q.options[n-1].value
	return nil
}

func (w *lineWizard) askYesNo(q question) error {
	def := w.t("tui.yes")
	if !*q.flag {
		def = w.t("tui.no")
	}
	line, err := w.prompt(q.title+" "+w.t("tui.accessible.yes_no", def)+" ", false)
	if err != nil {
		return err
	}
	switch strings.ToLower(strings.TrimSpace(line)) {
	case "":
	case "s", "si", "sì", "y", "yes":
		*q.flag = true
	case "n", "no":
		*q.flag = false
	default:
		return errors.New(w.t("tui.accessible.yes_no_invalid"))
	}
	return nil
}

// prompt prints text and returns the next line; typed secrets are not echoed on a terminal.
func (w *lineWizard) prompt(text string, hide bool) (string, error) {
	fmt.Fprint(w.out, text)
	if hide && w.fd >= 0 {
		defer w.echo(true)
		w.echo(false)
	}
	select {
	case line, ok := <-w.lines:
		if hide && w.fd >= 0 {
			fmt.Fprintln(w.out)
		}
		if !ok {
			return "", errStop
		}
		return line, nil
	case <-w.ctx.Done():
		fmt.Fprintln(w.out)
		return "", errStop
	}
}

// echo turns the terminal's echo of typed characters on or off.
func (w *lineWizard) echo(on bool) {
	t, err := unix.IoctlGetTermios(w.fd, unix.TCGETS)
	if err != nil {
		return
	}
	if on {
		t.Lflag |= unix.ECHO
	} else {
		t.Lflag &^= unix.ECHO
	}
	unix.IoctlSetTermios(w.fd, unix.TCSETS, t)
}
