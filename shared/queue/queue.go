// Package queue carries work from the scheduler to the sender through SQS:
// each message is a timer that came due, to be decided and sent.
package queue

import (
	"context"
	"encoding/json"
	"fmt"
	"strconv"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/aws/aws-sdk-go-v2/service/sqs/types"

	"github.com/tsunagu-dev/tsunagu/shared/store"
)

// Message is one unit of work for the sender.
type Message struct {
	Timer store.Timer `json:"timer"`
	// Now is the scheduler tick's time: the sender decides as of then, so
	// a tick run "as of" a past or future time is reproducible.
	Now time.Time `json:"now"`
}

// Decode parses a message body.
func Decode(body string) (Message, error) {
	var m Message
	if err := json.Unmarshal([]byte(body), &m); err != nil {
		return Message{}, fmt.Errorf("decode queue message: %w", err)
	}
	// A campaign's wait names its campaign; a trigger occurrence (a points
	// expiry warning) names only its trigger, for every campaign on it.
	if m.Timer.Key == "" || m.Timer.CustomerID == "" || (m.Timer.Campaign == "" && m.Timer.Trigger == "") {
		return Message{}, fmt.Errorf("decode queue message: timer key, customer and campaign or trigger are required")
	}
	return m, nil
}

// SQS sends messages to one queue.
type SQS struct {
	client *sqs.Client
	url    string
}

// NewSQS returns a producer for the queue at url.
func NewSQS(client *sqs.Client, url string) *SQS {
	return &SQS{client: client, url: url}
}

// Send enqueues messages ten at a time and reports which were accepted,
// by index; a message SQS refused is not in sent and may be retried.
func (q *SQS) Send(ctx context.Context, msgs []Message) (sent []bool, err error) {
	sent = make([]bool, len(msgs))
	for start := 0; start < len(msgs); start += 10 {
		end := min(start+10, len(msgs))
		entries := make([]types.SendMessageBatchRequestEntry, 0, end-start)
		for i := start; i < end; i++ {
			body, err := json.Marshal(msgs[i])
			if err != nil {
				return sent, fmt.Errorf("encode queue message: %w", err)
			}
			entries = append(entries, types.SendMessageBatchRequestEntry{Id: aws.String(strconv.Itoa(i)), MessageBody: aws.String(string(body))})
		}
		out, err := q.client.SendMessageBatch(ctx, &sqs.SendMessageBatchInput{QueueUrl: aws.String(q.url), Entries: entries})
		if err != nil {
			return sent, fmt.Errorf("enqueue %d messages: %w", len(entries), err)
		}
		for _, ok := range out.Successful {
			if i, err := strconv.Atoi(aws.ToString(ok.Id)); err == nil && i < len(sent) {
				sent[i] = true
			}
		}
	}
	return sent, nil
}
