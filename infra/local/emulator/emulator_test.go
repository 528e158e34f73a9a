package emulator

import (
	"context"
	"errors"
	"net"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"testing"
	"time"

	"github.com/tsunagu-dev/tsunagu/infra/local/project"
)

// An HTTP answer on the emulator's address is not enough: when two test
// suites pick the same free port, the second emulator fails to listen
// while the first one answers its readiness probe, and its tests later
// lose their endpoint when the other suite stops. Ready means this process
// said it listens.
func TestReadyOnlyWhenThisProcessListens(t *testing.T) {
	other := httptest.NewServer(http.HandlerFunc(func(http.ResponseWriter, *http.Request) {}))
	defer other.Close()
	e := &Emulator{Name: "dynamodb", URL: other.URL, output: &syncBuffer{}, done: make(chan struct{})}
	if err := e.waitReady(context.Background(), "Dynalite listening at", time.Second); err == nil {
		t.Fatal("waitReady = ready, though only another process answered")
	}
	e.output.Write([]byte("Dynalite listening at: http://127.0.0.1:1\n"))
	if err := e.waitReady(context.Background(), "Dynalite listening at", time.Minute); err != nil {
		t.Fatalf("waitReady after the listening line = %v", err)
	}
}

func TestPortInUse(t *testing.T) {
	root, err := project.Root()
	if err != nil {
		t.Fatal(err)
	}
	taken, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer taken.Close()
	dir := filepath.Join(root, "infra", "local")
	if _, err := StartDynamoDB(context.Background(), dir, taken.Addr().String()); !errors.Is(err, ErrPortInUse) {
		t.Errorf("StartDynamoDB on a taken port = %v, want ErrPortInUse", err)
	}
	tries := 0
	e, err := OnFreePort(func(addr string) (*Emulator, error) {
		if tries++; tries < 3 {
			return nil, ErrPortInUse
		}
		return &Emulator{URL: "http://" + addr}, nil
	})
	if err != nil || e == nil || tries != 3 {
		t.Errorf("OnFreePort = %v, %v after %d tries; want a third port taken", e, err, tries)
	}
}
