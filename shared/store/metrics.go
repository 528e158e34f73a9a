package store

import (
	"context"
	"strings"
	"sync"

	awsmiddleware "github.com/aws/aws-sdk-go-v2/aws/middleware"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/smithy-go/middleware"
)

// RequestCounter counts the HTTP requests an AWS SDK client sends, retries
// included, by operation name, and the items DynamoDB read to answer
// Queries and Scans (their ScannedCount). Benchmarks attach it to the
// DynamoDB client with Register to report requests per order and items
// read per due message.
type RequestCounter struct {
	mu        sync.Mutex
	counts    map[string]int
	itemsRead int
	// counterWrites are the UpdateItem calls on counters (STATS#…).
	counterWrites int
}

// Register adds the counting middleware to a client's stack; pass it in
// the client's APIOptions.
func (c *RequestCounter) Register(stack *middleware.Stack) error {
	// The counters' writes, told apart by the key they update.
	if err := stack.Initialize.Add(middleware.InitializeMiddlewareFunc("tsunaguCounterWrites",
		func(ctx context.Context, in middleware.InitializeInput, next middleware.InitializeHandler) (middleware.InitializeOutput, middleware.Metadata, error) {
			if u, ok := in.Parameters.(*dynamodb.UpdateItemInput); ok {
				if pk, ok := u.Key["pk"].(*types.AttributeValueMemberS); ok && strings.HasPrefix(pk.Value, "STATS#") {
					c.mu.Lock()
					c.counterWrites++
					c.mu.Unlock()
				}
			}
			return next.HandleInitialize(ctx, in)
		}), middleware.After); err != nil {
		return err
	}
	return stack.Finalize.Add(middleware.FinalizeMiddlewareFunc("tsunaguRequestCounter",
		func(ctx context.Context, in middleware.FinalizeInput, next middleware.FinalizeHandler) (middleware.FinalizeOutput, middleware.Metadata, error) {
			op := awsmiddleware.GetOperationName(ctx)
			out, md, err := next.HandleFinalize(ctx, in)
			scanned := 0
			switch r := out.Result.(type) {
			case *dynamodb.QueryOutput:
				scanned = int(r.ScannedCount)
			case *dynamodb.ScanOutput:
				scanned = int(r.ScannedCount)
			}
			c.mu.Lock()
			if c.counts == nil {
				c.counts = map[string]int{}
			}
			c.counts[op]++
			c.itemsRead += scanned
			c.mu.Unlock()
			return out, md, err
		}), middleware.After)
}

// CounterWrites is how many UpdateItem calls updated counters (STATS#
// items) so far: what the report's counters cost the functions.
func (c *RequestCounter) CounterWrites() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.counterWrites
}

// ItemsRead is how many items Queries and Scans read so far.
func (c *RequestCounter) ItemsRead() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.itemsRead
}

// Snapshot returns the counts so far, by operation name.
func (c *RequestCounter) Snapshot() map[string]int {
	c.mu.Lock()
	defer c.mu.Unlock()
	out := make(map[string]int, len(c.counts))
	for k, v := range c.counts {
		out[k] = v
	}
	return out
}

// Reset sets every count back to zero.
func (c *RequestCounter) Reset() {
	c.mu.Lock()
	c.counts, c.itemsRead, c.counterWrites = nil, 0, 0
	c.mu.Unlock()
}
