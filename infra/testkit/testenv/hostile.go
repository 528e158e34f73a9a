package testenv

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"github.com/aws/aws-lambda-go/events"
)

// MinHostileRequests is how many malformed or hostile requests the proof
// asks for per route.
const MinHostileRequests = 50

// HostileRequest is what ExpectNoEffect needs of a table row: its name, the
// request, and the status the handler must answer.
type HostileRequest interface {
	Hostile() (name string, req events.APIGatewayV2HTTPRequest, status int)
}

// Refused is the plainest HostileRequest row: a named request and the
// status it must get.
type Refused struct {
	Name   string
	Req    events.APIGatewayV2HTTPRequest
	Status int
}

// Hostile returns the row for ExpectNoEffect.
func (r Refused) Hostile() (string, events.APIGatewayV2HTTPRequest, int) {
	return r.Name, r.Req, r.Status
}

// Effects are what a hostile request must not do besides writing to the
// table: each counts, by name, something seen so far (emails that reached
// an address, calls to a stand-in), so a count that moves is an effect.
type Effects map[string]func(testing.TB) int

// EmailsTo counts the emails the SES emulator received for an address.
func EmailsTo(address string) func(testing.TB) int {
	return func(tb testing.TB) int { return len(SentEmails(tb, address)) }
}

// JSONAnswer checks that an answer's body is JSON.
func JSONAnswer(resp events.APIGatewayV2HTTPResponse) error {
	if !json.Valid([]byte(resp.Body)) {
		return errors.New("answer is not JSON")
	}
	return nil
}

// ExpectNoEffect sends each row's request to handle in a subtest: it must
// answer the row's status (and pass check, when given) without a Lambda
// error, change no item of table and move none of effects. It fails the
// test with fewer than MinHostileRequests rows.
func ExpectNoEffect[R HostileRequest](t *testing.T, table string, handle HTTPHandler, rows []R, check func(events.APIGatewayV2HTTPResponse) error, effects Effects) {
	t.Helper()
	if len(rows) < MinHostileRequests {
		t.Fatalf("only %d hostile inputs; the proof asks for at least %d per route", len(rows), MinHostileRequests)
	}
	for _, row := range rows {
		name, req, status := row.Hostile()
		t.Run(name, func(t *testing.T) {
			before := Snapshot(t, table)
			counts := map[string]int{}
			for what, count := range effects {
				counts[what] = count(t)
			}
			resp, err := handle(context.Background(), req)
			if err != nil {
				t.Fatalf("Handle returned a Lambda error: %v", err)
			}
			if resp.StatusCode != status {
				t.Errorf("status %d, want %d: %.300s", resp.StatusCode, status, resp.Body)
			}
			if check != nil {
				if err := check(resp); err != nil {
					t.Errorf("%v: %.300q", err, resp.Body)
				}
			}
			if changed := Changed(before, Snapshot(t, table)); len(changed) > 0 {
				t.Errorf("the request changed %d items:\n%.2000s", len(changed), strings.Join(changed, "\n"))
			}
			for what, count := range effects {
				if n := count(t) - counts[what]; n != 0 {
					t.Errorf("the request caused %d %s", n, what)
				}
			}
		})
	}
}
