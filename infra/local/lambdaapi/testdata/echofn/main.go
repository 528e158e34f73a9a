// Command echofn is a tiny Lambda function for the lambdaapi tests: it
// answers with what it was sent and facts about its process, and fails,
// sleeps, panics or exits when asked to.
package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"time"

	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-lambda-go/lambdacontext"
)

type request struct {
	Echo    string `json:"echo"`
	Env     string `json:"env"`      // a variable to report
	SleepMS int    `json:"sleep_ms"` // ignores the deadline, like a stuck handler
	Fail    string `json:"fail"`     // returned as the handler's error
	Panic   bool   `json:"panic"`
	Exit    bool   `json:"exit"`
}

type response struct {
	Echo        string `json:"echo"`
	PID         int    `json:"pid"`
	RequestID   string `json:"request_id"`
	FunctionARN string `json:"function_arn"`
	HasDeadline bool   `json:"has_deadline"`
	Env         string `json:"env,omitempty"`
	Dir         string `json:"dir"`
}

func handle(ctx context.Context, req request) (response, error) {
	fmt.Printf("{\"msg\":\"echo\",\"echo\":%q}\n", req.Echo)
	switch {
	case req.Fail != "":
		return response{}, errors.New(req.Fail)
	case req.Panic:
		panic("asked to panic")
	case req.Exit:
		os.Exit(7)
	}
	time.Sleep(time.Duration(req.SleepMS) * time.Millisecond)
	lc, _ := lambdacontext.FromContext(ctx)
	_, hasDeadline := ctx.Deadline()
	dir, _ := os.Getwd()
	resp := response{Echo: req.Echo, PID: os.Getpid(), RequestID: lc.AwsRequestID, FunctionARN: lc.InvokedFunctionArn, HasDeadline: hasDeadline, Dir: dir}
	if req.Env != "" {
		resp.Env = os.Getenv(req.Env)
	}
	return resp, nil
}

func main() {
	if os.Getenv("ECHOFN_FAIL_INIT") != "" {
		fmt.Fprintln(os.Stderr, "echofn: failing init as asked")
		os.Exit(3)
	}
	lambda.Start(handle)
}
