package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/tsunagu-dev/tsunagu/infra/local/lambdaapi"
	"github.com/tsunagu-dev/tsunagu/infra/local/sam"
	"github.com/tsunagu-dev/tsunagu/infra/local/sqs"
)

// localVisibility is the local queue's visibility timeout: SQS's would make
// a failed message wait minutes; locally it comes back in seconds.
const localVisibility = 10 * time.Second

// localQueueURL is a local queue's URL, as functions see it.
func localQueueURL(name string) string {
	return "http://" + queueAddr + "/" + sqs.Account + "/" + name
}

// localQueues is the running stand-in for SQS.
type localQueues struct {
	srv    *http.Server
	served chan error
	cancel context.CancelFunc
	done   chan struct{}
}

// startQueues serves the SQS endpoint and feeds every queue of the
// template to its function, with SQS's batch and retry semantics.
func startQueues(ctx context.Context, log *slog.Logger, fns []sam.Function, functions map[string]*lambdaapi.Function) (*localQueues, error) {
	server := sqs.NewServer("http://"+queueAddr, localRegion)
	ln, err := net.Listen("tcp", queueAddr)
	if err != nil {
		return nil, fmt.Errorf("local queue: %w", err)
	}
	q := &localQueues{srv: &http.Server{Handler: server, ReadHeaderTimeout: 10 * time.Second}, served: make(chan error, 1), done: make(chan struct{})}
	go func() {
		if err := q.srv.Serve(ln); !errors.Is(err, http.ErrServerClosed) {
			q.served <- err
		}
	}()
	dctx, cancel := context.WithCancel(ctx)
	q.cancel = cancel
	pending := 0
	finished := make(chan struct{})
	for _, fn := range fns {
		for _, ev := range fn.Queues {
			pending++
			go func() {
				defer func() { finished <- struct{}{} }()
				server.Queue(ev.Queue).Deliver(dctx, functions[fn.LogicalID], sqs.Delivery{
					BatchSize: ev.BatchSize, ReportBatchItemFailures: ev.ReportBatchItemFailures,
					Visibility: localVisibility, MaxReceiveCount: 5, Region: localRegion, Logger: log,
				})
			}()
		}
	}
	go func() {
		for range pending {
			<-finished
		}
		close(q.done)
	}()
	return q, nil
}

func (q *localQueues) stop() {
	q.cancel()
	<-q.done
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	q.srv.Shutdown(ctx) //nolint:errcheck // shutting down anyway
}

var rateExpression = regexp.MustCompile(`^rate\((\d+) (minute|minutes|hour|hours|day|days)\)$`)

// startSchedules invokes each function with a rate schedule on its rate,
// with the schedule's input and the tick's time, as EventBridge Scheduler
// does. Cron schedules (the nightly job) do not run locally; run them with
// `tsunagu segments`.
func startSchedules(ctx context.Context, log *slog.Logger, fns []sam.Function, functions map[string]*lambdaapi.Function) {
	for _, fn := range fns {
		for _, s := range fn.Schedules {
			m := rateExpression.FindStringSubmatch(s.Expression)
			if m == nil {
				log.Info("schedule not run locally", "function", fn.LogicalID, "expression", s.Expression)
				continue
			}
			n, _ := strconv.Atoi(m[1])
			every := time.Duration(n) * map[string]time.Duration{"minute": time.Minute, "minutes": time.Minute, "hour": time.Hour, "hours": time.Hour, "day": 24 * time.Hour, "days": 24 * time.Hour}[m[2]]
			go func() {
				t := time.NewTicker(every)
				defer t.Stop()
				for {
					select {
					case <-ctx.Done():
						return
					case now := <-t.C:
						input := strings.ReplaceAll(s.Input, "<aws.scheduler.scheduled-time>", now.UTC().Format(time.RFC3339))
						if input == "" {
							input = `{"time": "` + now.UTC().Format(time.RFC3339) + `"}`
						}
						if _, err := functions[fn.LogicalID].Invoke(ctx, []byte(input)); err != nil && ctx.Err() == nil {
							log.Warn("scheduled invocation failed", "function", fn.LogicalID, "error", err)
						}
					}
				}
			}()
		}
	}
}
