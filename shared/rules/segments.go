package rules

import (
	"fmt"
	"maps"
	"slices"
	"sort"
	"time"

	"github.com/expr-lang/expr"
	"github.com/expr-lang/expr/vm"

	"github.com/tsunagu-dev/tsunagu/shared/customer"
	"github.com/tsunagu-dev/tsunagu/shared/order"
)

// SegmentsFile holds the named segments campaigns share.
const SegmentsFile = "segments.yaml"

// Segment is one named, compiled customer segment.
type Segment struct {
	Name        string
	Description string
	Where       string
	program     *vm.Program
}

type segmentsSpec struct {
	Deciles  []int64 `yaml:"deciles"`
	Segments map[string]struct {
		Description string `yaml:"description"`
		Where       string `yaml:"where"`
	} `yaml:"segments"`
}

func (l *loader) loadSegments() (map[string]*Segment, [9]int64) {
	var deciles [9]int64
	out := map[string]*Segment{}
	doc := l.readDoc(SegmentsFile, compiledSchemas["segments"])
	if doc == nil {
		return out, deciles
	}
	var spec segmentsSpec
	if err := doc.root.Decode(&spec); err != nil {
		l.report(doc.problemAt(doc.root, "%v", err))
		return out, deciles
	}
	if len(spec.Deciles) == len(deciles) {
		copy(deciles[:], spec.Deciles)
		for i := 1; i < len(deciles); i++ {
			if deciles[i] < deciles[i-1] {
				l.report(doc.problemAt(doc.lookup([]string{"deciles", fmt.Sprint(i)}, false), "deciles must be in ascending order"))
				break
			}
		}
	}
	names := make([]string, 0, len(spec.Segments))
	for n := range spec.Segments {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, name := range names {
		s := spec.Segments[name]
		seg := &Segment{Name: name, Description: s.Description, Where: s.Where}
		at := doc.lookup([]string{"segments", name, "where"}, false)
		if calls := segmentCalls(s.Where); len(calls) > 0 {
			l.report(doc.problemAt(at, "segment %q: a segment cannot use in_segment; write the condition out", name))
			continue
		}
		prog, err := expr.Compile(s.Where, expr.Env(&Env{}), expr.AsBool())
		if err != nil {
			l.report(expressionProblem(doc, at, "segments."+name+".where", err))
			continue
		}
		seg.program = prog
		out[name] = seg
	}
	return out, deciles
}

// SegmentsOf names the segments customer p is in as of now, in name
// order, with the decile bounds given (as campaigns decide). Only the
// customer is looked at: a segment's condition on an order sees none.
func (s *Set) SegmentsOf(p customer.Profile, deciles [9]int64, now time.Time) []string {
	env := s.NewEnv("", p, order.Order{}, deciles, now)
	var in []string
	for _, name := range slices.Sorted(maps.Keys(s.Segments)) {
		if env.InSegment(name) {
			in = append(in, name)
		}
	}
	return in
}

// decile places a total spend among the nine bounds: 1 (lowest) to 10.
func decile(spent int64, bounds [9]int64) int {
	d := 1
	for _, b := range bounds {
		if b > 0 && spent >= b {
			d++
		}
	}
	return d
}
