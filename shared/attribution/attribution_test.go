package attribution

import (
	"testing"
	"time"

	"github.com/tsunagu-dev/tsunagu/shared/rules"
	"github.com/tsunagu-dev/tsunagu/shared/store"
)

var placed = time.Date(2026, 11, 21, 3, 0, 0, 0, time.UTC)

func ago(d time.Duration) time.Time { return placed.Add(-d) }

const day = 24 * time.Hour

func TestAttribute(t *testing.T) {
	windows := rules.Measurement{ClickWindow: 5 * day, ReceiveWindow: day, Receive: true}
	noReceive := windows
	noReceive.Receive = false
	sent := func(key, campaign string, at time.Time) store.MessageRecord {
		return store.MessageRecord{Key: key, CampaignID: campaign, Status: store.MessageSent, ClaimedAt: at}
	}
	bounced := sent("m-bounced", "bounce", ago(time.Hour))
	bounced.Delivery = "bounced"
	heldOut := store.MessageRecord{Key: "m-held", CampaignID: "held", Status: store.MessageSkipped, Reason: "held_out", Group: store.GroupHoldout, ClaimedAt: ago(time.Hour)}
	tests := []struct {
		name     string
		coupons  []Coupon
		clicks   []store.Click
		messages []store.MessageRecord
		m        rules.Measurement
		want     Choice
		ok       bool
	}{
		{name: "a coupon beats a click and a message",
			coupons:  []Coupon{{Code: "TSN-1", CampaignID: "nudge", Variant: "a"}},
			clicks:   []store.Click{{MessageKey: "m-click", CampaignID: "news", At: ago(time.Hour)}},
			messages: []store.MessageRecord{sent("m-recv", "thanks", ago(time.Hour))}, m: windows,
			want: Choice{Via: ViaCoupon, CampaignID: "nudge", Variant: "a", Code: "TSN-1"}, ok: true},
		{name: "the last click in the window beats a later message",
			clicks:   []store.Click{{MessageKey: "m-old", CampaignID: "old", At: ago(4 * day)}, {MessageKey: "m-new", CampaignID: "news", Variant: "b", At: ago(2 * day)}},
			messages: []store.MessageRecord{sent("m-recv", "thanks", ago(time.Hour))}, m: windows,
			want: Choice{Via: ViaClick, CampaignID: "news", Variant: "b", MessageKey: "m-new"}, ok: true},
		{name: "a click past its window, then the message received",
			clicks:   []store.Click{{MessageKey: "m-old", CampaignID: "old", At: ago(5*day + time.Minute)}},
			messages: []store.MessageRecord{sent("m-early", "early", ago(20*time.Hour)), sent("m-recv", "thanks", ago(time.Hour))}, m: windows,
			want: Choice{Via: ViaReceive, CampaignID: "thanks", MessageKey: "m-recv"}, ok: true},
		{name: "a click after the order does not count",
			clicks: []store.Click{{MessageKey: "m-late", CampaignID: "late", At: placed.Add(time.Minute)}}, m: windows},
		{name: "a message past the receive window",
			messages: []store.MessageRecord{sent("m-recv", "thanks", ago(day+time.Minute))}, m: windows},
		{name: "receiving attributes nothing when switched off",
			messages: []store.MessageRecord{sent("m-recv", "thanks", ago(time.Hour))}, m: noReceive},
		{name: "bounced, held-out and failed messages were not received",
			messages: []store.MessageRecord{bounced, heldOut, {Key: "m-failed", CampaignID: "f", Status: store.MessageFailed, ClaimedAt: ago(time.Hour)}}, m: windows},
		{name: "a click the mail service reported on the message counts as a click",
			messages: []store.MessageRecord{func() store.MessageRecord {
				r := sent("m-ses", "ses", ago(3*day))
				r.ClickedAt = ago(2 * day)
				return r
			}(), sent("m-recv", "thanks", ago(time.Hour))}, m: windows,
			want: Choice{Via: ViaClick, CampaignID: "ses", MessageKey: "m-ses"}, ok: true},
		{name: "a coupon of no campaign is passed over",
			coupons: []Coupon{{Code: "SHOP"}}, clicks: []store.Click{{MessageKey: "m-click", CampaignID: "news", At: ago(time.Hour)}}, m: windows,
			want: Choice{Via: ViaClick, CampaignID: "news", MessageKey: "m-click"}, ok: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, ok := Attribute(placed, tt.coupons, tt.clicks, tt.messages, tt.m)
			if ok != tt.ok || got != tt.want {
				t.Errorf("Attribute = %+v, %v; want %+v, %v", got, ok, tt.want, tt.ok)
			}
		})
	}
}
