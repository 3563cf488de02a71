package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"github.com/tenurehq/tenure/services/loyalty/internal/loyalty"
)

const rewardCols = `reward_id, display_name, type, points_cost, limited, stock, per_member_limit, valid_from, valid_until, minimum_tier`

// CreateReward implements loyalty.RewardStore.
func (s *Store) CreateReward(ctx context.Context, r loyalty.Reward) error {
	_, err := s.db.ExecContext(ctx, s.q(`INSERT INTO rewards (`+rewardCols+`) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`),
		r.ID, r.DisplayName, string(r.Type), r.PointsCost, boolInt(r.Limited), r.Stock, r.PerMemberLimit,
		unixNano(r.ValidFrom), unixNano(r.ValidUntil), r.MinimumTier)
	if s.db.IsUniqueViolation(err) {
		return fmt.Errorf("%w: %s", loyalty.ErrRewardAlreadyExists, r.ID)
	}
	if err != nil {
		return fmt.Errorf("store: create reward %s: %w", r.ID, err)
	}
	return nil
}

func scanReward(row interface{ Scan(...any) error }) (loyalty.Reward, error) {
	var r loyalty.Reward
	var typ string
	var limited int
	var from, until int64
	err := row.Scan(&r.ID, &r.DisplayName, &typ, &r.PointsCost, &limited, &r.Stock, &r.PerMemberLimit, &from, &until, &r.MinimumTier)
	r.Type, r.Limited, r.ValidFrom, r.ValidUntil = loyalty.RewardType(typ), limited == 1, timeOf(from), timeOf(until)
	return r, err
}

// Reward implements loyalty.RewardStore.
func (s *Store) Reward(ctx context.Context, id string) (loyalty.Reward, error) {
	r, err := scanReward(s.db.QueryRowContext(ctx, s.q(`SELECT `+rewardCols+` FROM rewards WHERE reward_id = ?`), id))
	if errors.Is(err, sql.ErrNoRows) {
		return r, fmt.Errorf("%w: %s", loyalty.ErrRewardNotFound, id)
	}
	if err != nil {
		return r, fmt.Errorf("store: read reward %s: %w", id, err)
	}
	return r, nil
}

// ListRewards implements loyalty.RewardStore.
func (s *Store) ListRewards(ctx context.Context, after string, limit int) ([]loyalty.Reward, error) {
	rows, err := s.db.QueryContext(ctx, s.q(`SELECT `+rewardCols+` FROM rewards WHERE reward_id > ? ORDER BY reward_id LIMIT ?`), after, limit)
	if err != nil {
		return nil, fmt.Errorf("store: list rewards: %w", err)
	}
	defer rows.Close()
	var out []loyalty.Reward
	for rows.Next() {
		r, err := scanReward(rows)
		if err != nil {
			return nil, fmt.Errorf("store: list rewards: %w", err)
		}
		out = append(out, r)
	}
	return out, rows.Err()
}

// TakeStock implements loyalty.RewardLedger with one guarded write.
func (l *txLedger) TakeStock(ctx context.Context, rewardID string) error {
	st, err := l.s.db.TxStmt(ctx, l.tx, l.s.q(`UPDATE rewards SET stock = stock - 1 WHERE reward_id = ? AND limited = 1 AND stock > 0`))
	if err != nil {
		return err
	}
	res, err := st.ExecContext(ctx, rewardID)
	if err != nil {
		return fmt.Errorf("store: take stock of %s: %w", rewardID, err)
	}
	if n, err := res.RowsAffected(); err != nil || n == 0 {
		return fmt.Errorf("%w: %s", loyalty.ErrOutOfStock, rewardID)
	}
	return nil
}

// ReturnStock implements loyalty.RewardLedger.
func (l *txLedger) ReturnStock(ctx context.Context, rewardID string) error {
	return l.exec(ctx, `UPDATE rewards SET stock = stock + 1 WHERE reward_id = ? AND limited = 1`, rewardID)
}

// Redemptions implements loyalty.RewardLedger.
func (l *txLedger) Redemptions(ctx context.Context, a *loyalty.Account, rewardID string) (int64, error) {
	var n int64
	err := l.tx.QueryRowContext(ctx, l.s.q(`SELECT COUNT(*) FROM reward_redemptions WHERE member_id = ? AND reward_id = ? AND state <> ?`),
		a.Member.ID, rewardID, string(loyalty.RedemptionCancelled)).Scan(&n)
	return n, err
}

// Redemption implements loyalty.RewardLedger.
func (l *txLedger) Redemption(ctx context.Context, a *loyalty.Account, seq int64) (loyalty.RewardRedemption, error) {
	return l.s.redemption(ctx, l.tx, a.Member.ID, seq)
}

func (s *Store) redemption(ctx context.Context, q queryer, member string, seq int64) (loyalty.RewardRedemption, error) {
	r := loyalty.RewardRedemption{MemberID: member, Seq: seq}
	var state string
	var created int64
	err := q.QueryRowContext(ctx, s.q(`SELECT reward_id, points, state, create_time FROM reward_redemptions
		WHERE member_id = ? AND seq = ?`), member, seq).Scan(&r.RewardID, &r.Points, &state, &created)
	if errors.Is(err, sql.ErrNoRows) {
		return r, fmt.Errorf("%w: reward redemption %d of %s", loyalty.ErrRedemptionNotFound, seq, member)
	}
	r.State, r.CreateTime = loyalty.RedemptionState(state), timeOf(created)
	return r, err
}

// PutRedemption implements loyalty.RewardLedger.
func (l *txLedger) PutRedemption(ctx context.Context, r loyalty.RewardRedemption) error {
	return l.exec(ctx, `INSERT INTO reward_redemptions (member_id, seq, reward_id, points, state, create_time)
		VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (member_id, seq) DO UPDATE SET state = excluded.state`,
		r.MemberID, r.Seq, r.RewardID, r.Points, string(r.State), unixNano(r.CreateTime))
}

// MemberRedemptions implements loyalty.RewardStore.
func (s *Store) MemberRedemptions(ctx context.Context, member string) ([]loyalty.RewardRedemption, error) {
	rows, err := s.db.QueryContext(ctx, s.q(`SELECT seq, reward_id, points, state, create_time FROM reward_redemptions
		WHERE member_id = ? ORDER BY seq`), member)
	if err != nil {
		return nil, fmt.Errorf("store: redemptions of %s: %w", member, err)
	}
	defer rows.Close()
	var out []loyalty.RewardRedemption
	for rows.Next() {
		r := loyalty.RewardRedemption{MemberID: member}
		var state string
		var created int64
		if err := rows.Scan(&r.Seq, &r.RewardID, &r.Points, &state, &created); err != nil {
			return nil, fmt.Errorf("store: redemptions of %s: %w", member, err)
		}
		r.State, r.CreateTime = loyalty.RedemptionState(state), timeOf(created)
		out = append(out, r)
	}
	return out, rows.Err()
}
