-- The Merkle tree over the log (docs/hash-chain.md), as the embedded
-- store keeps it: the stored hashes of Go's sumdb/tlog layout, by stored
-- hash index, and the number of leaves they cover. Derived data: built
-- behind the acknowledgement from the `log` table by any Pacta instance
-- connected (the row lock on `tlog_size` lets one extend it at a time),
-- and rebuilt from the log when dropped.
CREATE TABLE tlog_hashes (
    idx  bigint PRIMARY KEY CHECK (idx >= 0),
    hash bytea  NOT NULL CHECK (octet_length(hash) = 32)
);

CREATE TABLE tlog_size (
    id     boolean PRIMARY KEY DEFAULT true CHECK (id),
    leaves bigint  NOT NULL CHECK (leaves >= 0)
);

INSERT INTO tlog_size (id, leaves) VALUES (true, 0);
