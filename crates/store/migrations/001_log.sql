-- Pacta's log in PostgreSQL: the records, and the head that fences writers.
-- Applied once by `pacta_store::pg` (see `crates/store/src/pg/mod.rs`),
-- in one transaction, and recorded in `schema_migrations`. Never edit an
-- applied migration: add the next file.

-- One row per record, positions from 1 without gaps. `record` holds the
-- record's canonical JSON (docs/hash-chain.md) exactly as the sled log
-- keeps it after the two hashes: the bytes the chain covers. `event_id`,
-- `stream` and `version` repeat what those bytes say, for the indexes.
CREATE TABLE log (
    position  bigint PRIMARY KEY CHECK (position > 0),
    event_id  bytea  NOT NULL UNIQUE CHECK (octet_length(event_id) = 16),
    stream    text   NOT NULL,
    version   bigint NOT NULL CHECK (version > 0),
    hash      bytea  NOT NULL CHECK (octet_length(hash) = 32),
    prev_hash bytea  NOT NULL CHECK (octet_length(prev_hash) = 32),
    record    bytea  NOT NULL,
    UNIQUE (stream, version)
);

-- The record bytes are already JSON text; compressing them is wasted work
-- for records of a few hundred bytes, and `external` keeps large ones
-- readable without decompression.
ALTER TABLE log ALTER COLUMN record SET STORAGE EXTERNAL;

-- The log is append-only: an UPDATE, DELETE or TRUNCATE is refused. An
-- insider with the table owner's rights can disable this trigger; the
-- hash chain is what shows that they did.
CREATE FUNCTION pacta_log_append_only() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'the log is append-only: % on it is refused', TG_OP
        USING ERRCODE = 'insufficient_privilege';
END
$$;

CREATE TRIGGER log_append_only
    BEFORE UPDATE OR DELETE ON log
    FOR EACH ROW EXECUTE FUNCTION pacta_log_append_only();

CREATE TRIGGER log_no_truncate
    BEFORE TRUNCATE ON log
    FOR EACH STATEMENT EXECUTE FUNCTION pacta_log_append_only();

-- The head: the last record's position and hash, moved in the same
-- transaction as the records, and the writers' epoch. A writer that takes
-- the leadership raises the epoch; every group it writes moves the head
-- only `WHERE position = <the head it holds> AND epoch = <its epoch>`, so
-- a writer that lost the leadership, or a head that moved under it, writes
-- nothing.
CREATE TABLE head (
    id       boolean PRIMARY KEY DEFAULT true CHECK (id),
    position bigint  NOT NULL CHECK (position >= 0),
    hash     bytea   NOT NULL CHECK (octet_length(hash) = 32),
    epoch    bigint  NOT NULL
);

INSERT INTO head (id, position, hash, epoch)
VALUES (true, 0, '\x0000000000000000000000000000000000000000000000000000000000000000'::bytea, 0);
