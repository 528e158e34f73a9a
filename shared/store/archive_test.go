package store

import (
	"context"
	"fmt"
	"hash/fnv"
	"math/rand/v2"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/tsunagu-dev/tsunagu/infra/testkit/testenv"
	"github.com/tsunagu-dev/tsunagu/shared/customer"
	"github.com/tsunagu-dev/tsunagu/shared/order"
)

var archiveThresholds = customer.Thresholds{Currency: "JPY", RecencyDays: [4]int{30, 60, 90, 180}, FrequencyOrders: [4]int{2, 3, 5, 10},
	Monetary: [4]int64{5000, 10000, 30000, 100000}, LoyalMinOrders: 5, AtRiskAfterDays: 90, DormantAfterDays: 180}

// deliver merges a delivery into the order and the profile as the purchase
// webhook does, skipping deliveries already done.
func deliver(ctx context.Context, s *Store, ev order.Event) error {
	if done, err := s.DeliveryDone(ctx, ev.Source, ev.DeliveryID, t0); err != nil || done {
		return err
	}
	st, err := s.ApplyOrderEvent(ctx, ev, nil)
	if err != nil {
		return err
	}
	if st.Known() {
		_, err = s.UpdateProfile(ctx, st.Order.Customer.ID, func(p *customer.Profile) bool {
			return p.ApplyDeliveryChange(ev.Order.Customer, st.Order, st.Status, ev.OccurredAt, st.Change, archiveThresholds)
		})
		if err != nil {
			return err
		}
	}
	_, err = s.MarkDelivered(ctx, ev.Source, ev.DeliveryID, string(ev.Type), ev.Order.ID, t0)
	return err
}

// manyOrderDeliveries is one customer's deliveries for more orders than a
// profile lists: a creation each, a fulfilment for about half, a
// cancellation for about a fifth; with the count and spend they must add
// up to.
func manyOrderDeliveries(rng *rand.Rand, customerID string) (deliveries [][]order.Event, wantCount int, wantSpent int64) {
	const n = customer.MaxRecentOrders + 60
	for i := range n {
		id := fmt.Sprintf("%s-%04d", customerID, i)
		placed := t0.AddDate(0, 0, -n+i)
		total := int64(1000 + i)
		evs := []order.Event{{DeliveryID: "c-" + id, Source: "shopify", Type: order.Created, OccurredAt: placed, Order: order.Order{
			ID: id, Currency: "JPY", Total: total, PlacedAt: placed, Customer: &order.Customer{ID: customerID},
			Items: []order.Item{{SKU: "SWEET-YOKAN", Name: "本練羊羹", Category: "sweets", UnitPrice: total, Quantity: 1}},
		}}}
		if rng.IntN(2) == 0 {
			evs = append(evs, order.Event{DeliveryID: "f-" + id, Source: "shopify", Type: order.Fulfilled, OccurredAt: placed.Add(time.Hour), Order: order.Order{ID: id}})
		}
		if rng.IntN(5) == 0 {
			evs = append(evs, order.Event{DeliveryID: "x-" + id, Source: "shopify", Type: order.Cancelled, OccurredAt: placed.Add(2 * time.Hour), Order: order.Order{ID: id}})
		} else {
			wantCount++
			wantSpent += total
		}
		deliveries = append(deliveries, evs)
	}
	return deliveries, wantCount, wantSpent
}

// deliverAll runs deliveries four at a time, each order's deliveries by
// one worker in the order given (copies of one delivery may still run at
// once: the first copy has not marked it done when the next one starts).
func deliverAll(t *testing.T, s *Store, deliveries []order.Event) {
	t.Helper()
	const workers = 4
	var queues [workers][]order.Event
	for _, ev := range deliveries {
		w := int(fnvHash(ev.Order.ID) % workers)
		queues[w] = append(queues[w], ev)
	}
	errs := make(chan error, len(deliveries))
	var wg sync.WaitGroup
	for _, q := range queues {
		wg.Go(func() {
			var copies sync.WaitGroup
			for i, ev := range q {
				if i > 0 && q[i-1].DeliveryID == ev.DeliveryID {
					// A copy sent at once: both in flight together.
					copies.Go(func() {
						if err := deliver(context.Background(), s, ev); err != nil {
							errs <- err
						}
					})
					continue
				}
				copies.Wait()
				if err := deliver(context.Background(), s, ev); err != nil {
					errs <- err
				}
			}
			copies.Wait()
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
}

func fnvHash(s string) uint32 {
	h := fnv.New32a()
	h.Write([]byte(s))
	return h.Sum32()
}

func checkTotals(t *testing.T, s *Store, customerID string, wantCount int, wantSpent int64) {
	t.Helper()
	p, err := s.GetProfile(context.Background(), customerID)
	if err != nil {
		t.Fatal(err)
	}
	if p.OrderCount != wantCount || p.TotalSpent != wantSpent {
		t.Errorf("count %d spent %d, want %d %d", p.OrderCount, p.TotalSpent, wantCount, wantSpent)
	}
	if len(p.Orders) > customer.MaxRecentOrders {
		t.Errorf("profile lists %d orders, want at most %d", len(p.Orders), customer.MaxRecentOrders)
	}
}

// A customer with more orders than a profile lists: deliveries of every
// order shuffled (old orders arriving after newer ones were folded, an
// order's cancellation before its creation), a quarter of them sent twice
// at once, different orders four at a time, still give exact totals, and
// the profile stays bounded. (Known limit, README: in the archived range,
// deliveries of one order that overtake each other while both are in
// flight can leave that order miscounted.)
func TestProfileArchiveConverges(t *testing.T) {
	for _, seed := range []uint64{1, 2, 3, 4, 5, 6, 7, 8} {
		t.Run(fmt.Sprintf("seed %d", seed), func(t *testing.T) {
			s, rng := newStore(t), rand.New(rand.NewPCG(seed, 17))
			byOrder, wantCount, wantSpent := manyOrderDeliveries(rng, "c-many")
			var deliveries []order.Event
			for _, evs := range byOrder {
				for _, ev := range evs {
					deliveries = append(deliveries, ev)
					if rng.IntN(4) == 0 {
						deliveries = append(deliveries, ev)
					}
				}
			}
			rng.Shuffle(len(deliveries), func(i, j int) { deliveries[i], deliveries[j] = deliveries[j], deliveries[i] })
			deliverAll(t, s, deliveries)
			checkTotals(t, s, "c-many", wantCount, wantSpent)
		})
	}
}

// A delivery that fails after merging the order, before the profile, and
// is retried by the shop before the order's next delivery, converges too,
// whether the order is among the recent ones or in the archived range;
// the orders' deliveries interleave at random. (Known limit, README: for
// an order older than the customer's latest MaxRecentOrders, a failed
// delivery overtaken by a later delivery of the same order before its own
// retry can leave that order miscounted, as the archive keeps sums, not
// each order's state.)
func TestProfileArchiveRetriedAfterFailure(t *testing.T) {
	type step struct {
		ev      order.Event
		crashes bool // the attempt stops after merging the order
	}
	for _, seed := range []uint64{1, 2, 3, 4} {
		t.Run(fmt.Sprintf("seed %d", seed), func(t *testing.T) {
			s, ctx, rng := newStore(t), context.Background(), rand.New(rand.NewPCG(seed, 29))
			byOrder, wantCount, wantSpent := manyOrderDeliveries(rng, "c-retry")
			var queues [][]step
			for _, evs := range byOrder {
				var q []step
				for _, ev := range evs {
					if rng.IntN(3) == 0 {
						q = append(q, step{ev, true})
					}
					q = append(q, step{ev, false})
				}
				queues = append(queues, q)
			}
			for len(queues) > 0 {
				i := rng.IntN(len(queues))
				st := queues[i][0]
				if queues[i] = queues[i][1:]; len(queues[i]) == 0 {
					queues = append(queues[:i], queues[i+1:]...)
				}
				var err error
				if st.crashes {
					_, err = s.ApplyOrderEvent(ctx, st.ev, nil)
				} else {
					err = deliver(ctx, s, st.ev)
				}
				if err != nil {
					t.Fatal(err)
				}
			}
			checkTotals(t, s, "c-retry", wantCount, wantSpent)
		})
	}
}

// profileSizes gives a customer n orders, each a different product (300
// brands), as the purchase webhook applies them, and reports the profile's
// size after each count in at.
func profileSizes(tb testing.TB, s *Store, customerID string, n int, at ...int) map[int]int {
	tb.Helper()
	ctx := context.Background()
	sizes := map[int]int{}
	for i := range n {
		id := fmt.Sprintf("B%04d", i)
		placed := t0.Add(time.Duration(i) * time.Hour)
		ev := order.Event{DeliveryID: "d-" + id, Source: "generic", Type: order.Created, OccurredAt: placed, Order: order.Order{
			ID: id, Currency: "JPY", Total: 2150, PlacedAt: placed, Customer: &order.Customer{ID: customerID, Email: "misaki@example.jp"},
			Items: []order.Item{{SKU: fmt.Sprintf("SKU-%04d", i), Name: "本練羊羹", Category: "sweets", Brand: fmt.Sprintf("brand-%d", i%300), UnitPrice: 2150, Quantity: 1}},
		}}
		if err := deliver(ctx, s, ev); err != nil {
			tb.Fatalf("order %d: %v", i, err)
		}
		if slices.Contains(at, i+1) {
			size, err := s.ProfileSize(ctx, customerID)
			if err != nil {
				tb.Fatal(err)
			}
			sizes[i+1] = size
		}
	}
	return sizes
}

// After 1,000 orders a profile is as small as after a hundred: DynamoDB
// refuses items over 400 KB, and the emulator enforces it too.
func TestProfileSizeBounded(t *testing.T) {
	s, ctx := newStore(t), context.Background()
	sizes := profileSizes(t, s, "c-1000", 1000, 100, 1000)
	t.Logf("profile size: %d bytes after 100 orders, %d after 1,000", sizes[100], sizes[1000])
	if sizes[1000] > 2*sizes[100] {
		t.Errorf("profile grew from %d to %d bytes between 100 and 1,000 orders", sizes[100], sizes[1000])
	}
	p, err := s.GetProfile(ctx, "c-1000")
	if err != nil || p.OrderCount != 1000 {
		t.Fatalf("profile: %d orders, %v", p.OrderCount, err)
	}
	// The raw item too, as DynamoDB holds it.
	out, err := testenv.DynamoDB().GetItem(ctx, &dynamodb.GetItemInput{TableName: aws.String(s.table), Key: key(customerPK("c-1000"), "PROFILE")})
	if err != nil || len(out.Item) == 0 {
		t.Fatalf("raw profile: %v", err)
	}
}

// A product whose co-purchase item has reached DynamoDB's 400 KB limit
// learns nothing more, and the order's other products still learn: the
// order is not failed for it.
func TestLearnAffinityItemFull(t *testing.T) {
	s, ctx := newStore(t), context.Background()
	full := map[string]types.AttributeValue{"pk": &types.AttributeValueMemberS{Value: affinityPK("FULL")}, "sk": &types.AttributeValueMemberS{Value: "AFFINITY"}}
	for i := range 40 {
		full[fmt.Sprintf("n_PAD-%d", i)] = &types.AttributeValueMemberS{Value: strings.Repeat("x", 10_000)}
	}
	if _, err := s.db.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String(s.table), Item: full}); err != nil {
		t.Fatal(err)
	}
	err := s.LearnAffinity(ctx, map[string][]string{"FULL": {"NEW-PARTNER-WITH-A-LONG-NAME-" + strings.Repeat("y", 300)}, "ROOMY": {"FULL"}})
	if err != nil {
		t.Fatalf("LearnAffinity = %v, want the full item skipped", err)
	}
	cat, err := s.ReadCatalog(ctx, CatalogQuery{Affinity: []string{"ROOMY"}})
	if err != nil {
		t.Fatal(err)
	}
	if cat.Affinity["ROOMY"]["FULL"] != 1 {
		t.Errorf("ROOMY learnt %v, want FULL once", cat.Affinity["ROOMY"])
	}
}
