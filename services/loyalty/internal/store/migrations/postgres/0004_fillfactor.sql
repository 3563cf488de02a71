-- Members are rewritten by every change to a member, and buckets whenever
-- their points change (refunds, spending, expiry): pages kept partly free
-- let PostgreSQL write the new row versions on the same page without a
-- new index entry (HOT updates). Pages written from now on keep the space.
ALTER TABLE members SET (fillfactor = 70);
ALTER TABLE buckets SET (fillfactor = 80);
