package grpcserver

import (
	"context"
	"fmt"
	"log/slog"
	"runtime/debug"
	"time"

	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/tenurehq/tenure/services/platform/apierr"
)

// panicStatus is what a caller sees when a handler panics: the same as for
// any unmapped error.
func panicStatus(domain string) error {
	st := status.New(codes.Internal, apierr.InternalMessage)
	if d, err := st.WithDetails(&errdetails.ErrorInfo{Reason: "INTERNAL", Domain: domain}); err == nil {
		st = d
	}
	return st.Err()
}

func logPanic(ctx context.Context, log *slog.Logger, method string, v any) {
	log.ErrorContext(ctx, "panic in handler",
		"method", method, "panic", fmt.Sprint(v), "stack", string(debug.Stack()))
}

func recoveryUnary(log *slog.Logger, domain string) grpc.UnaryServerInterceptor {
	return func(ctx context.Context, req any, info *grpc.UnaryServerInfo, handler grpc.UnaryHandler) (resp any, err error) {
		defer func() {
			if v := recover(); v != nil {
				logPanic(ctx, log, info.FullMethod, v)
				resp, err = nil, panicStatus(domain)
			}
		}()
		return handler(ctx, req)
	}
}

func recoveryStream(log *slog.Logger, domain string) grpc.StreamServerInterceptor {
	return func(srv any, ss grpc.ServerStream, info *grpc.StreamServerInfo, handler grpc.StreamHandler) (err error) {
		defer func() {
			if v := recover(); v != nil {
				logPanic(ss.Context(), log, info.FullMethod, v)
				err = panicStatus(domain)
			}
		}()
		return handler(srv, ss)
	}
}

// logLevel is Error for server faults, Debug for health and reflection
// traffic and Info otherwise.
func logLevel(method string, code codes.Code) slog.Level {
	switch code {
	case codes.Internal, codes.Unknown, codes.DataLoss:
		return slog.LevelError
	}
	if isHealthOrReflection(method) {
		return slog.LevelDebug
	}
	return slog.LevelInfo
}

// logRPC logs a finished call with its duration since start. Durations in
// logs are measured on the wall (monotonic) clock, never an injected one.
func logRPC(ctx context.Context, log *slog.Logger, method string, start time.Time, err error) {
	code := status.Code(err)
	log.LogAttrs(ctx, logLevel(method, code), "rpc",
		slog.String("method", method),
		slog.String("code", code.String()),
		slog.Duration("duration", time.Since(start)),
	)
}

func loggingUnary(log *slog.Logger) grpc.UnaryServerInterceptor {
	return func(ctx context.Context, req any, info *grpc.UnaryServerInfo, handler grpc.UnaryHandler) (any, error) {
		start := time.Now()
		resp, err := handler(ctx, req)
		logRPC(ctx, log, info.FullMethod, start, err)
		return resp, err
	}
}

func loggingStream(log *slog.Logger) grpc.StreamServerInterceptor {
	return func(srv any, ss grpc.ServerStream, info *grpc.StreamServerInfo, handler grpc.StreamHandler) error {
		start := time.Now()
		err := handler(srv, ss)
		logRPC(ss.Context(), log, info.FullMethod, start, err)
		return err
	}
}

// invalid marks a validation error as InvalidArgument unless it already
// carries a status; the error table still sees the original error first.
func invalid(err error) error {
	if _, ok := status.FromError(err); ok {
		return err
	}
	return invalidError{err}
}

// invalidError keeps the validator's message and matches both the
// validator's error and apierr.ErrInvalidArgument.
type invalidError struct{ err error }

func (e invalidError) Error() string   { return e.err.Error() }
func (e invalidError) Unwrap() []error { return []error{e.err, apierr.ErrInvalidArgument} }

func validateUnary(validate func(context.Context, string, any) error) grpc.UnaryServerInterceptor {
	return func(ctx context.Context, req any, info *grpc.UnaryServerInfo, handler grpc.UnaryHandler) (any, error) {
		if err := validate(ctx, info.FullMethod, req); err != nil {
			return nil, invalid(err)
		}
		return handler(ctx, req)
	}
}

func validateStream(validate func(context.Context, string, any) error) grpc.StreamServerInterceptor {
	return func(srv any, ss grpc.ServerStream, info *grpc.StreamServerInfo, handler grpc.StreamHandler) error {
		return handler(srv, &validatingStream{ServerStream: ss, method: info.FullMethod, validate: validate})
	}
}

// validatingStream validates each message the client sends.
type validatingStream struct {
	grpc.ServerStream
	method   string
	validate func(context.Context, string, any) error
}

func (s *validatingStream) RecvMsg(m any) error {
	if err := s.ServerStream.RecvMsg(m); err != nil {
		return err
	}
	if err := s.validate(s.Context(), s.method, m); err != nil {
		return invalid(err)
	}
	return nil
}

// requestCheck answers the failures decodeCodec recorded: a request that
// did not decode or that holds text no storage engine can keep. The error
// table maps them to INVALID_ARGUMENT with reason MALFORMED_REQUEST or
// INVALID_TEXT.
type requestCheck struct{ codec *decodeCodec }

func (c requestCheck) unary() grpc.UnaryServerInterceptor {
	return func(ctx context.Context, req any, _ *grpc.UnaryServerInfo, handler grpc.UnaryHandler) (any, error) {
		if err := c.codec.failure(req); err != nil {
			return nil, err
		}
		return handler(ctx, req)
	}
}

func (c requestCheck) stream() grpc.StreamServerInterceptor {
	return func(srv any, ss grpc.ServerStream, _ *grpc.StreamServerInfo, handler grpc.StreamHandler) error {
		return handler(srv, &checkingStream{ServerStream: ss, codec: c.codec})
	}
}

// checkingStream checks each message the client sends.
type checkingStream struct {
	grpc.ServerStream
	codec *decodeCodec
}

func (s *checkingStream) RecvMsg(m any) error {
	if err := s.ServerStream.RecvMsg(m); err != nil {
		return err
	}
	return s.codec.failure(m)
}
