package logging

import (
	"context"
	"log/slog"
	"time"
)

// MetricNamespace is the CloudWatch namespace of the metrics the functions
// emit in their log lines (embedded metric format).
const MetricNamespace = "tsunagu"

// CounterUpdateFailed logs that a counter update failed, which never fails
// the order or send that caused it, as one line that CloudWatch also reads
// as the metric CounterUpdateFailed (embedded metric format: the _aws
// block names it), so an alarm can watch it. op says which counters.
func CounterUpdateFailed(ctx context.Context, op string, err error) {
	slog.WarnContext(ctx, "counter update failed", "op", op, "error", err,
		"CounterUpdateFailed", 1,
		slog.Group("_aws", "Timestamp", time.Now().UnixMilli(), "CloudWatchMetrics", []map[string]any{{
			"Namespace": MetricNamespace, "Dimensions": [][]string{{}},
			"Metrics": []map[string]string{{"Name": "CounterUpdateFailed", "Unit": "Count"}},
		}}))
}
