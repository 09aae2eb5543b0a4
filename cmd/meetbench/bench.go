package main

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"strings"
	"sync"
	"time"
)

// bench is one run of the tool: a temporary directory with the config and data of a `rocca
// serve` it starts and stops, the accounts, and the results.
type bench struct {
	o       options
	start   time.Time // origin of the tool's clock
	dir     string
	config  string
	base    string // http://127.0.0.1:port
	udpPort int    // the SFU's media port

	cmd  *exec.Cmd
	done chan struct{}
	log  *os.File // the server's output

	accounts []*account
	results  []*result
	started  time.Time
}

// account is a user of the test municipality with a signed-in browser session.
type account struct {
	email string
	http  *http.Client
}

func newBench(o options) *bench { return &bench{o: o, start: time.Now()} }

// now is the tool's monotonic clock in nanoseconds: publishers stamp packets with it and
// receivers compare against it, in the same process.
func (b *bench) now() int64 { return int64(time.Since(b.start)) }

func (b *bench) logf(format string, args ...any) {
	fmt.Fprintf(os.Stderr, "meetbench: "+format+"\n", args...)
}

// run prepares the accounts, then runs every scenario on a freshly started server and writes the
// report. A failed scenario is reported in the table and makes the run fail at the end.
func (b *bench) run(ctx context.Context) error {
	b.started = time.Now()
	if err := b.prepare(ctx); err != nil {
		return err
	}
	var scenarios []scenario
	if b.o.council > 0 {
		scenarios = append(scenarios, scenario{council: true, publishers: b.o.council})
	}
	for _, n := range b.o.subscribers {
		scenarios = append(scenarios, scenario{publishers: b.o.publishers, subscribers: n})
	}
	var failed []string
	for _, sc := range scenarios {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		res := b.runScenario(ctx, sc)
		b.results = append(b.results, res)
		if res.err != nil {
			b.logf("%s: %v", sc, res.err)
		}
		if res.err != nil || len(res.problems) > 0 {
			failed = append(failed, sc.String())
		}
	}
	if ctx.Err() != nil {
		return ctx.Err()
	}
	if err := b.write(); err != nil {
		return err
	}
	if len(failed) > 0 {
		return fmt.Errorf("failed: %s (see the report)", strings.Join(failed, ", "))
	}
	return nil
}

// prepare writes the config, starts the server once to add and sign in the users, and stops it.
func (b *bench) prepare(ctx context.Context) error {
	dir, err := os.MkdirTemp("", "meetbench-")
	if err != nil {
		return err
	}
	b.dir = dir
	if err := b.writeConfig(); err != nil {
		return err
	}
	if err := b.startServer(ctx); err != nil {
		return err
	}
	if err := b.addUsers(ctx); err != nil {
		return err
	}
	return b.stopServer()
}

// parallel runs fn(0..n-1) with at most width at a time and returns the first error; after an
// error it starts no more.
func parallel(ctx context.Context, n, width int, fn func(context.Context, int) error) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	sem := make(chan struct{}, width)
	var wg sync.WaitGroup
	var once sync.Once
	var first error
	for i := range n {
		select {
		case sem <- struct{}{}:
		case <-ctx.Done():
		}
		if ctx.Err() != nil {
			break
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			if err := fn(ctx, i); err != nil {
				once.Do(func() { first = err; cancel() })
			}
		}()
	}
	wg.Wait()
	if first == nil && ctx.Err() != nil {
		first = ctx.Err()
	}
	return first
}
