package device

import (
	"bytes"
	"context"
	"fmt"
	"net/netip"
	"reflect"
	"slices"
	"strings"

	"github.com/google/nftables"
	"github.com/google/nftables/expr"
)

// FirewallState lists the table `inet rocca` as the kernel holds it, read back through netlink,
// in a canonical text: chains with their hooks and rules in order, named sets with their elements
// sorted, and anonymous sets by their elements. Handles, counters' values and set ids are left
// out, so two tables that filter the same way list the same, whether built at once by
// ApplyFirewall or changed by UpdateFirewallSets. "" means there is no table. For diagnostics
// and tests.
func FirewallState(ctx context.Context) (string, error) {
	if err := ctx.Err(); err != nil {
		return "", err
	}
	present, err := FirewallPresent(ctx)
	if err != nil || !present {
		return "", err
	}
	c, err := nftables.New()
	if err != nil {
		return "", fmt.Errorf("open nftables: %w", err)
	}
	t := &nftables.Table{Name: FirewallTable, Family: nftables.TableFamilyINet}
	all, err := c.ListChainsOfTableFamily(nftables.TableFamilyINet)
	if err != nil {
		return "", fmt.Errorf("list chains: %w", err)
	}
	var chains []*nftables.Chain
	for _, ch := range all {
		if ch.Table.Name == FirewallTable {
			chains = append(chains, ch)
		}
	}
	slices.SortFunc(chains, func(a, b *nftables.Chain) int { return strings.Compare(a.Name, b.Name) })
	sets, err := c.GetSets(t)
	if err != nil {
		return "", fmt.Errorf("list sets: %w", err)
	}
	slices.SortFunc(sets, func(a, b *nftables.Set) int { return strings.Compare(a.Name, b.Name) })
	elems := map[string]string{}
	var b strings.Builder
	for _, s := range sets {
		els, err := c.GetSetElements(s)
		if err != nil {
			return "", fmt.Errorf("list elements of set %s: %w", s.Name, err)
		}
		elems[s.Name] = formatElems(els)
		if !s.Anonymous {
			fmt.Fprintf(&b, "set %s type %s flags constant=%t interval=%t: %s\n", s.Name, s.KeyType.Name, s.Constant, s.Interval, elems[s.Name])
		}
	}
	for _, ch := range chains {
		fmt.Fprintf(&b, "chain %s type %s hook %v prio %v policy %v\n", ch.Name, ch.Type, deref(ch.Hooknum), deref(ch.Priority), deref(ch.Policy))
		rules, err := c.GetRules(t, ch)
		if err != nil {
			return "", fmt.Errorf("list rules of %s: %w", ch.Name, err)
		}
		for _, r := range rules {
			b.WriteString(" ")
			for _, e := range r.Exprs {
				b.WriteString(" " + formatExpr(e, elems))
			}
			b.WriteString("\n")
		}
	}
	return b.String(), nil
}

// formatExpr writes one expression with its fields; counters without their values, lookups of
// anonymous sets (whose kernel names depend on history) by the set's elements.
func formatExpr(e expr.Any, elems map[string]string) string {
	switch e := e.(type) {
	case *expr.Counter:
		return "counter"
	case *expr.Lookup:
		if strings.HasPrefix(e.SetName, "__set") {
			return fmt.Sprintf("lookup{%s sreg=%d invert=%t}", elems[e.SetName], e.SourceRegister, e.Invert)
		}
		return fmt.Sprintf("lookup@%s{sreg=%d invert=%t}", e.SetName, e.SourceRegister, e.Invert)
	}
	return fmt.Sprintf("%T%+v", e, deref(e))
}

func deref(v any) any {
	rv := reflect.ValueOf(v)
	if rv.Kind() == reflect.Pointer && !rv.IsNil() {
		return rv.Elem().Interface()
	}
	return v
}

// formatElems lists set elements sorted by key, interval ends marked.
func formatElems(els []nftables.SetElement) string {
	slices.SortFunc(els, func(a, b nftables.SetElement) int {
		if c := bytes.Compare(a.Key, b.Key); c != 0 {
			return c
		}
		return boolCmp(a.IntervalEnd, b.IntervalEnd)
	})
	out := make([]string, 0, len(els))
	for _, el := range els {
		s := fmt.Sprintf("%x", el.Key)
		if a, ok := netip.AddrFromSlice(el.Key); ok {
			s = a.String()
		}
		if el.IntervalEnd {
			s += "-end"
		}
		out = append(out, s)
	}
	return "[" + strings.Join(out, " ") + "]"
}

func boolCmp(a, b bool) int {
	switch {
	case a == b:
		return 0
	case a:
		return 1
	}
	return -1
}
