-- The expiry job rewrites every due bucket of a page, and every member
-- row of a page, in one transaction. A row's new version is written on its
-- page without a new index entry (a HOT update) only if the page has room
-- for it, and versions written by the transaction still running cannot be
-- pruned to make room: pages half free hold a second version of every row.
-- At 0004's 70 and 80 about half the job's updates also wrote an index
-- entry. Pages written from now on keep the space.
ALTER TABLE members SET (fillfactor = 50);
ALTER TABLE buckets SET (fillfactor = 50);
