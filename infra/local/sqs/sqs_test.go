package sqs

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/aws/aws-sdk-go-v2/service/sqs/types"
)

// recorder is a function that fails the bodies it is told to, a number of
// times, and counts what it saw.
type recorder struct {
	mu       sync.Mutex
	seen     map[string]int
	failLeft map[string]int
	crash    bool
}

func (r *recorder) Invoke(_ context.Context, payload []byte) ([]byte, error) {
	var ev struct {
		Records []struct {
			MessageID string `json:"messageId"`
			Body      string `json:"body"`
		} `json:"Records"`
	}
	if err := json.Unmarshal(payload, &ev); err != nil {
		return nil, err
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.crash {
		r.crash = false
		return nil, fmt.Errorf("function crashed")
	}
	var failures []map[string]string
	for _, rec := range ev.Records {
		r.seen[rec.Body]++
		if r.failLeft[rec.Body] > 0 {
			r.failLeft[rec.Body]--
			failures = append(failures, map[string]string{"itemIdentifier": rec.MessageID})
		}
	}
	return json.Marshal(map[string]any{"batchItemFailures": failures})
}

func TestQueueWithTheRealSDK(t *testing.T) {
	srv := NewServer("", "ap-northeast-1")
	ts := httptest.NewServer(srv)
	defer ts.Close()
	srv.base = ts.URL
	q := srv.Queue("SenderQueue")
	client := sqs.NewFromConfig(aws.Config{Region: "ap-northeast-1", Credentials: credentials.NewStaticCredentialsProvider("local", "local", "")},
		func(o *sqs.Options) { o.BaseEndpoint = aws.String(ts.URL) })
	ctx := context.Background()
	url, err := client.GetQueueUrl(ctx, &sqs.GetQueueUrlInput{QueueName: aws.String("SenderQueue")})
	if err != nil || aws.ToString(url.QueueUrl) != q.URL {
		t.Fatalf("GetQueueUrl = %v, %v", url, err)
	}
	var entries []types.SendMessageBatchRequestEntry
	for i := range 12 {
		if i < 10 {
			entries = append(entries, types.SendMessageBatchRequestEntry{Id: aws.String(fmt.Sprint(i)), MessageBody: aws.String(fmt.Sprint("m", i))})
		}
	}
	out, err := client.SendMessageBatch(ctx, &sqs.SendMessageBatchInput{QueueUrl: url.QueueUrl, Entries: entries})
	if err != nil || len(out.Successful) != 10 {
		t.Fatalf("SendMessageBatch = %+v, %v (the SDK checks every MD5)", out, err)
	}
	for _, body := range []string{"m10", "m11"} {
		if _, err := client.SendMessage(ctx, &sqs.SendMessageInput{QueueUrl: url.QueueUrl, MessageBody: aws.String(body)}); err != nil {
			t.Fatal(err)
		}
	}
	fn := &recorder{seen: map[string]int{}, failLeft: map[string]int{"m3": 2, "m7": 99}, crash: true}
	dctx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() {
		q.Deliver(dctx, fn, Delivery{BatchSize: 10, ReportBatchItemFailures: true, Visibility: 50 * time.Millisecond, MaxReceiveCount: 4,
			Region: "ap-northeast-1", Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
		close(done)
	}()
	deadline := time.Now().Add(10 * time.Second)
	for {
		live, dead := q.Depth()
		if live == 0 && dead == 1 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("queue did not drain: live %d dead %d", live, dead)
		}
		time.Sleep(20 * time.Millisecond)
	}
	cancel()
	<-done
	fn.mu.Lock()
	defer fn.mu.Unlock()
	// The first batch crashed (all 10 back), m3 failed twice, m7 always
	// (dead-lettered after 4 receives, the crashed one included); the rest
	// once after the crash.
	if fn.seen["m3"] != 3 || fn.seen["m7"] != 3 || fn.seen["m11"] != 1 || fn.seen["m0"] != 1 {
		t.Errorf("deliveries = %v", fn.seen)
	}
}
