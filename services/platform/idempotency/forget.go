package idempotency

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"fmt"
	"slices"
	"strings"
)

// SubjectLister is implemented by a gRPC service implementation (the value
// registered on the server, which the interceptor sees as
// grpc.UnaryServerInfo.Server) whose stored responses can hold personal
// data. IdempotencySubjects returns whom req is about, e.g.
// CustomerSubject(id) for each customer the request names whose data the
// response may carry; nil when it is about nobody in particular. Requests
// that erase or delete those subjects themselves should not list them, or
// their own key would be forgotten with the rest.
type SubjectLister interface {
	IdempotencySubjects(req any) []string
}

// CustomerSubject is the subject of requests about the customer with id
// id: its resource name, "customers/{id}". Services record and forget a
// customer under this subject.
func CustomerSubject(id string) string { return "customers/" + id }

// subjectBatch is the most subjects one statement writes or forgets.
const subjectBatch = 200

// subjectsOf returns the distinct hashed subjects server names for req.
func subjectsOf(server, req any) [][]byte {
	l, ok := server.(SubjectLister)
	if !ok {
		return nil
	}
	return hashSubjects(l.IdempotencySubjects(req))
}

// hashSubjects returns the SHA-256 of each distinct subject: subjects are
// stored hashed, so a key's row never holds a customer id in clear and any
// subject, however long, has a fixed size.
func hashSubjects(subjects []string) [][]byte {
	out := make([][]byte, 0, len(subjects))
	seen := make(map[[sha256.Size]byte]bool, len(subjects))
	for _, subj := range subjects {
		h := sha256.Sum256([]byte(subj))
		if !seen[h] {
			seen[h] = true
			out = append(out, h[:])
		}
	}
	return out
}

// addSubjects records subjects for the key created at createdAt.
func (s *Store) addSubjects(ctx context.Context, tx *sql.Tx, key string, createdAt int64, subjects [][]byte) error {
	for chunk := range slices.Chunk(subjects, subjectBatch) {
		args := make([]any, 0, 3*len(chunk))
		for _, subj := range chunk {
			args = append(args, subj, key, createdAt)
		}
		if _, err := tx.ExecContext(ctx, s.db.Rebind(`INSERT INTO idempotency_subjects (subject, request_id, created_at)
			VALUES `+repeatJoin("(?, ?, ?)", len(chunk))+` ON CONFLICT DO NOTHING`), args...); err != nil {
			return err
		}
	}
	return nil
}

// Forget neutralises, inside tx, every key recorded with one of subjects:
// its stored response and request fingerprint are removed and its state
// becomes forgotten, so a retry fails with REQUEST_FORGOTTEN and a call
// still in flight does not store its response. A service calls it in the
// transaction that erases or deletes the subject's data, so the two commit
// or roll back together. tx must belong to the Store's database, and
// Migrate must have run.
//
// Forget sees the keys claimed before it runs. A call claimed while the
// erasure's transaction is open must be ordered after the erasure by the
// service's own locks on the subject (the erased customer's row), so that
// the response it stores describes the subject after the erasure, never
// the data the erasure removed.
func (s *Store) Forget(ctx context.Context, tx *sql.Tx, subjects ...string) error {
	for chunk := range slices.Chunk(hashSubjects(subjects), subjectBatch) {
		in := repeatJoin("?", len(chunk))
		args := make([]any, 0, len(chunk)+1)
		args = append(args, []byte{})
		for _, subj := range chunk {
			args = append(args, subj)
		}
		if _, err := tx.ExecContext(ctx, s.db.Rebind(`UPDATE idempotency_keys
			SET state = 'forgotten', response = NULL, fingerprint = ?
			WHERE state <> 'forgotten' AND request_id IN
				(SELECT request_id FROM idempotency_subjects WHERE subject IN (`+in+`))`), args...); err != nil {
			return fmt.Errorf("idempotency: forget keys: %w", err)
		}
		if _, err := tx.ExecContext(ctx, s.db.Rebind(`DELETE FROM idempotency_subjects WHERE subject IN (`+in+`)`),
			args[1:]...); err != nil {
			return fmt.Errorf("idempotency: forget subjects: %w", err)
		}
	}
	return nil
}

// repeatJoin returns n copies of s joined by ", ".
func repeatJoin(s string, n int) string {
	return strings.TrimSuffix(strings.Repeat(s+", ", n), ", ")
}
