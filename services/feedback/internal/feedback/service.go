package feedback

import (
	"crypto/rand"
	"encoding/hex"
	"log/slog"
	"sync"
	"time"
)

// Service is the feedback use cases over a Store.
type Service struct {
	store     Store
	compiler  Compiler
	clock     func() time.Time
	customers Customers
	contacts  Contacts
	rewards   Rewards
	notifier  Notifier
	locker    Locker
	logger    *slog.Logger
	metrics   Metrics
	// rewardDelay is the delay before retry n of a promoter's thanks.
	rewardDelay func(n int) time.Duration
	outreach    Outreach
	linkBase    string // of survey links
	// inviteDelay is the delay before retry n of an invitation.
	inviteDelay func(n int) time.Duration

	mu    sync.Mutex
	rules []CompiledRule // cache, valid while the store has ruleCount rules
	count int
}

// Option configures a Service.
type Option func(*Service)

// WithClock sets the clock (default time.Now).
func WithClock(clock func() time.Time) Option { return func(s *Service) { s.clock = clock } }

// WithCustomers sets where customer tiers come from (default none).
func WithCustomers(c Customers) Option { return func(s *Service) { s.customers = c } }

// WithContacts sets where tickets are recorded as contacts (default none).
func WithContacts(c Contacts) Option { return func(s *Service) { s.contacts = c } }

// WithRewards sets how promoters are thanked (default NoRewards).
func WithRewards(r Rewards) Option { return func(s *Service) { s.rewards = r } }

// WithNotifier sets how escalation webhooks are sent (default none).
func WithNotifier(n Notifier) Option { return func(s *Service) { s.notifier = n } }

// WithLogger sets the logger of failures that do not fail a request.
func WithLogger(l *slog.Logger) Option { return func(s *Service) { s.logger = l } }

// NewService returns the use cases over store, compiling rules with c.
func NewService(store Store, c Compiler, opts ...Option) *Service {
	s := &Service{store: store, compiler: c, clock: time.Now, customers: NoCustomers{}, contacts: NoContacts{},
		rewards: NoRewards{}, notifier: NoNotifier{}, locker: make(localLock, 1), logger: slog.New(slog.DiscardHandler),
		metrics: NoMetrics{}, rewardDelay: func(int) time.Duration { return time.Minute },
		outreach: NoOutreach{}, linkBase: DefaultLinkBase, inviteDelay: func(int) time.Duration { return time.Minute }}
	for _, o := range opts {
		o(s)
	}
	return s
}

// now is the clock's time in UTC, to the microsecond (what both databases
// keep).
func (s *Service) now() time.Time { return s.clock().UTC().Truncate(time.Microsecond) }

// newID returns a new resource id: 16 hex digits of time then 8 random,
// so ids sort by creation.
func (s *Service) newID() string {
	var b [12]byte
	n := uint64(s.clock().UnixNano())
	for i := 7; i >= 0; i-- {
		b[i] = byte(n)
		n >>= 8
	}
	_, _ = rand.Read(b[8:])
	return hex.EncodeToString(b[:])
}
