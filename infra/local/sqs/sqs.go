// Package sqs stands in for Amazon SQS on the local stack: an HTTP
// endpoint speaking SQS's JSON protocol (SendMessage, SendMessageBatch,
// GetQueueUrl) so functions use the real AWS SDK client, and delivery of
// batches to the queue's function with SQS's semantics: messages in flight
// are invisible for a visibility timeout, failures (the whole batch on a
// function error, or the reported items) come back after it, and after
// maxReceiveCount receives a message moves to the dead-letter list.
package sqs

import (
	"context"
	"crypto/md5"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Account is the account id in local queue URLs and ARNs.
const Account = "000000000000"

// Server is the SQS endpoint with its queues.
type Server struct {
	base   string // http://127.0.0.1:9324
	region string
	mu     sync.Mutex
	queues map[string]*Queue
}

// NewServer returns a server whose queue URLs start with base.
func NewServer(base, region string) *Server {
	return &Server{base: strings.TrimRight(base, "/"), region: region, queues: map[string]*Queue{}}
}

// Queue returns the named queue, creating it.
func (s *Server) Queue(name string) *Queue {
	s.mu.Lock()
	defer s.mu.Unlock()
	q, ok := s.queues[name]
	if !ok {
		q = &Queue{Name: name, URL: s.base + "/" + Account + "/" + name, ARN: "arn:aws:sqs:" + s.region + ":" + Account + ":" + name, ready: make(chan struct{}, 1)}
		s.queues[name] = q
	}
	return q
}

func (s *Server) byURL(url string) *Queue {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, q := range s.queues {
		if q.URL == url {
			return q
		}
	}
	return nil
}

// ServeHTTP answers the SQS JSON protocol (X-Amz-Target: AmazonSQS.<Op>).
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	op := strings.TrimPrefix(r.Header.Get("X-Amz-Target"), "AmazonSQS.")
	var in struct {
		QueueURL    string `json:"QueueUrl"`
		QueueName   string `json:"QueueName"`
		MessageBody string `json:"MessageBody"`
		Entries     []struct {
			ID          string `json:"Id"`
			MessageBody string `json:"MessageBody"`
		} `json:"Entries"`
	}
	if err := json.NewDecoder(http.MaxBytesReader(w, r.Body, 1<<20)).Decode(&in); err != nil {
		fail(w, "InvalidParameterValue", "malformed request: "+err.Error())
		return
	}
	switch op {
	case "GetQueueUrl":
		s.mu.Lock()
		q := s.queues[in.QueueName]
		s.mu.Unlock()
		if q == nil {
			fail(w, "QueueDoesNotExist", "no queue "+in.QueueName)
			return
		}
		reply(w, map[string]string{"QueueUrl": q.URL})
	case "SendMessage":
		q := s.byURL(in.QueueURL)
		if q == nil {
			fail(w, "QueueDoesNotExist", "no queue at "+in.QueueURL)
			return
		}
		id := q.put(in.MessageBody)
		reply(w, map[string]string{"MessageId": id, "MD5OfMessageBody": md5Hex(in.MessageBody)})
	case "SendMessageBatch":
		q := s.byURL(in.QueueURL)
		if q == nil {
			fail(w, "QueueDoesNotExist", "no queue at "+in.QueueURL)
			return
		}
		if len(in.Entries) == 0 || len(in.Entries) > 10 {
			fail(w, "TooManyEntriesInBatchRequest", "a batch holds 1 to 10 entries")
			return
		}
		var ok []map[string]string
		for _, e := range in.Entries {
			ok = append(ok, map[string]string{"Id": e.ID, "MessageId": q.put(e.MessageBody), "MD5OfMessageBody": md5Hex(e.MessageBody)})
		}
		reply(w, map[string]any{"Successful": ok, "Failed": []any{}})
	default:
		fail(w, "UnsupportedOperation", "the local queue supports SendMessage, SendMessageBatch and GetQueueUrl, not "+op)
	}
}

func reply(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", "application/x-amz-json-1.0")
	json.NewEncoder(w).Encode(v) //nolint:errcheck // the client reads what it can
}

func fail(w http.ResponseWriter, code, msg string) {
	w.Header().Set("Content-Type", "application/x-amz-json-1.0")
	w.Header().Set("X-Amzn-Query-Error", "AWS.SimpleQueueService."+code+";Sender")
	w.WriteHeader(http.StatusBadRequest)
	json.NewEncoder(w).Encode(map[string]string{"__type": "com.amazonaws.sqs#" + code, "message": msg}) //nolint:errcheck
}

func md5Hex(s string) string {
	sum := md5.Sum([]byte(s))
	return hex.EncodeToString(sum[:])
}

// Queue is one local queue.
type Queue struct {
	Name string
	URL  string
	ARN  string

	mu    sync.Mutex
	msgs  []*message
	dead  []*message
	ready chan struct{}
}

type message struct {
	id       string
	body     string
	sent     time.Time
	receives int
	visible  time.Time
}

func (q *Queue) put(body string) string {
	var b [16]byte
	rand.Read(b[:]) //nolint:errcheck // never fails
	id := fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:])
	q.mu.Lock()
	q.msgs = append(q.msgs, &message{id: id, body: body, sent: time.Now()})
	q.mu.Unlock()
	select {
	case q.ready <- struct{}{}:
	default:
	}
	return id
}

// Depth reports the messages waiting or in flight, and those dead-lettered.
func (q *Queue) Depth() (live, dead int) {
	q.mu.Lock()
	defer q.mu.Unlock()
	return len(q.msgs), len(q.dead)
}

// Invoker runs the queue's function with an SQS event.
type Invoker interface {
	Invoke(ctx context.Context, payload []byte) ([]byte, error)
}

// Delivery configures how a queue feeds its function.
type Delivery struct {
	BatchSize int
	// ReportBatchItemFailures: the function answers which items failed.
	ReportBatchItemFailures bool
	Visibility              time.Duration
	MaxReceiveCount         int
	Region                  string
	Logger                  *slog.Logger
}

// Deliver feeds the function batches of visible messages until ctx ends.
func (q *Queue) Deliver(ctx context.Context, fn Invoker, d Delivery) {
	for {
		batch := q.receive(d.BatchSize, d.Visibility)
		if len(batch) == 0 {
			select {
			case <-ctx.Done():
				return
			case <-q.ready:
			case <-time.After(200 * time.Millisecond):
			}
			continue
		}
		failed := q.invoke(ctx, fn, batch, d)
		q.settle(batch, failed, d)
	}
}

// receive takes up to n visible messages, making them invisible.
func (q *Queue) receive(n int, visibility time.Duration) []*message {
	q.mu.Lock()
	defer q.mu.Unlock()
	now := time.Now()
	var batch []*message
	for _, m := range q.msgs {
		if len(batch) == n {
			break
		}
		if !m.visible.After(now) {
			m.receives++
			m.visible = now.Add(visibility)
			batch = append(batch, m)
		}
	}
	return batch
}

// invoke runs one batch and returns the ids that failed.
func (q *Queue) invoke(ctx context.Context, fn Invoker, batch []*message, d Delivery) map[string]bool {
	type record struct {
		MessageID      string            `json:"messageId"`
		ReceiptHandle  string            `json:"receiptHandle"`
		Body           string            `json:"body"`
		Attributes     map[string]string `json:"attributes"`
		MessageAttrs   map[string]any    `json:"messageAttributes"`
		MD5OfBody      string            `json:"md5OfBody"`
		EventSource    string            `json:"eventSource"`
		EventSourceARN string            `json:"eventSourceARN"`
		AWSRegion      string            `json:"awsRegion"`
	}
	var ev struct {
		Records []record `json:"Records"`
	}
	all := map[string]bool{}
	for _, m := range batch {
		all[m.id] = true
		ev.Records = append(ev.Records, record{MessageID: m.id, ReceiptHandle: m.id, Body: m.body, MD5OfBody: md5Hex(m.body),
			Attributes:   map[string]string{"ApproximateReceiveCount": strconv.Itoa(m.receives), "SentTimestamp": strconv.FormatInt(m.sent.UnixMilli(), 10)},
			MessageAttrs: map[string]any{},
			EventSource:  "aws:sqs", EventSourceARN: q.ARN, AWSRegion: d.Region})
	}
	payload, _ := json.Marshal(ev)
	out, err := fn.Invoke(ctx, payload)
	if err != nil {
		d.Logger.Warn("queue batch failed; it returns after the visibility timeout", "queue", q.Name, "messages", len(batch), "error", err)
		return all
	}
	if !d.ReportBatchItemFailures {
		return nil
	}
	var resp struct {
		Failures []struct {
			ID string `json:"itemIdentifier"`
		} `json:"batchItemFailures"`
	}
	if err := json.Unmarshal(out, &resp); err != nil {
		return all // an answer SQS cannot read fails the whole batch
	}
	failed := map[string]bool{}
	for _, f := range resp.Failures {
		if !all[f.ID] {
			return all // an unknown id fails the whole batch, as in SQS
		}
		failed[f.ID] = true
	}
	return failed
}

// settle deletes the batch's successes and dead-letters failures that were
// received too often; the other failures become visible again later.
func (q *Queue) settle(batch []*message, failed map[string]bool, d Delivery) {
	q.mu.Lock()
	defer q.mu.Unlock()
	done := map[*message]bool{}
	for _, m := range batch {
		switch {
		case !failed[m.id]:
			done[m] = true
		case m.receives >= d.MaxReceiveCount:
			done[m] = true
			q.dead = append(q.dead, m)
			d.Logger.Error("message moved to the dead-letter list", "queue", q.Name, "message_id", m.id, "receives", m.receives)
		}
	}
	kept := q.msgs[:0]
	for _, m := range q.msgs {
		if !done[m] {
			kept = append(kept, m)
		}
	}
	q.msgs = kept
}
