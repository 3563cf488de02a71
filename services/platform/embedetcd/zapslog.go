package embedetcd

import (
	"context"
	"log/slog"
	"strings"
	"sync/atomic"

	"go.uber.org/zap/zapcore"
)

// slogCore is a zapcore.Core writing to an slog.Logger, so etcd's logs end up
// in the process's structured log stream.
type slogCore struct {
	lg     *slog.Logger
	fields []zapcore.Field
	// closing is set by Server.Close; shared by every core derived by With.
	closing *atomic.Bool
}

// shutdownMessage is what etcd logs at ERROR for each listener when it is
// closed ("... failed", error "http: Server closed" and the like). During
// Close that is the expected outcome, not a failure.
const shutdownMessage = "setting up serving from embedded etcd failed"

// level is the slog level of e: etcd's info and below are debug, and its
// shutdown errors are debug while the server is closing.
func (c *slogCore) level(e zapcore.Entry) slog.Level {
	if c.closing != nil && c.closing.Load() && strings.HasPrefix(e.Message, shutdownMessage) {
		return slog.LevelDebug
	}
	return slogLevel(e.Level)
}

func slogLevel(l zapcore.Level) slog.Level {
	switch {
	case l <= zapcore.InfoLevel:
		return slog.LevelDebug
	case l == zapcore.WarnLevel:
		return slog.LevelWarn
	default:
		return slog.LevelError
	}
}

func (c *slogCore) Enabled(l zapcore.Level) bool {
	return c.lg.Enabled(context.Background(), slogLevel(l))
}

func (c *slogCore) With(fields []zapcore.Field) zapcore.Core {
	all := make([]zapcore.Field, 0, len(c.fields)+len(fields))
	all = append(append(all, c.fields...), fields...)
	return &slogCore{lg: c.lg, fields: all, closing: c.closing}
}

func (c *slogCore) Check(e zapcore.Entry, ce *zapcore.CheckedEntry) *zapcore.CheckedEntry {
	if c.lg.Enabled(context.Background(), c.level(e)) {
		return ce.AddCore(e, c)
	}
	return ce
}

func (c *slogCore) Write(e zapcore.Entry, fields []zapcore.Field) error {
	enc := zapcore.NewMapObjectEncoder()
	for _, f := range c.fields {
		f.AddTo(enc)
	}
	for _, f := range fields {
		f.AddTo(enc)
	}
	attrs := make([]slog.Attr, 0, len(enc.Fields))
	for k, v := range enc.Fields {
		attrs = append(attrs, slog.Any(k, v))
	}
	c.lg.LogAttrs(context.Background(), c.level(e), e.Message, attrs...)
	return nil
}

func (c *slogCore) Sync() error { return nil }
