package grpcclient

import (
	"context"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/peer"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"
)

// hedgeReads returns an interceptor that hedges unary reads: while no
// attempt has answered, another is started every delay, up to maxAttempts
// in all, and round-robin balancing sends it to the next replica. The first
// answer wins and the other attempts are cancelled; an UNAVAILABLE answer
// (which gRPC's retry policy has already retried) wins only when no other
// attempt is still running. Other methods pass through.
func hedgeReads(delay time.Duration, maxAttempts int) grpc.UnaryClientInterceptor {
	// Every proto file registers itself at init, before any connection.
	reads := map[string]bool{}
	for _, m := range ReadMethods() {
		reads[m] = true
	}
	return func(ctx context.Context, method string, req, reply any, cc *grpc.ClientConn, invoker grpc.UnaryInvoker, opts ...grpc.CallOption) error {
		msg, ok := reply.(proto.Message)
		if !ok || maxAttempts < 2 || !reads[method] {
			return invoker(ctx, method, req, reply, cc, opts...)
		}
		h := &hedge{ctx: ctx, method: method, req: req, reply: msg, cc: cc, invoker: invoker, opts: opts}
		return h.run(delay, maxAttempts)
	}
}

// hedge is one hedged call.
type hedge struct {
	ctx     context.Context
	method  string
	req     any
	reply   proto.Message
	cc      *grpc.ClientConn
	invoker grpc.UnaryInvoker
	opts    []grpc.CallOption

	attempts []*attempt
	results  chan *attempt
}

// attempt is one try of a hedged call. The first writes into the caller's
// reply and call options; the others into their own, copied to the
// caller's if they win.
type attempt struct {
	reply   proto.Message
	opts    []grpc.CallOption
	outputs []func() // copy this attempt's outputs to the caller's
	cancel  context.CancelFunc
	err     error
}

func (h *hedge) run(delay time.Duration, maxAttempts int) error {
	h.results = make(chan *attempt, maxAttempts)
	h.start()
	timer := time.NewTimer(delay)
	defer timer.Stop()
	pending := 1
	var won *attempt
	for won == nil {
		select {
		case a := <-h.results:
			pending--
			if pending == 0 || status.Code(a.err) != codes.Unavailable {
				won = a
			}
		case <-timer.C:
			if len(h.attempts) < maxAttempts {
				h.start()
				pending++
				timer.Reset(delay)
			}
		}
	}
	for _, a := range h.attempts {
		a.cancel()
	}
	for ; pending > 0; pending-- { // the losers write into their own outputs
		<-h.results
	}
	if won != h.attempts[0] {
		proto.Reset(h.reply)
		proto.Merge(h.reply, won.reply)
		for _, out := range won.outputs {
			out()
		}
	}
	return won.err
}

// start launches the next attempt.
func (h *hedge) start() {
	a := &attempt{reply: h.reply, opts: h.opts}
	if len(h.attempts) > 0 {
		a.reply = h.reply.ProtoReflect().New().Interface()
		a.opts, a.outputs = ownOutputs(h.opts)
	}
	ctx, cancel := context.WithCancel(h.ctx)
	a.cancel = cancel
	h.attempts = append(h.attempts, a)
	go func() {
		a.err = h.invoker(ctx, h.method, h.req, a.reply, h.cc, a.opts...)
		h.results <- a
	}()
}

// ownOutputs replaces the call options that write results into the
// caller's variables (peer, header, trailer) with ones that write into an
// attempt's own, and returns functions that copy them to the caller's.
func ownOutputs(opts []grpc.CallOption) ([]grpc.CallOption, []func()) {
	out := make([]grpc.CallOption, len(opts))
	var copies []func()
	for i, o := range opts {
		switch o := o.(type) {
		case grpc.PeerCallOption:
			p := new(peer.Peer)
			out[i] = grpc.Peer(p)
			copies = append(copies, func() { *o.PeerAddr = *p })
		case grpc.HeaderCallOption:
			md := new(metadata.MD)
			out[i] = grpc.Header(md)
			copies = append(copies, func() { *o.HeaderAddr = *md })
		case grpc.TrailerCallOption:
			md := new(metadata.MD)
			out[i] = grpc.Trailer(md)
			copies = append(copies, func() { *o.TrailerAddr = *md })
		default:
			out[i] = o
		}
	}
	return out, copies
}
