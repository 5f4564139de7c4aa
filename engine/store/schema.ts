/**
 * The state store's schema, as an ordered list of migrations. `PRAGMA
 * user_version` records how many have been applied; opening a file runs the
 * missing ones in one transaction. Never edit a published migration: append one.
 */

export const MIGRATIONS: readonly string[] = [
  `
  CREATE TABLE inbox (
    id              INTEGER PRIMARY KEY,
    source          TEXT    NOT NULL,
    key             TEXT    NOT NULL,
    event           TEXT,
    rule_id         TEXT,
    payload         TEXT    NOT NULL,
    process_id      TEXT,
    message_id      TEXT,
    received_at     INTEGER NOT NULL,
    status          TEXT    NOT NULL DEFAULT 'pending',
    attempts        INTEGER NOT NULL DEFAULT 0,
    next_attempt_at INTEGER NOT NULL DEFAULT 0,
    last_error      TEXT,
    finished_at     INTEGER,
    acknowledged_at INTEGER,
    UNIQUE (source, key)
  );
  CREATE INDEX inbox_ready ON inbox (status, next_attempt_at, id);
  CREATE INDEX inbox_unacked ON inbox (source, acknowledged_at, status);

  CREATE TABLE runs (
    id              INTEGER PRIMARY KEY,
    item_id         INTEGER NOT NULL REFERENCES inbox (id),
    rule_id         TEXT    NOT NULL,
    rule_hash       TEXT    NOT NULL,
    trigger_key     TEXT    NOT NULL,
    record_key      TEXT    NOT NULL DEFAULT '',
    concurrency_key TEXT,
    dedupe_key      TEXT,
    status          TEXT    NOT NULL DEFAULT 'new',
    cursor          INTEGER NOT NULL DEFAULT 0,
    attempts        INTEGER NOT NULL DEFAULT 0,
    next_attempt_at INTEGER NOT NULL DEFAULT 0,
    facts           TEXT,
    trace           TEXT    NOT NULL DEFAULT '{}',
    error           TEXT,
    created_at      INTEGER NOT NULL,
    updated_at      INTEGER NOT NULL,
    finished_at     INTEGER
  );
  CREATE INDEX runs_status ON runs (status, next_attempt_at, id);
  CREATE INDEX runs_item ON runs (item_id);
  CREATE INDEX runs_rule ON runs (rule_id, id);
  CREATE INDEX runs_concurrency ON runs (rule_id, concurrency_key, status);

  CREATE TABLE effects (
    id           INTEGER PRIMARY KEY,
    effect_key   TEXT    NOT NULL UNIQUE,
    run_id       INTEGER NOT NULL REFERENCES runs (id),
    seq          INTEGER NOT NULL,
    action_index INTEGER NOT NULL,
    kind         TEXT    NOT NULL,
    method       TEXT    NOT NULL,
    params       TEXT    NOT NULL,
    as_name      TEXT,
    recovery     TEXT    NOT NULL,
    meta         TEXT,
    state        TEXT    NOT NULL DEFAULT 'pending',
    final        INTEGER NOT NULL DEFAULT 0,
    result       TEXT,
    error        TEXT,
    attempts     INTEGER NOT NULL DEFAULT 0,
    created_at   INTEGER NOT NULL,
    sent_at      INTEGER,
    done_at      INTEGER
  );
  CREATE INDEX effects_run ON effects (run_id, seq);
  CREATE INDEX effects_state ON effects (state);

  CREATE TABLE snapshots (
    entity     TEXT    NOT NULL,
    id         TEXT    NOT NULL,
    fields     TEXT    NOT NULL,
    updated_at INTEGER NOT NULL,
    PRIMARY KEY (entity, id)
  );

  CREATE TABLE dedupe (
    rule_id    TEXT    NOT NULL,
    key        TEXT    NOT NULL,
    run_id     INTEGER,
    created_at INTEGER NOT NULL,
    PRIMARY KEY (rule_id, key)
  );

  CREATE TABLE positions (
    rule_id    TEXT    NOT NULL,
    key        TEXT    NOT NULL,
    position   INTEGER NOT NULL,
    updated_at INTEGER NOT NULL,
    PRIMARY KEY (rule_id, key)
  );

  CREATE TABLE schedules (
    rule_id    TEXT    PRIMARY KEY,
    last_fire  INTEGER NOT NULL,
    updated_at INTEGER NOT NULL
  );

  CREATE TABLE dlq (
    id         INTEGER PRIMARY KEY,
    item_id    INTEGER NOT NULL REFERENCES inbox (id),
    run_id     INTEGER REFERENCES runs (id),
    rule_id    TEXT,
    error      TEXT    NOT NULL,
    payload    TEXT    NOT NULL,
    created_at INTEGER NOT NULL
  );
  `,
  // 2: runs of an item sent back from the DLQ are kept for the journal but no longer decide the item's outcome.
  `ALTER TABLE runs ADD COLUMN superseded INTEGER NOT NULL DEFAULT 0;`,
  // 3: the order in which runs reached a final state, so readers (the daemon's run log and
  // `rule_runs_total`) can follow finishes with a cursor instead of scanning by id. The counter
  // lives in its own table so that pruning the latest-finished runs never lets a number be reused.
  `
  ALTER TABLE runs ADD COLUMN finished_seq INTEGER;
  UPDATE runs SET finished_seq = o.n
    FROM (SELECT id, ROW_NUMBER() OVER (ORDER BY finished_at, id) AS n
            FROM runs WHERE finished_at IS NOT NULL AND status IN ('done','skipped','failed','dead')) AS o
   WHERE o.id = runs.id;
  CREATE UNIQUE INDEX runs_finished ON runs (finished_seq) WHERE finished_seq IS NOT NULL;
  CREATE TABLE counters (
    name  TEXT    PRIMARY KEY,
    value INTEGER NOT NULL
  );
  INSERT INTO counters (name, value) VALUES ('runs_finished', (SELECT COALESCE(MAX(finished_seq), 0) FROM runs));
  `,
  // 4: a failed call keeps its error code beside the message (the portal's code, such as
  // QUERY_LIMIT_EXCEEDED, or the engine's, such as EFFECT_IN_DOUBT), so the pipeline branches
  // on the code, never on message text. Rows written before carried it as the message's
  // "CODE: description" prefix: that prefix becomes the code where it is one.
  `
  ALTER TABLE effects ADD COLUMN error_code TEXT;
  UPDATE effects SET error_code = substr(error, 1, instr(error, ':') - 1)
   WHERE error IS NOT NULL AND instr(error, ':') > 1
     AND substr(error, 1, instr(error, ':') - 1) NOT GLOB '*[^A-Za-z0-9_]*';
  `,
  // 5: the cheap journal. A run that does not act (trigger filter, `changed:`, dedupe, concurrency
  // skip, condition false) is one compact row: no facts, no trace, its reason in a column of its own,
  // so `rules runs`, the run log and metrics read small columns only. Rows written before carried the
  // reason inside the trace: it is copied out (`rules trace` still shows those traces whole).
  `
  ALTER TABLE runs ADD COLUMN reason TEXT;
  UPDATE runs SET reason = CASE WHEN json_valid(trace) THEN json_extract(trace, '$.reason') END
   WHERE status IN ('done','skipped','failed','dead') AND trace LIKE '%"reason"%';
  `,
  // 6: writing a run costs less. The concurrency index goes: no query reads it (in-flight keys come
  // through runs_status), and every run written paid for it. Finishing a run writes only its row: it
  // takes the highest finish number in use + 1 (the unique index answers), and the `counters` row
  // becomes the floor below which no number is handed out again, raised by these triggers when a run
  // holding a number is deleted (pruning) or leaves its final state.
  `
  DROP INDEX IF EXISTS runs_concurrency;
  UPDATE counters SET value = MAX(value, COALESCE((SELECT MAX(finished_seq) FROM runs WHERE finished_seq IS NOT NULL), 0)) WHERE name = 'runs_finished';
  CREATE TRIGGER runs_finish_floor_delete BEFORE DELETE ON runs WHEN OLD.finished_seq IS NOT NULL
  BEGIN
    UPDATE counters SET value = MAX(value, OLD.finished_seq) WHERE name = 'runs_finished';
  END;
  CREATE TRIGGER runs_finish_floor_reopen BEFORE UPDATE OF finished_seq ON runs WHEN OLD.finished_seq IS NOT NULL AND NEW.finished_seq IS NULL
  BEGIN
    UPDATE counters SET value = MAX(value, OLD.finished_seq) WHERE name = 'runs_finished';
  END;
  `,
  // 7: timers (issue 18). A `delay` timer belongs to a run waiting in its actions (status `delayed`),
  // a `for` timer to a rule and a record that entered a state: at most one pending per pair. The
  // tick reads the due ones through (state, due_at), so pending timers cost nothing between ticks.
  `
  CREATE TABLE timers (
    id           INTEGER PRIMARY KEY,
    kind         TEXT    NOT NULL,
    rule_id      TEXT    NOT NULL,
    record_key   TEXT    NOT NULL DEFAULT '',
    run_id       INTEGER,
    due_at       INTEGER NOT NULL,
    state        TEXT    NOT NULL DEFAULT 'pending',
    payload      TEXT,
    created_at   INTEGER NOT NULL,
    fired_at     INTEGER,
    cancelled_at INTEGER,
    note         TEXT
  );
  CREATE INDEX timers_due ON timers (state, due_at);
  CREATE INDEX timers_run ON timers (run_id) WHERE run_id IS NOT NULL;
  CREATE UNIQUE INDEX timers_one_for ON timers (rule_id, record_key) WHERE kind = 'for' AND state = 'pending';
  `,
  // 8: a wait_for waits for an event about its record as well as for its timeout: the event it waits
  // for, and an index to find the pending waits of an event and a record as events come in.
  `
  ALTER TABLE timers ADD COLUMN event TEXT;
  CREATE INDEX timers_waits ON timers (event, record_key) WHERE kind = 'wait_for' AND state = 'pending';
  `,
  // 9: shadow mode (issue 16). A run of a `mode: shadow` rule says so in its row, for as long as it is kept (the rule
  // may turn live since); its calls are effect rows in state 'shadow', never sent (a state needs no schema change).
  `ALTER TABLE runs ADD COLUMN mode TEXT NOT NULL DEFAULT 'live';`,
];
