package rules

import (
	"testing"
	"time"

	"reflect"
	"slices"
	"strconv"
)

func TestRewardRate(t *testing.T) {
	y := &Loyalty{RewardValidity: 30 * 24 * time.Hour,
		Rewards: []Reward{{ID: "yen500", Name: "500円OFF", Points: 500, AmountOff: 500}},
		Rate:    &RewardRate{ValuePerPoint: 2, Step: 100, MaxPoints: 1000, MinOrder: 2000}}
	rate := func(points int64) Reward {
		return Reward{ID: "pt-" + strconv.FormatInt(points, 10), Name: Number(points) + " pt分のクーポン", Points: points, AmountOff: 2 * points, MinOrder: 2000, ExpiresIn: 30 * 24 * time.Hour}
	}
	byID := []struct {
		id   string
		want Reward
		ok   bool
	}{
		{id: "yen500", want: y.Rewards[0], ok: true},
		{id: "pt-300", want: rate(300), ok: true},
		{id: "pt-1000", want: Reward{ID: "pt-1000", Name: "1,000 pt分のクーポン", Points: 1000, AmountOff: 2000, MinOrder: 2000, ExpiresIn: 30 * 24 * time.Hour}, ok: true},
		{id: "pt-250"},  // not a multiple of the step
		{id: "pt-1100"}, // over max_points
		{id: "pt-0"},
		{id: "pt--100"},
		{id: "pt-0300"}, // not the canonical id
		{id: "pt-abc"},
		{id: "yen9999"},
	}
	for _, tt := range byID {
		got, ok := y.RewardByID(tt.id)
		if ok != tt.ok || !reflect.DeepEqual(got, tt.want) {
			t.Errorf("RewardByID(%q) = %+v, %v; want %+v, %v", tt.id, got, ok, tt.want, tt.ok)
		}
	}
	offers := []struct {
		approved int64
		want     []string
	}{
		{approved: 0, want: []string{"yen500", "pt-100"}},
		{approved: 99, want: []string{"yen500", "pt-100"}},
		{approved: 750, want: []string{"yen500", "pt-700"}},
		{approved: 5000, want: []string{"yen500", "pt-1000"}},
	}
	for _, tt := range offers {
		var got []string
		for _, r := range y.Offers(tt.approved) {
			got = append(got, r.ID)
		}
		if !slices.Equal(got, tt.want) {
			t.Errorf("Offers(%d) = %v, want %v", tt.approved, got, tt.want)
		}
	}
	if (*Loyalty)(nil).HasRewards() || (&Loyalty{}).HasRewards() || (*Loyalty)(nil).Offers(1000) != nil {
		t.Error("a programme without rewards offers some")
	}
}
