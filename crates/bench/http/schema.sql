CREATE TABLE events (
  position    bigserial PRIMARY KEY,
  event_id    uuid NOT NULL UNIQUE,
  stream      text NOT NULL,
  recorded_at timestamptz NOT NULL DEFAULT now(),
  recorded_by text NOT NULL,
  body        jsonb NOT NULL
);
CREATE INDEX events_stream ON events (stream, position);
