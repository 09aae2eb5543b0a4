package device

import (
	"context"
	"errors"
	"io"
	"io/fs"
	"net/netip"
	"strings"
	"testing"

	"github.com/rocca-pa/rocca"
	"github.com/rocca-pa/rocca/internal/i18n"
	"golang.org/x/sys/unix"
)

// TestUserErrorsInCatalog checks every user error of the package against the catalog: the key is
// there in both languages, the arguments fit its placeholders, and the English message in the
// code says what the catalog says.
func TestUserErrorsInCatalog(t *testing.T) {
	c, err := i18n.New()
	if err != nil {
		t.Fatal(err)
	}
	errs := []error{
		errNoPermission(nil), errNoTUN(nil), errTUNDenied(nil), errNoKernelModule(nil),
		errNameInUse("rocca0", nil), errKernelLinkExists("rocca0"), errPortInUse(51820, nil),
		firewallErr(io.EOF), enableForwarding("/proc/version"),
		(&Device{}).SetRoutes(context.Background(), []netip.Prefix{{}}),
		errExternalMissing("rocca0"), errExternal("rocca0", "tun", unix.EACCES),
		errExternal("rocca0", "bridge", fs.ErrNotExist),
	}
	for _, change := range []func(*Options){
		func(o *Options) { o.Name = "" }, func(o *Options) { o.Mode = "x" }, func(o *Options) { o.ListenPort = 0 },
		func(o *Options) { o.PrivateKey = [32]byte{} }, func(o *Options) { o.MTU = 1 },
		func(o *Options) { o.Addresses = []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8")} },
	} {
		o := validOptions(t)
		change(&o)
		errs = append(errs, o.Validate())
	}
	for _, r := range []Rule{{}, {Dst: netip.MustParsePrefix("10.0.0.0/8"), Proto: "sctp"}} {
		_, err := buildRuleset("rocca0", netip.MustParsePrefix("10.86.0.0/24"), Policy{Rules: []Rule{r}}, false)
		errs = append(errs, err)
	}
	_, err = buildRuleset("rocca0", netip.Prefix{}, Policy{}, false)
	errs = append(errs, err)

	for _, err := range errs {
		var e *rocca.Error
		if !errors.As(err, &e) || e.Key == "" {
			t.Errorf("%v: not a user error with a catalog key", err)
			continue
		}
		for _, lang := range i18n.Languages() {
			if !c.Has(lang, e.Key) {
				t.Errorf("key %s missing in %s", e.Key, lang)
			}
			if msg := c.T(lang, e.Key, e.Args...); strings.Contains(msg, "%!") {
				t.Errorf("key %s in %s does not fit its arguments %v: %s", e.Key, lang, e.Args, msg)
			}
		}
		if en := c.T("en", e.Key, e.Args...); en != e.Message {
			t.Errorf("key %s: code says %q, catalog says %q", e.Key, e.Message, en)
		}
	}
}
