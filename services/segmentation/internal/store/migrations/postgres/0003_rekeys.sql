-- Customers erased (re-keyed to an anonymous id) by a page, in page order,
-- under the results generation that page set. A recompute that loaded its
-- inputs before such a page stores the erased customer's result under the
-- anonymous id. Rows live only until no recompute can need them.
CREATE TABLE rekeys (
    generation BIGINT NOT NULL,
    position   BIGINT NOT NULL,
    old_id     TEXT NOT NULL,
    new_id     TEXT NOT NULL,
    PRIMARY KEY (generation, position)
);
