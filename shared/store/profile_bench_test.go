package store

import (
	"context"
	"testing"

	"github.com/tsunagu-dev/tsunagu/infra/testkit/testenv"
)

// BenchmarkProfileSize gives one customer 1,000 orders through the store,
// as the purchase webhook applies them (each a different product, 300
// brands), and reports the profile item's size after 100 and after 1,000
// orders (DynamoDB refuses items over 400 KB; a profile write costs one
// write unit per KB). Each iteration reads the profile's size once.
func BenchmarkProfileSize(b *testing.B) {
	ctx := context.Background()
	s := New(testenv.DynamoDB(), testenv.NewTable(b))
	at100 := profileSizes(b, s, "c-1000", 1000, 100)[100]
	var size int
	b.ResetTimer()
	for b.Loop() {
		var err error
		if size, err = s.ProfileSize(ctx, "c-1000"); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(at100), "bytes-after-100-orders")
	b.ReportMetric(float64(size), "bytes-after-1000-orders")
}
