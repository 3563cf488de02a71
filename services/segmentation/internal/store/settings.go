package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/tenurehq/tenure/services/segmentation/internal/segmentation"
)

// LatestSettings implements segmentation.SettingsStore.
func (s *Store) LatestSettings(ctx context.Context) (segmentation.SettingsVersion, error) {
	return s.scanSettings(s.db.QueryRowContext(ctx, `SELECT version, data, update_time FROM settings ORDER BY version DESC LIMIT 1`), 0)
}

// GetSettings implements segmentation.SettingsStore.
func (s *Store) GetSettings(ctx context.Context, version int64) (segmentation.SettingsVersion, error) {
	return s.scanSettings(s.db.QueryRowContext(ctx, s.q(`SELECT version, data, update_time FROM settings WHERE version = ?`), version), version)
}

func (s *Store) scanSettings(row *sql.Row, version int64) (segmentation.SettingsVersion, error) {
	var (
		v    segmentation.SettingsVersion
		data string
		ut   int64
	)
	err := row.Scan(&v.Version, &data, &ut)
	if errors.Is(err, sql.ErrNoRows) {
		if version == 0 {
			return v, segmentation.ErrSettingsNotFound
		}
		return v, fmt.Errorf("%w: version %d", segmentation.ErrSettingsNotFound, version)
	}
	if err != nil {
		return v, fmt.Errorf("store: read settings: %w", err)
	}
	if err := json.Unmarshal([]byte(data), &v.Settings); err != nil {
		return v, fmt.Errorf("store: decode settings version %d: %w", v.Version, err)
	}
	v.UpdateTime = fromNanos(ut)
	return v, nil
}

// InsertSettings implements segmentation.SettingsStore.
func (s *Store) InsertSettings(ctx context.Context, set segmentation.Settings, expected int64, now time.Time) (segmentation.SettingsVersion, error) {
	data, err := json.Marshal(set)
	if err != nil {
		return segmentation.SettingsVersion{}, fmt.Errorf("store: encode settings: %w", err)
	}
	v := segmentation.SettingsVersion{Version: expected + 1, Settings: set, UpdateTime: now}
	err = s.db.InTx(ctx, func(tx *sql.Tx) error {
		var latest int64
		if err := tx.QueryRowContext(ctx, `SELECT COALESCE(MAX(version), 0) FROM settings`).Scan(&latest); err != nil {
			return err
		}
		if latest != expected {
			return fmt.Errorf("%w: settings are at version %d, not %d", segmentation.ErrETagMismatch, latest, expected)
		}
		_, err := tx.ExecContext(ctx, s.q(`INSERT INTO settings (version, data, update_time) VALUES (?, ?, ?)`), v.Version, string(data), nanos(now))
		if s.db.IsUniqueViolation(err) {
			return fmt.Errorf("%w: settings version %d exists", segmentation.ErrETagMismatch, v.Version)
		}
		return err
	})
	if err != nil {
		if errors.Is(err, segmentation.ErrETagMismatch) {
			return segmentation.SettingsVersion{}, err
		}
		return segmentation.SettingsVersion{}, fmt.Errorf("store: insert settings: %w", err)
	}
	return v, nil
}
