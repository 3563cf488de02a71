package store

import (
	"context"
	"fmt"

	"github.com/tenurehq/tenure/services/profile/internal/profile"
)

// AppendAudit implements profile.AuditStore.
func (s *Store) AppendAudit(ctx context.Context, r profile.AuditRecord) error {
	_, err := s.db.ExecContext(ctx, s.db.Rebind(`INSERT INTO audit_records
		(principal, key_id, method, resource, request_id, outcome, create_time) VALUES (?, ?, ?, ?, ?, ?, ?)`),
		r.Principal, r.KeyID, r.Method, r.Resource, r.RequestID, r.Outcome, nanos(r.CreateTime))
	if err != nil {
		return fmt.Errorf("store: append audit record: %w", err)
	}
	return nil
}

// ListAudit implements profile.AuditStore.
func (s *Store) ListAudit(ctx context.Context, beforeID int64, limit int) ([]profile.AuditRecord, error) {
	rows, err := s.db.QueryContext(ctx, s.db.Rebind(`SELECT id, principal, key_id, method, resource, request_id, outcome, create_time
		FROM audit_records WHERE id < ? ORDER BY id DESC LIMIT ?`), beforeID, limit)
	if err != nil {
		return nil, fmt.Errorf("store: list audit records: %w", err)
	}
	defer rows.Close()
	var out []profile.AuditRecord
	for rows.Next() {
		var r profile.AuditRecord
		var at int64
		if err := rows.Scan(&r.ID, &r.Principal, &r.KeyID, &r.Method, &r.Resource, &r.RequestID, &r.Outcome, &at); err != nil {
			return nil, fmt.Errorf("store: list audit records: %w", err)
		}
		r.CreateTime = fromNanos(at)
		out = append(out, r)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("store: list audit records: %w", err)
	}
	return out, nil
}
