package report

import (
	"math"
	"testing"

	"github.com/tsunagu-dev/tsunagu/shared/kpi"
)

func TestFormats(t *testing.T) {
	tests := []struct {
		name, got, want string
	}{
		{"yen", yen(1234567), "¥1,234,567"},
		{"yen rounds", yen(4499.6), "¥4,500"},
		{"negative yen", yen(-1500), "-¥1,500"},
		{"no amount", yen(math.NaN()), "—"},
		{"count", count(1710, "件"), "1,710件"},
		{"percent", percent(0.6082), "60.8%"},
		{"a small percent keeps two decimals", percent(0.00178), "0.18%"},
		{"signed up", signed(0.182), "+18.2%"},
		{"signed down", signed(-0.05), "-5.0%"},
		{"points", points(0.0142), "+1.4pt"},
		{"points down", points(-0.003), "-0.3pt"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.got != tt.want {
				t.Errorf("got %q, want %q", tt.got, tt.want)
			}
		})
	}
}

func TestAbout(t *testing.T) {
	tests := []struct{ n, want int64 }{{42, 42}, {149, 150}, {14651, 15000}, {31134, 31000}, {13249, 13000}}
	for _, tt := range tests {
		if got := about(tt.n); got != tt.want {
			t.Errorf("about(%d) = %d, want %d", tt.n, got, tt.want)
		}
	}
}

func TestDisplayWidth(t *testing.T) {
	if w := displayWidth("売上 ¥1,000"); w != 11 {
		t.Errorf("displayWidth = %d, want 11 (two wide characters, seven narrow)", w)
	}
	if got := pad("件", 4, true); got != "  件" {
		t.Errorf("pad = %q", got)
	}
}

// TestNPSByStage: the NPS tile's note breaks the score down by the
// lifecycle stage customers were in when they first answered, in the
// stages' order, leaving out stages without answers.
func TestNPSByStage(t *testing.T) {
	tests := []struct {
		name   string
		counts map[string]int64
		want   string
	}{
		{name: "no stages kept", counts: map[string]int64{"nps_promoters": 3}, want: ""},
		{name: "two stages", counts: map[string]int64{"nps_promoters@loyal": 3, "nps_detractors@loyal": 1, "nps_detractors@new": 1, "nps_passives@new": 1},
			want: "・新規 -50（2件）・優良 +50（4件）"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := npsByStage(kpi.Totals{Counts: tt.counts}); got != tt.want {
				t.Errorf("npsByStage = %q, want %q", got, tt.want)
			}
		})
	}
}
