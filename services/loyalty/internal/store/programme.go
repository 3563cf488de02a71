package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/tenurehq/tenure/services/loyalty/internal/loyalty"
)

// Programme implements loyalty.ProgrammeStore.
func (s *Store) Programme(ctx context.Context, version int64) (loyalty.Programme, error) {
	query := `SELECT version, data, update_time FROM programmes WHERE version = ?`
	args := []any{version}
	if version == 0 {
		query, args = `SELECT version, data, update_time FROM programmes ORDER BY version DESC LIMIT 1`, nil
	}
	var v, ut int64
	var data string
	err := s.db.QueryRowContext(ctx, s.q(query), args...).Scan(&v, &data, &ut)
	if errors.Is(err, sql.ErrNoRows) {
		return loyalty.Programme{}, fmt.Errorf("%w: version %d", loyalty.ErrProgrammeNotFound, version)
	}
	if err != nil {
		return loyalty.Programme{}, fmt.Errorf("store: read programme: %w", err)
	}
	var p loyalty.Programme
	if err := json.Unmarshal([]byte(data), &p); err != nil {
		return loyalty.Programme{}, fmt.Errorf("store: decode programme %d: %w", v, err)
	}
	p.Version, p.UpdateTime = v, timeOf(ut)
	return p, nil
}

// InsertProgramme implements loyalty.ProgrammeStore.
func (s *Store) InsertProgramme(ctx context.Context, p loyalty.Programme, current int64) (loyalty.Programme, error) {
	p.Version = current + 1
	data, err := json.Marshal(p)
	if err != nil {
		return loyalty.Programme{}, err
	}
	_, err = s.db.ExecContext(ctx, s.q(`INSERT INTO programmes (version, data, update_time) VALUES (?, ?, ?)`),
		p.Version, string(data), unixNano(p.UpdateTime))
	if s.db.IsUniqueViolation(err) {
		return loyalty.Programme{}, fmt.Errorf("%w: another update made version %d first", loyalty.ErrVersionMismatch, p.Version)
	}
	if err != nil {
		return loyalty.Programme{}, fmt.Errorf("store: insert programme: %w", err)
	}
	return p, nil
}
