-- A plain events table: a unique event id and a per-stream index.
CREATE TABLE events (
  position    bigserial PRIMARY KEY,
  event_id    uuid NOT NULL UNIQUE,
  stream      text NOT NULL,
  recorded_at timestamptz NOT NULL DEFAULT now(),
  recorded_by text NOT NULL,
  body        jsonb NOT NULL
);
CREATE INDEX events_stream ON events (stream, position);

-- An events table with Pacta's own guarantees: gap-free global positions
-- and per-stream versions, and a SHA-256 chain carried by a head row that
-- every append updates in its transaction.
CREATE TABLE chained (
  position    bigint PRIMARY KEY,
  event_id    uuid NOT NULL UNIQUE,
  stream      text NOT NULL,
  version     bigint NOT NULL,
  recorded_at timestamptz NOT NULL DEFAULT now(),
  recorded_by text NOT NULL,
  body        jsonb NOT NULL,
  hash        bytea NOT NULL,
  UNIQUE (stream, version)
);
CREATE TABLE head (id int PRIMARY KEY, position bigint NOT NULL, hash bytea NOT NULL);
INSERT INTO head VALUES (1, 0, decode(repeat('00', 32), 'hex'));
