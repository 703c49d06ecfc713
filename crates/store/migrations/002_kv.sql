-- State that is not derived from the log and must be the same for every
-- Pacta instance on this database (today: the access tokens), as keyspaces
-- of key/value pairs (`pacta_store::kv::Keyspace`). Keys compare as bytes,
-- as the embedded store's do. Views stay in each instance's data
-- directory: they are derived from the log.
CREATE TABLE kv (
    keyspace text  NOT NULL,
    key      bytea NOT NULL,
    value    bytea NOT NULL,
    PRIMARY KEY (keyspace, key)
);
