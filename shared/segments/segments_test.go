package segments

import (
	"fmt"
	"testing"
	"time"

	"github.com/tsunagu-dev/tsunagu/shared/customer"
)

func TestStats(t *testing.T) {
	now := time.Date(2026, 11, 21, 0, 0, 0, 0, time.UTC)
	c := NewCollector(now)
	for i := 1; i <= 100; i++ {
		c.Visit(customer.Profile{OrderCount: 1 + i%5, TotalSpent: int64(i * 1000), LastOrderAt: now.AddDate(0, 0, -i)})
	}
	c.Visit(customer.Profile{}) // no standing order: left out
	st := c.Stats()
	if st.Customers != 100 {
		t.Errorf("customers = %d", st.Customers)
	}
	if fmt.Sprint(st.Deciles) != "[11000 21000 31000 41000 51000 61000 71000 81000 91000]" {
		t.Errorf("deciles = %v", st.Deciles)
	}
	if fmt.Sprint(st.RecencyDays) != "[21 41 61 81]" || fmt.Sprint(st.Monetary) != "[21000 41000 61000 81000]" {
		t.Errorf("recency %v monetary %v", st.RecencyDays, st.Monetary)
	}
}
