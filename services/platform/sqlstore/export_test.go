package sqlstore

// SetRetried sets the function InTx calls with each error it is about to
// retry.
func SetRetried(db *DB, fn func(err error)) { db.retried = fn }
