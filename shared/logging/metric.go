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
	slog.WarnContext(ctx, "counter update failed", "op", op, "error", err, "CounterUpdateFailed", 1, metric("CounterUpdateFailed"))
}

// CounterCorrected logs one campaign counter the nightly reconciliation
// found wrong (what was stored, what the message log and the other
// sources give, and whether the correction was written), as one line that
// CloudWatch also reads as the metric CounterCorrected.
func CounterCorrected(ctx context.Context, campaign, day, variant, counter string, stored, recomputed int64, applied bool) {
	slog.WarnContext(ctx, "counter corrected", "campaign", campaign, "day", day, "variant", variant, "counter", counter,
		"stored", stored, "recomputed", recomputed, "applied", applied, "CounterCorrected", 1, metric("CounterCorrected"))
}

// metric is the embedded metric format block that makes a log line's
// field name a CloudWatch metric (a count, no dimensions).
func metric(name string) slog.Attr {
	return slog.Group("_aws", "Timestamp", time.Now().UnixMilli(), "CloudWatchMetrics", []map[string]any{{
		"Namespace": MetricNamespace, "Dimensions": [][]string{{}},
		"Metrics": []map[string]string{{"Name": name, "Unit": "Count"}},
	}})
}
