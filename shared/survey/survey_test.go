package survey

import (
	"maps"
	"testing"
	"time"
)

func TestChange(t *testing.T) {
	tests := []struct {
		name            string
		scale           string
		previous, score int
		want            map[string]int64
	}{
		{"a first NPS answer", "nps", -1, 9, map[string]int64{"nps_promoters": 1}},
		{"promoter to detractor", "nps", 10, 3, map[string]int64{"nps_promoters": -1, "nps_detractors": 1}},
		{"within a bucket: nothing moves", "nps", 7, 8, map[string]int64{}},
		{"passive edge", "nps", 6, 7, map[string]int64{"nps_detractors": -1, "nps_passives": 1}},
		{"a first CSAT answer, satisfied", "csat", -1, 4, map[string]int64{"csat_answers": 1, "csat_satisfied": 1}},
		{"CSAT satisfied to not", "csat", 5, 2, map[string]int64{"csat_satisfied": -1}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := Change(tt.scale, tt.previous, tt.score); !maps.Equal(got, tt.want) {
				t.Errorf("Change = %v, want %v", got, tt.want)
			}
		})
	}
}

func TestTokens(t *testing.T) {
	s, err := NewSealer("https://hooks.example.jp/", "a-secret-0123456789abcdefghijklmnop")
	if err != nil {
		t.Fatal(err)
	}
	a := Ask{MessageKey: "k", CampaignID: "c", CustomerID: "u", Scale: "csat", SentAt: time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)}
	link := s.Link(a)(5)
	const prefix = "https://hooks.example.jp/survey/"
	if len(link) <= len(prefix) || link[:len(prefix)] != prefix || link[len(link)-8:] != "?score=5" {
		t.Fatalf("link %q", link)
	}
	got, err := s.Open(link[len(prefix) : len(link)-8])
	if err != nil || got != a {
		t.Errorf("Open = %+v, %v; want %+v", got, err, a)
	}
	bad := a
	bad.Scale = "stars"
	if _, err := s.Open(s.Token(bad)); err == nil {
		t.Error("a token of an unknown scale opened")
	}
}
