package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/tenurehq/tenure/services/feedback/internal/feedback"
)

// surveyDoc is a survey kept as JSON.
type surveyDoc struct {
	DisplayName    string              `json:"display_name,omitempty"`
	Kind           feedback.SurveyKind `json:"kind"`
	Trigger        string              `json:"trigger"`
	FollowUpQueue  string              `json:"follow_up_queue"`
	PromoterPoints int64               `json:"promoter_points,omitempty"`
	Journey        string              `json:"journey,omitempty"`
	DelayNanos     int64               `json:"invitation_delay,omitempty"`
}

// CreateSurvey implements feedback.SurveyStore.
func (s *Store) CreateSurvey(ctx context.Context, sv feedback.Survey) error {
	data, err := encode(surveyDoc{sv.DisplayName, sv.Kind, sv.Trigger, sv.FollowUpQueue, sv.PromoterPoints, sv.Journey, int64(sv.InvitationDelay)})
	if err != nil {
		return err
	}
	_, err = s.db.ExecContext(ctx, s.q(`INSERT INTO surveys (survey_id, create_time, data) VALUES (?, ?, ?)`), sv.ID, nanos(sv.CreateTime), data)
	return s.exists(err, "survey", sv.ID)
}

// GetSurvey implements feedback.SurveyStore.
func (s *Store) GetSurvey(ctx context.Context, id string) (*feedback.Survey, error) {
	sv, err := scanSurvey(s.db.QueryRowContext(ctx, s.q(`SELECT survey_id, create_time, data FROM surveys WHERE survey_id = ?`), id))
	if err := notFound(err, feedback.ErrSurveyNotFound, id); err != nil {
		return nil, err
	}
	return sv, nil
}

func scanSurvey(r scanner) (*feedback.Survey, error) {
	var (
		id, data string
		ct       int64
		d        surveyDoc
	)
	if err := r.Scan(&id, &ct, &data); err != nil {
		return nil, err
	}
	if err := decode(data, &d); err != nil {
		return nil, err
	}
	return &feedback.Survey{ID: id, DisplayName: d.DisplayName, Kind: d.Kind, Trigger: d.Trigger, FollowUpQueue: d.FollowUpQueue,
		PromoterPoints: d.PromoterPoints, CreateTime: fromNanos(ct), Journey: d.Journey, InvitationDelay: time.Duration(d.DelayNanos)}, nil
}

// ListSurveys implements feedback.InvitationStore.
func (s *Store) ListSurveys(ctx context.Context) ([]feedback.Survey, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT survey_id, create_time, data FROM surveys ORDER BY survey_id`)
	if err != nil {
		return nil, fmt.Errorf("store: list surveys: %w", err)
	}
	defer rows.Close()
	var out []feedback.Survey
	for rows.Next() {
		sv, err := scanSurvey(rows)
		if err != nil {
			return nil, fmt.Errorf("store: list surveys: %w", err)
		}
		out = append(out, *sv)
	}
	return out, rows.Err()
}

const responseCols = `survey_id, response_id, customer_id, score, comment, channel, dismissed, value_tier, loyalty_tier,
	follow_up_ticket, reward, create_time`

// CreateResponse implements feedback.SurveyStore.
func (s *Store) CreateResponse(ctx context.Context, r feedback.Response) error {
	_, err := s.db.ExecContext(ctx, s.q(`INSERT INTO survey_responses (`+responseCols+`) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`),
		r.SurveyID, r.ID, r.CustomerID, r.Score, r.Comment, string(r.Channel), boolInt(r.Dismissed), r.ValueTier, r.LoyaltyTier,
		r.FollowUpTicket, string(r.Reward), nanos(r.CreateTime))
	return s.exists(err, "survey response", r.ID)
}

func scanResponse(r scanner) (*feedback.Response, error) {
	var (
		resp            feedback.Response
		channel, reward string
		dismissed, ct   int64
	)
	err := r.Scan(&resp.SurveyID, &resp.ID, &resp.CustomerID, &resp.Score, &resp.Comment, &channel, &dismissed, &resp.ValueTier,
		&resp.LoyaltyTier, &resp.FollowUpTicket, &reward, &ct)
	resp.Channel, resp.Dismissed, resp.Reward, resp.CreateTime = feedback.Channel(channel), dismissed == 1, feedback.RewardState(reward), fromNanos(ct)
	return &resp, err
}

// GetResponse implements feedback.SurveyStore.
func (s *Store) GetResponse(ctx context.Context, surveyID, id string) (*feedback.Response, error) {
	r, err := scanResponse(s.db.QueryRowContext(ctx, s.q(`SELECT `+responseCols+` FROM survey_responses WHERE survey_id = ? AND response_id = ?`), surveyID, id))
	if err := notFound(err, feedback.ErrResponseNotFound, surveyID+"/"+id); err != nil {
		return nil, err
	}
	return r, nil
}

// SetResponseOutcome implements feedback.SurveyStore.
func (s *Store) SetResponseOutcome(ctx context.Context, surveyID, id, ticket string, reward feedback.RewardState, retry time.Time) error {
	var at any // NULL: nothing to retry
	if !retry.IsZero() {
		at = nanos(retry)
	}
	_, err := s.db.ExecContext(ctx, s.q(`UPDATE survey_responses SET follow_up_ticket = ?, reward = ?, reward_retry_time = ?
		WHERE survey_id = ? AND response_id = ?`), ticket, string(reward), at, surveyID, id)
	if err != nil {
		return fmt.Errorf("store: set response outcome: %w", err)
	}
	return nil
}

// RewardsDue implements feedback.SurveyStore.
func (s *Store) RewardsDue(ctx context.Context, now time.Time, limit int) ([]feedback.PendingReward, error) {
	var out []feedback.PendingReward
	err := s.each(ctx, `SELECT `+responseCols+`, reward_attempts FROM survey_responses
		WHERE reward_retry_time IS NOT NULL AND reward_retry_time <= ? ORDER BY reward_retry_time, survey_id, response_id LIMIT ?`,
		[]any{nanos(now), limit}, func(r scanner) error {
			var p feedback.PendingReward
			var channel, reward string
			var dismissed, ct int64
			err := r.Scan(&p.SurveyID, &p.ID, &p.CustomerID, &p.Score, &p.Comment, &channel, &dismissed, &p.ValueTier,
				&p.LoyaltyTier, &p.FollowUpTicket, &reward, &ct, &p.Attempts)
			p.Channel, p.Dismissed, p.Reward, p.CreateTime = feedback.Channel(channel), dismissed == 1, feedback.RewardState(reward), fromNanos(ct)
			if err == nil {
				out = append(out, p)
			}
			return err
		})
	return out, err
}

// DelayReward implements feedback.SurveyStore.
func (s *Store) DelayReward(ctx context.Context, surveyID, id string, attempts int, retry time.Time) error {
	_, err := s.db.ExecContext(ctx, s.q(`UPDATE survey_responses SET reward_attempts = ?, reward_retry_time = ?
		WHERE survey_id = ? AND response_id = ? AND reward_retry_time IS NOT NULL`), attempts, nanos(retry), surveyID, id)
	if err != nil {
		return fmt.Errorf("store: delay reward: %w", err)
	}
	return nil
}

// DismissResponse implements feedback.SurveyStore.
func (s *Store) DismissResponse(ctx context.Context, surveyID, id string) (*feedback.Response, error) {
	res, err := s.db.ExecContext(ctx, s.q(`UPDATE survey_responses SET dismissed = 1 WHERE survey_id = ? AND response_id = ?`), surveyID, id)
	if err != nil {
		return nil, fmt.Errorf("store: dismiss response: %w", err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return nil, fmt.Errorf("%w: %s/%s", feedback.ErrResponseNotFound, surveyID, id)
	}
	return s.GetResponse(ctx, surveyID, id)
}

// ListResponses implements feedback.SurveyStore.
func (s *Store) ListResponses(ctx context.Context, surveyID string) ([]feedback.Response, error) {
	var out []feedback.Response
	err := s.each(ctx, `SELECT `+responseCols+` FROM survey_responses WHERE survey_id = ? ORDER BY response_id DESC`, []any{surveyID},
		func(r scanner) error {
			resp, err := scanResponse(r)
			if err == nil {
				out = append(out, *resp)
			}
			return err
		})
	return out, err
}

// PromoterRewarded implements feedback.SurveyStore.
func (s *Store) PromoterRewarded(ctx context.Context, surveyID, customerID string) (bool, error) {
	var one int
	err := s.db.QueryRowContext(ctx, s.q(`SELECT 1 FROM survey_responses WHERE customer_id = ? AND survey_id = ? AND reward IN (?, ?) LIMIT 1`),
		customerID, surveyID, string(feedback.RewardGranted), string(feedback.RewardAlreadyGranted)).Scan(&one)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return false, nil
	case err != nil:
		return false, fmt.Errorf("store: promoter rewarded: %w", err)
	}
	return true, nil
}

const operationCols = `operation_id, done, failed, as_of_time, tickets_scanned, steps_applied, create_time, end_time, error_message, scheduled`

func operationArgs(op feedback.Operation) []any {
	return []any{op.ID, boolInt(op.Done), boolInt(op.Failed), nanos(op.AsOf), op.TicketsScanned, op.StepsApplied,
		nanos(op.CreateTime), nanos(op.EndTime), op.ErrorMessage, boolInt(op.Scheduled)}
}

// CreateOperation implements feedback.OperationStore.
func (s *Store) CreateOperation(ctx context.Context, op feedback.Operation) error {
	_, err := s.db.ExecContext(ctx, s.q(`INSERT INTO escalations (`+operationCols+`) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`), operationArgs(op)...)
	return s.exists(err, "escalation", op.ID)
}

// UpdateOperation implements feedback.OperationStore.
func (s *Store) UpdateOperation(ctx context.Context, op feedback.Operation) error {
	args := operationArgs(op)
	_, err := s.db.ExecContext(ctx, s.q(`UPDATE escalations SET done = ?, failed = ?, as_of_time = ?, tickets_scanned = ?, steps_applied = ?,
		create_time = ?, end_time = ?, error_message = ?, scheduled = ? WHERE operation_id = ?`), append(args[1:], op.ID)...)
	if err != nil {
		return fmt.Errorf("store: update escalation: %w", err)
	}
	return nil
}

// GetOperation implements feedback.OperationStore.
func (s *Store) GetOperation(ctx context.Context, id string) (*feedback.Operation, error) {
	var (
		op                  feedback.Operation
		done, failed, sched int64
		asOf, ct, et        int64
	)
	err := s.db.QueryRowContext(ctx, s.q(`SELECT `+operationCols+` FROM escalations WHERE operation_id = ?`), id).Scan(
		&op.ID, &done, &failed, &asOf, &op.TicketsScanned, &op.StepsApplied, &ct, &et, &op.ErrorMessage, &sched)
	if err := notFound(err, feedback.ErrEscalationNotFound, id); err != nil {
		return nil, err
	}
	op.Done, op.Failed, op.Scheduled = done == 1, failed == 1, sched == 1
	op.AsOf, op.CreateTime, op.EndTime = fromNanos(asOf), fromNanos(ct), fromNanos(et)
	return &op, nil
}
