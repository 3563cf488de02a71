package embedetcd

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"go.uber.org/zap"
)

// lockedBuffer is a bytes.Buffer safe for etcd's concurrent log writes.
type lockedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

func TestShutdownErrorsDemoted(t *testing.T) {
	tests := []struct {
		name    string
		closing bool
		msg     string
		want    string // slog level, "" when dropped below debug
	}{
		{"shutdown message while closing", true, shutdownMessage, "DEBUG"},
		{"shutdown message while serving", false, shutdownMessage, "ERROR"},
		{"other error while closing", true, "failed to save snapshot", "ERROR"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var buf bytes.Buffer
			var closing atomic.Bool
			closing.Store(tt.closing)
			lg := zapLogger(slog.New(slog.NewJSONHandler(&buf, &slog.HandlerOptions{Level: slog.LevelDebug})), &closing)
			lg.With(zap.String("address", "127.0.0.1:2379")).Error(tt.msg, zap.Error(errors.New("http: Server closed")))
			var rec struct{ Level string }
			if err := json.Unmarshal(buf.Bytes(), &rec); err != nil {
				t.Fatalf("log %q: %v", buf.String(), err)
			}
			if rec.Level != tt.want {
				t.Errorf("level = %s, want %s", rec.Level, tt.want)
			}
		})
	}
}

// TestCloseLogsNoErrors: stopping the server logs nothing at ERROR.
func TestCloseLogsNoErrors(t *testing.T) {
	var logs lockedBuffer
	lg := slog.New(slog.NewJSONHandler(&logs, &slog.HandlerOptions{Level: slog.LevelInfo}))
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	s, err := Start(ctx, Config{Dir: t.TempDir(), ClientAddr: "127.0.0.1:0", Logger: lg})
	if err != nil {
		t.Fatalf("Start: %v", err)
	}
	s.Close()
	for _, line := range strings.Split(strings.TrimSpace(logs.String()), "\n") {
		if strings.Contains(line, `"level":"ERROR"`) {
			t.Errorf("logged on close: %s", line)
		}
	}
}
