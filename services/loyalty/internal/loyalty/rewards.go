package loyalty

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"time"

	"github.com/tenurehq/tenure/services/platform/fielderr"
	"github.com/tenurehq/tenure/services/platform/paging"
)

// RewardType is what a reward is.
type RewardType string

// The reward types.
const (
	RewardGoods    RewardType = "goods"
	RewardVoucher  RewardType = "voucher"
	RewardActivity RewardType = "activity"
)

// Reward is an item of the catalogue.
type Reward struct {
	ID          string
	DisplayName string
	Type        RewardType
	PointsCost  int64
	// Stock is the units left when Limited; unlimited otherwise.
	Limited        bool
	Stock          int64
	PerMemberLimit int64
	ValidFrom      time.Time
	ValidUntil     time.Time
	MinimumTier    string
}

// RedemptionState is where a reward redemption is.
type RedemptionState string

// The redemption states.
const (
	RedemptionPending   RedemptionState = "pending"
	RedemptionFulfilled RedemptionState = "fulfilled"
	RedemptionCancelled RedemptionState = "cancelled"
)

// RewardRedemption is a member's redemption of a reward; its Seq is the
// redeem entry's.
type RewardRedemption struct {
	MemberID   string
	Seq        int64
	RewardID   string
	Points     int64
	State      RedemptionState
	CreateTime time.Time
}

// RewardStore keeps the catalogue.
type RewardStore interface {
	// CreateReward stores r; ErrRewardAlreadyExists if the id is taken.
	CreateReward(ctx context.Context, r Reward) error
	// Reward returns one; ErrRewardNotFound if there is none.
	Reward(ctx context.Context, id string) (Reward, error)
	// ListRewards returns up to limit rewards after id after, in id order.
	ListRewards(ctx context.Context, after string, limit int) ([]Reward, error)
	// MemberRedemptions returns every reward redemption of a member, oldest
	// first.
	MemberRedemptions(ctx context.Context, member string) ([]RewardRedemption, error)
}

// RewardLedger is the part of a ledger transaction that redeems rewards.
type RewardLedger interface {
	// TakeStock takes one unit of a limited reward; ErrOutOfStock when
	// none is left. ReturnStock gives one back to a limited reward.
	TakeStock(ctx context.Context, rewardID string) error
	ReturnStock(ctx context.Context, rewardID string) error
	// Redemptions counts the member's redemptions of a reward that are not
	// cancelled.
	Redemptions(ctx context.Context, a *Account, rewardID string) (int64, error)
	// Redemption returns one; ErrRedemptionNotFound if there is none.
	Redemption(ctx context.Context, a *Account, seq int64) (RewardRedemption, error)
	// PutRedemption stores a new or changed redemption.
	PutRedemption(ctx context.Context, r RewardRedemption) error
}

var rewardIDRE = regexp.MustCompile(`^[a-z][a-z0-9-]{0,62}$`)

// checkReward validates a new reward.
func checkReward(r Reward) error {
	var errs []error
	if !rewardIDRE.MatchString(r.ID) {
		errs = append(errs, invalid("reward_id", "must be 1 to 63 lower-case letters, digits and -, starting with a letter, got %s", fielderr.Quote(r.ID)))
	}
	if r.Type != RewardGoods && r.Type != RewardVoucher && r.Type != RewardActivity {
		errs = append(errs, invalid("reward.type", "must be goods, voucher or activity"))
	}
	if r.PointsCost <= 0 || r.PointsCost > maxPoints {
		errs = append(errs, invalid("reward.points_cost", "must be 1 to %d, got %d", int64(maxPoints), r.PointsCost))
	}
	if r.Limited && r.Stock < 0 {
		errs = append(errs, invalid("reward.stock", "must not be negative, got %d", r.Stock))
	}
	if r.PerMemberLimit < 0 {
		errs = append(errs, invalid("reward.per_member_limit", "must not be negative, got %d", r.PerMemberLimit))
	}
	if !r.ValidUntil.IsZero() && !r.ValidUntil.After(r.ValidFrom) {
		errs = append(errs, invalid("reward.valid_until", "must be after valid_from"))
	}
	if len(r.DisplayName) > 200 {
		errs = append(errs, invalid("reward.display_name", "must be at most 200 bytes"))
	}
	return errors.Join(errs...)
}

// CreateReward adds a reward; its minimum tier must be one of the
// programme's.
func (s *Service) CreateReward(ctx context.Context, r Reward) (Reward, error) {
	if err := checkReward(r); err != nil {
		return Reward{}, err
	}
	if r.MinimumTier != "" {
		p, err := s.Programme(ctx, 0)
		if err != nil {
			return Reward{}, err
		}
		if p.TierIndex(r.MinimumTier) < 0 {
			return Reward{}, invalid("reward.minimum_tier", "must be a tier of the programme, got %s", fielderr.Quote(r.MinimumTier))
		}
	}
	return r, s.store.CreateReward(ctx, r)
}

// Reward returns a reward.
func (s *Service) Reward(ctx context.Context, id string) (Reward, error) {
	return s.store.Reward(ctx, id)
}

// ListRewards pages through the catalogue in id order.
func (s *Service) ListRewards(ctx context.Context, pageSize int, token string) ([]Reward, string, error) {
	pg, err := paging.Parse(entrySizes, pageSize, token, paging.For("ListRewards"))
	if err != nil {
		return nil, "", err
	}
	rs, err := s.store.ListRewards(ctx, pg.After, pg.Limit())
	if err != nil {
		return nil, "", err
	}
	out, next := paging.Cut(pg, rs, func(r Reward) string { return r.ID })
	return out, next, nil
}

// RedeemReward spends a reward's points and takes its stock in one
// transaction.
func (s *Service) RedeemReward(ctx context.Context, member, rewardID string) (RewardRedemption, Result, error) {
	rw, err := s.store.Reward(ctx, rewardID)
	if err != nil {
		return RewardRedemption{}, Result{}, err
	}
	var red RewardRedemption
	res, err := s.inMember(ctx, member, func(ctx context.Context, l Ledger, a *Account, p Programme, now time.Time) (Result, error) {
		if err := rewardOpen(rw, a, p, now); err != nil {
			return Result{}, err
		}
		if err := s.memberLimit(ctx, l, a, rw); err != nil {
			return Result{}, err
		}
		e, err := a.Debit(EntryRedeem, rw.PointsCost, now, Source{RewardRedemption: rw.ID}, p.Version)
		if err != nil {
			return Result{}, err
		}
		if rw.Limited {
			if err := l.TakeStock(ctx, rw.ID); err != nil {
				return Result{}, err
			}
		}
		red = RewardRedemption{MemberID: a.Member.ID, Seq: e.Seq, RewardID: rw.ID, Points: rw.PointsCost,
			State: RedemptionPending, CreateTime: now}
		return Result{Entry: e}, l.PutRedemption(ctx, red)
	})
	return red, res, err
}

// rewardOpen checks the reward's window and minimum tier for a at now.
func rewardOpen(rw Reward, a *Account, p Programme, now time.Time) error {
	if now.Before(rw.ValidFrom) || (!rw.ValidUntil.IsZero() && !now.Before(rw.ValidUntil)) {
		return fmt.Errorf("%w: %s is valid from %s until %s", ErrRewardNotAvailable, rw.ID,
			rw.ValidFrom.Format(time.RFC3339), rw.ValidUntil.Format(time.RFC3339))
	}
	if rw.MinimumTier != "" && a.tierIndex(p) < p.TierIndex(rw.MinimumTier) {
		return fmt.Errorf("%w: %s needs tier %s, the member is %s", ErrTierTooLow, rw.ID, rw.MinimumTier, a.Member.Tier)
	}
	return nil
}

func (s *Service) memberLimit(ctx context.Context, l Ledger, a *Account, rw Reward) error {
	if rw.PerMemberLimit == 0 {
		return nil
	}
	n, err := l.Redemptions(ctx, a, rw.ID)
	if err != nil {
		return err
	}
	if n >= rw.PerMemberLimit {
		return fmt.Errorf("%w: %s allows %d per member", ErrRewardLimitReached, rw.ID, rw.PerMemberLimit)
	}
	return nil
}

// FinishRedemption fulfils or cancels a pending reward redemption. A
// cancellation gives the points back as CancelRedemption does and returns
// the stock.
func (s *Service) FinishRedemption(ctx context.Context, member string, seq int64, cancel bool) (RewardRedemption, Result, error) {
	var red RewardRedemption
	res, err := s.inMember(ctx, member, func(ctx context.Context, l Ledger, a *Account, p Programme, now time.Time) (Result, error) {
		var err error
		if red, err = l.Redemption(ctx, a, seq); err != nil {
			return Result{}, err
		}
		if red.State != RedemptionPending {
			return Result{}, fmt.Errorf("%w: redemption %d is %s", ErrRedemptionClosed, seq, red.State)
		}
		red.State = RedemptionFulfilled
		if !cancel {
			return Result{}, l.PutRedemption(ctx, red)
		}
		red.State = RedemptionCancelled
		res, err := cancelEntry(ctx, l, a, seq, p, now, true)
		if err != nil {
			return Result{}, err
		}
		if err := l.ReturnStock(ctx, red.RewardID); err != nil {
			return Result{}, err
		}
		return res, l.PutRedemption(ctx, red)
	})
	return red, res, err
}

// cancelEntry gives a redeem entry's points back at now: a point
// redemption's, or a reward redemption's when reward is set.
func cancelEntry(ctx context.Context, l Ledger, a *Account, seq int64, p Programme, now time.Time, reward bool) (Result, error) {
	red, err := l.Entry(ctx, a, seq)
	if err != nil {
		return Result{}, err
	}
	if (red.Source.RewardRedemption != "") != reward {
		return Result{}, fmt.Errorf("%w: entry %d is not a %s", ErrRedemptionNotFound, seq,
			map[bool]string{true: "reward redemption", false: "point redemption"}[reward])
	}
	e, red, err := a.Cancel(red, now, Source{OrderID: red.Source.OrderID, RewardRedemption: red.Source.RewardRedemption}, p.Version)
	if err != nil {
		return Result{}, err
	}
	return Result{Entry: e}, l.UpdateEntry(ctx, a, red)
}
