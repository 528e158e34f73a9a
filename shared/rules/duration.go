package rules

import (
	"errors"
	"fmt"
	"regexp"
	"strconv"
	"time"

	"github.com/santhosh-tekuri/jsonschema/v6"
	"github.com/xhit/go-str2duration/v2"
)

// ParseDuration reads the durations rule files use: Go's units plus days
// and weeks ("90m", "72h", "3d", "1d12h", "2w"). It must be positive.
func ParseDuration(s string) (time.Duration, error) {
	d, err := str2duration.ParseDuration(s)
	if err != nil || d <= 0 {
		return 0, fmt.Errorf("%q is not a duration such as 30m, 72h, 3d or 2w", s)
	}
	return d, nil
}

// Delay is how long a campaign waits between its trigger and acting.
type Delay struct {
	// After is a fixed wait ("3d").
	After time.Duration
	// NextDay, when set, means "the next calendar day at Hour:Minute" in the
	// shop's zone.
	NextDay      bool
	Hour, Minute int
}

// IsZero reports a campaign that acts at once.
func (d Delay) IsZero() bool { return d.After == 0 && !d.NextDay }

// Due returns when an action triggered at t is due, in the shop's zone loc.
func (d Delay) Due(t time.Time, loc *time.Location) time.Time {
	if !d.NextDay {
		return t.Add(d.After)
	}
	local := t.In(loc)
	next := time.Date(local.Year(), local.Month(), local.Day()+1, d.Hour, d.Minute, 0, 0, loc)
	return next.UTC()
}

// String writes the delay as a marketer would: "21d", "36h", "next day 10:00".
func (d Delay) String() string {
	if d.NextDay {
		return fmt.Sprintf("next day %02d:%02d", d.Hour, d.Minute)
	}
	return FormatDuration(d.After)
}

// FormatDuration writes whole days as "7d" and anything else as Go does.
func FormatDuration(d time.Duration) string {
	const day = 24 * time.Hour
	if d > 0 && d%day == 0 {
		return fmt.Sprintf("%dd", d/day)
	}
	return d.String()
}

var nextDayDelay = regexp.MustCompile(`^next day ([01]?[0-9]|2[0-3]):([0-5][0-9])$`)

// ParseDelay reads a campaign delay: a duration or "next day HH:MM".
func ParseDelay(s string) (Delay, error) {
	if m := nextDayDelay.FindStringSubmatch(s); m != nil {
		h, _ := strconv.Atoi(m[1])
		mi, _ := strconv.Atoi(m[2])
		return Delay{NextDay: true, Hour: h, Minute: mi}, nil
	}
	d, err := ParseDuration(s)
	if err != nil {
		return Delay{}, errors.New(`"` + s + `" is not a delay such as 72h, 3d or "next day 10:00"`)
	}
	return Delay{After: d}, nil
}

// durationFormats let the schemas check durations and delays in place.
var durationFormats = []*jsonschema.Format{
	{Name: "tsunagu-duration", Validate: func(v any) error {
		if s, ok := v.(string); ok {
			_, err := ParseDuration(s)
			return err
		}
		return nil
	}},
	{Name: "tsunagu-delay", Validate: func(v any) error {
		if s, ok := v.(string); ok {
			_, err := ParseDelay(s)
			return err
		}
		return nil
	}},
}
