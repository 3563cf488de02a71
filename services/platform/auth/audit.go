package auth

import (
	"context"
	"log/slog"
	"time"

	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"

	"github.com/tenurehq/tenure/services/platform/grpcclient"
)

// Record is one audit record: who did what, to which resource, when, under
// which request id, and how it ended.
type Record struct {
	Principal string
	KeyID     string
	Method    string
	Resource  string
	RequestID string
	// Outcome is the gRPC code name of the result, "OK" on success.
	Outcome string
	At      time.Time
}

// NewRecord describes the call of method with req in ctx that ended with err.
func NewRecord(ctx context.Context, method string, req any, err error, at time.Time) Record {
	r := Record{Method: method, Outcome: status.Code(err).String(), At: at.UTC()}
	if p, ok := FromContext(ctx); ok {
		r.Principal, r.KeyID = p.String(), p.ID
	} else {
		r.Principal = "unauthenticated"
	}
	if m, ok := req.(proto.Message); ok {
		r.Resource, r.RequestID = resourceOf(m.ProtoReflect())
	}
	if r.RequestID == "" {
		if v := metadata.ValueFromIncomingContext(ctx, "x-request-id"); len(v) == 1 {
			r.RequestID = v[0]
		}
	}
	return r
}

// Attrs are the record's fields as log attributes.
func (r Record) Attrs() []slog.Attr {
	return []slog.Attr{
		slog.String("principal", r.Principal),
		slog.String("key_id", r.KeyID),
		slog.String("method", r.Method),
		slog.String("resource", r.Resource),
		slog.String("request_id", r.RequestID),
		slog.String("outcome", r.Outcome),
		slog.Time("at", r.At),
	}
}

// resourceOf finds the resource a request is about (its name, else its
// parent, else the name of the resource it carries) and its request_id.
func resourceOf(m protoreflect.Message) (resource, requestID string) {
	fields := m.Descriptor().Fields()
	str := func(name protoreflect.Name) string {
		if f := fields.ByName(name); f != nil && f.Kind() == protoreflect.StringKind && f.Cardinality() != protoreflect.Repeated {
			return m.Get(f).String()
		}
		return ""
	}
	requestID = str("request_id")
	if resource = str("name"); resource != "" {
		return resource, requestID
	}
	if resource = str("parent"); resource != "" {
		return resource, requestID
	}
	for i := range fields.Len() {
		f := fields.Get(i)
		if f.Kind() != protoreflect.MessageKind || f.Cardinality() == protoreflect.Repeated || !m.Has(f) {
			continue
		}
		sub := m.Get(f).Message()
		if nf := sub.Descriptor().Fields().ByName("name"); nf != nil && nf.Kind() == protoreflect.StringKind && nf.Cardinality() != protoreflect.Repeated {
			if s := sub.Get(nf).String(); s != "" {
				return s, requestID
			}
		}
	}
	return "", requestID
}

// audit logs a record of every mutation and every privacy operation.
func (g *Guard) audit(ctx context.Context, method string, req any, err error) {
	if Open(method) || hasPrefix(method, authenticatedPrefixes) || (grpcclient.IsRead(method) && !g.Policy.Privacy(method)) {
		return
	}
	r := NewRecord(ctx, method, req, err, time.Now())
	g.Log.LogAttrs(ctx, slog.LevelInfo, "audit", r.Attrs()...)
	if g.Persist != nil && g.Policy.Privacy(method) {
		if perr := g.Persist(context.WithoutCancel(ctx), r); perr != nil {
			g.Log.LogAttrs(ctx, slog.LevelError, "audit record not stored", append(r.Attrs(), slog.String("error", perr.Error()))...)
		}
	}
}
