/**
 * The one list of the error codes b24-rules raises. Every `B24RulesError`
 * carries one of these codes (its type is `ErrorCode`, so a code cannot be
 * raised without being listed here), and docs/errors.md shows this table to
 * the people who meet the codes: Bitrix24 admins and integration engineers
 * (a test keeps the two equal).
 *
 * `kind` says how to treat an error with that code: `user` (a rule, a file, a
 * flag or the portal's settings are wrong: report it, retrying does not help),
 * `operational` (the portal, the network or a service is busy or away: retry
 * with backoff) or `bug` (unexpected: b24-rules itself is wrong). Each code has
 * one kind; an error takes its kind from here.
 *
 * Bitrix24's own codes (QUERY_LIMIT_EXCEEDED, expired_token, NOT_FOUND...)
 * are not in this list: they are the portal's, carried in `B24ApiError.error`.
 * docs/errors.md lists the ones the engine treats specially.
 */

/** How to treat an error: report it (`user`), retry it (`operational`), or fix b24-rules (`bug`). */
export type ErrorKind = 'user' | 'operational' | 'bug';

/** One entry of the list. Texts are one line each, without `|` (they become table cells). */
export interface ErrorCodeInfo {
  kind: ErrorKind;
  /** What happened. */
  meaning: string;
  /** What a Bitrix24 admin or integration engineer does when they see it. */
  action: string;
}

/** Every code the project raises, by area, with its kind, meaning and what to do. */
export const ERROR_CODES = {
  // Any command
  CONFIG_INVALID: {
    kind: 'user',
    meaning: 'The configuration is invalid: an environment variable, a `.env` line or a client option (the message names it).',
    action: 'Fix the named setting in the environment or `.env` (README, Configuration), then start again.',
  },
  USAGE: {
    kind: 'user',
    meaning: 'The command line is wrong: an unknown option, a missing argument or a bad value (exit code 2).',
    action: 'Check `rules <command> --help` and run the command again.',
  },
  UNEXPECTED: {
    kind: 'bug',
    meaning: 'Something failed that b24-rules did not expect (a plain exception, wrapped with its cause).',
    action: 'Report it as a b24-rules bug with the log line; the run it hit follows its `on_error`.',
  },

  // The REST client
  B24_API_ERROR: {
    kind: 'user',
    meaning: 'The portal refused a call (a 4xx answer): bad params, no access, no such record. The portal code and description are in `error` and `errorDescription`.',
    action: "Read the portal's code and description: fix the rule's params, or give the webhook user or the app the access it needs.",
  },
  B24_METHOD_NOT_FOUND: {
    kind: 'user',
    meaning: 'The portal does not know the REST method (ERROR_METHOD_NOT_FOUND).',
    action: "Check the method's spelling, and that the portal's plan and installed modules offer it.",
  },
  B24_SERVER_ERROR: {
    kind: 'operational',
    meaning: 'The portal answered with a 5xx. Reads and idempotent writes are retried; other writes become OUTCOME_UNKNOWN.',
    action: 'Nothing if it passes. If it persists, check the portal (and Bitrix24 status) before anything else.',
  },
  B24_BAD_RESPONSE: {
    kind: 'operational',
    meaning: "The portal's answer is not a Bitrix24 JSON envelope (a proxy, maintenance or login page). Retried like a 5xx.",
    action: 'Check that B24_DOMAIN (or B24_WEBHOOK_URL) points at the portal itself, not at a proxy or login page.',
  },
  B24_PORTAL_MOVED: {
    kind: 'user',
    meaning: 'The portal answers with a redirect to another address.',
    action: 'Set B24_DOMAIN (or B24_WEBHOOK_URL) to the address the message names.',
  },
  RATE_LIMITED: {
    kind: 'operational',
    meaning: 'The portal refused a request for its request rate (503 QUERY_LIMIT_EXCEEDED). The client waits and retries.',
    action: "Nothing. If it is frequent, check that B24_PLAN matches the portal's plan, and what else calls the portal (the limit is shared).",
  },
  OPERATION_TIME_LIMIT: {
    kind: 'operational',
    meaning: "A method used up its execution-time budget (429 OPERATION_TIME_LIMIT). The client holds that method until the portal's reset time.",
    action: 'Nothing if rare. If frequent, spread heavy rules out (schedules, lower `max_records`) so one method is not called for minutes.',
  },
  OVERLOAD_LIMIT: {
    kind: 'operational',
    meaning: 'The portal blocked REST calls for overload (OVERLOAD_LIMIT). The client does not retry; the engine sends the call again later.',
    action: 'Wait. If it persists, reduce what calls the portal (this and other apps) or contact Bitrix24 support.',
  },
  AUTH_FAILED: {
    kind: 'user',
    meaning: 'The portal refused the credentials: the webhook code or the token is wrong, revoked, or its user is inactive.',
    action: 'Check B24_WEBHOOK_URL (or the OAuth settings) and that the webhook or app still exists and its user is active.',
  },
  AUTH_REFRESH_FAILED: {
    kind: 'user',
    meaning: 'Refreshing the OAuth token failed: the token server refused, or the refresh settings are missing.',
    action: 'Check B24_CLIENT_ID, B24_CLIENT_SECRET and the refresh token (B24_REFRESH_TOKEN or the token file); re-authorize the app if the grant is gone.',
  },
  AUTH_INSUFFICIENT_SCOPE: {
    kind: 'user',
    meaning: 'The webhook or app lacks the scope the method needs (insufficient_scope).',
    action: 'Add the scope (crm, task, im, bizproc...) to the incoming webhook or to the app, and reinstall the app.',
  },
  AUTH_WRONG_TYPE: {
    kind: 'user',
    meaning: 'The method is not allowed with this kind of authorization (WRONG_AUTH_TYPE), e.g. offline events with a webhook.',
    action: 'Use an OAuth app (B24_AUTH_MODE=oauth) for event methods and offline events.',
  },
  NETWORK_ERROR: {
    kind: 'operational',
    meaning: 'No usable HTTP answer: connection refused or reset, DNS failure. `sent` says whether the request may have reached the portal.',
    action: 'Nothing if it passes. If it persists, check the network, proxy and B24_DOMAIN from the engine host.',
  },
  NETWORK_TIMEOUT: {
    kind: 'operational',
    meaning: 'The portal did not answer in time. Retried for reads and idempotent writes.',
    action: 'Nothing if it passes. If it persists, check the portal and the network; a slow portal also shows as OPERATION_TIME_LIMIT.',
  },
  OUTCOME_UNKNOWN: {
    kind: 'operational',
    meaning: 'A write that is unsafe to repeat (an add, a send, a start) may or may not have reached the portal; the client does not send it again.',
    action: 'Nothing: the engine looks the record up before sending again. If it ends as EFFECT_IN_DOUBT, check the portal by hand.',
  },
  WRITE_REFUSED: {
    kind: 'user',
    meaning: 'A read-only client (dry-run, `rules record`, `rules call --read-only`) refused a call that writes, or is not known to be a read. Nothing was sent.',
    action: 'Expected in a dry-run. Elsewhere, run without read-only; a method missing from catalog/methods.json counts as a write.',
  },
  LEASE_LOST: {
    kind: 'operational',
    meaning: "A worker (`rules run --state postgres://...`) no longer holds the portal's lease (it expired before a renewal came back, or the portal was disabled), so the request was not sent; the portal's work goes on in the worker that takes the lease.",
    action: 'Nothing if it passes: the run resumes where the portal is served next. If it repeats, check the link between the workers and PostgreSQL (a renewal slower than the lease TTL) and the lease TTL (docs/operations.md).',
  },
  BATCH_INVALID: {
    kind: 'user',
    meaning: 'A batch request is malformed: a command without a method, a bad or repeated key, a nested batch, an unknown batch param.',
    action: 'Fix the batch commands in the calling code or in the `rules call batch` params.',
  },
  V3_FILTER_INVALID: {
    kind: 'user',
    meaning: 'A REST 3.0 filter cannot be sent: a condition is not [field, operator, value] or [field, value], an operator is not one of = != > >= < <= in between, or a REST 1 filter uses what REST 3.0 lacks (% LIKE, a negated list). Nothing was sent.',
    action: 'Write the filter as REST 3.0 takes it (api-reference/rest-v3.md, Filter): the message names the condition.',
  },
  CLIENT_CLOSED: {
    kind: 'operational',
    meaning: 'The client was closed while a ride-along command (an offline clear waiting for a batch to join) was still waiting; nothing of it was sent.',
    action: 'Nothing: the offline source clears those events at its next acknowledgement or the next start.',
  },
  INVALID_METHOD: {
    kind: 'user',
    meaning: 'The method name is not a REST method name (letters, digits, `_` and `.`, e.g. crm.lead.get).',
    action: 'Fix the method name.',
  },
  LIST_SHAPE: {
    kind: 'user',
    meaning: "A list method's answer holds no list of rows where the client looked for it.",
    action: 'Pass `itemsKey` for this method (where in `result` the rows are).',
  },
  LIST_NO_ID: {
    kind: 'user',
    meaning: 'The rows of a list carry no numeric id to page by.',
    action: 'Pass `idKey` (and `cursorKey`), or page with listPaged().',
  },

  // Rules: json-logic, templates, actions, the rule set
  LOGIC_UNKNOWN_OPERATOR: {
    kind: 'user',
    meaning: 'A json-logic expression uses an operator that does not exist.',
    action: 'Use one of the operators the message lists (docs/rule-format.md); run `rules validate`.',
  },
  LOGIC_ARGUMENTS: {
    kind: 'user',
    meaning: 'A json-logic operator got the wrong number or kind of arguments.',
    action: "Fix the arguments as the message's usage line shows; run `rules validate`.",
  },
  LOGIC_INVALID: {
    kind: 'user',
    meaning: 'A json-logic expression is malformed (e.g. an object with more than one operator).',
    action: 'Fix the expression; run `rules validate`.',
  },
  REGEX_UNSAFE: {
    kind: 'user',
    meaning: 'A `matches` pattern is refused at validation: nested quantifiers, backreferences, lookaround, or over 200 characters (every accepted pattern then runs on RE2, in linear time).',
    action: 'Use a simpler pattern (docs/rule-format.md lists what is allowed).',
  },
  REGEX_INVALID: {
    kind: 'user',
    meaning: 'A `matches` pattern is not a valid regular expression.',
    action: 'Fix the pattern.',
  },
  LOGIC_NO_CLOCK: {
    kind: 'bug',
    meaning: 'A date operator found no current time in the facts.',
    action: 'Report it as a b24-rules bug.',
  },
  LOGIC_NO_EVALUATOR: {
    kind: 'bug',
    meaning: 'A json-logic operator passed the checks but has no evaluator.',
    action: 'Report it as a b24-rules bug.',
  },
  TEMPLATE_SYNTAX: {
    kind: 'user',
    meaning: 'A template (`{{ ... }}`) is malformed: unclosed braces or quotes, a bad expression.',
    action: 'Fix the template at the position the message gives; run `rules validate`.',
  },
  TEMPLATE_UNKNOWN_FILTER: {
    kind: 'user',
    meaning: 'A template uses a filter that does not exist.',
    action: 'Use one of the filters the message lists (docs/rule-format.md).',
  },
  TEMPLATE_FILTER_ARGUMENT: {
    kind: 'user',
    meaning: "A template filter got a missing, extra or wrong argument.",
    action: "Fix the filter's argument as the message's example shows.",
  },
  ACTION_CONFIG: {
    kind: 'user',
    meaning: "An action's settings are wrong once its templates are filled in (an empty text, a missing id, an unknown entity).",
    action: 'Fix the action in the rule, or the data its template reads; the run follows its `on_error`.',
  },
  RULES_INVALID: {
    kind: 'user',
    meaning: 'The rule set has errors: the daemon does not start with it, and a reload keeps the rules it had.',
    action: 'Run `rules validate` on the rule files and fix the errors it lists.',
  },
  PORTAL_SNAPSHOT_INVALID: {
    kind: 'user',
    meaning: 'The portal snapshot (`.rules/portal.json`, or the file `--portal-snapshot` names) cannot be read, is not JSON, or is not a snapshot of this format.',
    action: 'Run `rules portal pull` to write it again (docs/cli.md, `rules portal pull`).',
  },

  // The engine pipeline
  MATCH_FAILED: {
    kind: 'bug',
    meaning: 'Matching a work item to the rules failed unexpectedly.',
    action: 'Report it as a b24-rules bug with the log line.',
  },
  FOREACH_INVALID: {
    kind: 'user',
    meaning: 'A `foreach` names neither an entity nor a method to list.',
    action: 'Give the `foreach` an `entity` (or a `method`).',
  },
  FOREACH_LIMIT: {
    kind: 'user',
    meaning: "A `foreach` query matches more rows than its `max_records`: nothing is done and the item is dead-lettered.",
    action: 'Narrow the filter or raise `max_records`, then retry the item (`rules dlq retry`).',
  },
  LOAD_FAILED: {
    kind: 'operational',
    meaning: 'A read the rule declares (its record, a `load:`) failed. The run waits and reads again.',
    action: "Nothing if it passes. If it persists, check the read's error in `rules trace` (a method, an id or access).",
  },
  EVALUATE_FAILED: {
    kind: 'user',
    meaning: "A dry-run could not evaluate a rule's `let`, dedupe key or condition on this data.",
    action: 'Fix the expression the message names, or the fixtures it reads.',
  },
  RUN_EVALUATE_FAILED: {
    kind: 'user',
    meaning: "Evaluating a run's `let`, dedupe key or condition failed.",
    action: 'Fix the expression the message names; the run follows its `on_error`.',
  },
  RULE_NOT_LOADED: {
    kind: 'user',
    meaning: 'A run waits for a rule that is no longer loaded (removed, renamed or disabled by a reload).',
    action: 'Restore the rule, or drop the entry (`rules dlq drop`).',
  },
  ACTION_PLAN: {
    kind: 'bug',
    meaning: "An action's planner failed unexpectedly.",
    action: 'Report it as a b24-rules bug with the log line; the run follows its `on_error`.',
  },
  EFFECT_FAILED: {
    kind: 'user',
    meaning: "The portal refused one of the run's calls; its code and description are in the message.",
    action: "Read the portal's code: fix the rule's params or the webhook's or app's access, then retry (`rules dlq retry`).",
  },
  EFFECT_IN_DOUBT: {
    kind: 'operational',
    meaning: 'A call was sent but its answer was lost (a crash, a dropped connection), and it cannot be looked up: it is never sent again by itself.',
    action: 'Check in the portal whether the call happened; then `rules dlq retry` (it did not) or `rules dlq drop` (it did).',
  },
  BATCH_NO_RESULT: {
    kind: 'operational',
    meaning: "The portal's batch answer holds no result and no error for a command.",
    action: 'Nothing if rare: the run retries. If it persists, report it with the method.',
  },
  HTTP_STATUS: {
    kind: 'operational',
    meaning: 'An `http` action got an answer other than 2xx from its receiver.',
    action: 'Check the receiving service; the run retries as its `on_error` says.',
  },
  HTTP_FAILED: {
    kind: 'operational',
    meaning: 'An `http` action got no answer (network error, timeout).',
    action: 'Check that the receiving service is reachable from the engine host; the run retries as its `on_error` says.',
  },
  WORKFLOW_LIMIT: {
    kind: 'operational',
    meaning: 'The portal refused to start a workflow: Bitrix24 runs at most two workflows on one CRM record at once, and two are running on it.',
    action: 'Nothing if it passes: the run starts it again minutes later (its `on_error.retries`). Else stop a workflow of the record (its Workflows tab) and `rules dlq retry`.',
  },

  // The daemon, apply and the CLI
  DAEMON_NOT_STARTED: {
    kind: 'bug',
    meaning: 'The daemon was asked to work before it started.',
    action: 'Report it as a b24-rules bug.',
  },
  RULE_NOT_FOUND: {
    kind: 'user',
    meaning: '`rules apply` names a rule that is not in the rule files.',
    action: 'Use one of the rule ids the message lists.',
  },
  RULE_NOT_APPLICABLE: {
    kind: 'user',
    meaning: '`rules apply` names a rule with an event or webhook trigger; it runs manual and schedule rules only.',
    action: 'Apply a manual or schedule rule, or wait for the rule\'s own trigger.',
  },
  RULE_DISABLED: {
    kind: 'user',
    meaning: '`rules apply` names a rule with `enabled: false`.',
    action: 'Enable the rule first.',
  },
  APPLY_NOT_STORED: {
    kind: 'user',
    meaning: '`rules apply` could not find the run it stored in the state file.',
    action: 'Check that the state file is the daemon\'s and is writable; run the command again.',
  },
  STATE_FILE_MISSING: {
    kind: 'user',
    meaning: 'There is no state file at the given path.',
    action: 'Start the daemon (`rules run`) first, or pass the right file with --state.',
  },
  STATE_FILE_UNREADABLE: {
    kind: 'user',
    meaning: 'The state file exists but cannot be read.',
    action: 'Check its permissions and that it is a b24-rules state file.',
  },
  DLQ_NOT_FOUND: {
    kind: 'user',
    meaning: 'No dead-letter entry has that id.',
    action: 'List the entries with `rules dlq list`.',
  },
  TIMER_NOT_FOUND: {
    kind: 'user',
    meaning: 'No timer has that id in the state file.',
    action: 'List the timers with `rules timers list --all`.',
  },
  TIMER_NOT_PENDING: {
    kind: 'user',
    meaning: 'The timer already fired or was cancelled: only a pending timer can be cancelled.',
    action: 'Nothing to cancel. A delayed run that already went on is seen with `rules runs` and `rules trace`.',
  },
  RUN_NOT_FOUND: {
    kind: 'user',
    meaning: 'No run has that id in the state file.',
    action: 'List the runs with `rules runs`.',
  },
  INIT_FILE_EXISTS: {
    kind: 'user',
    meaning: '`b24-rules init` found a file it would write (the rule example, README.md, .gitignore...) already in the folder; it wrote nothing.',
    action: 'Move the named files aside, or scaffold into a new folder (`b24-rules init DIR`) and copy what you need.',
  },
  WRITES_NOT_ALLOWED: {
    kind: 'user',
    meaning: '`rules mcp` refused apply_plan or dlq_retry: the server was started without `--allow-writes`. Nothing was done.',
    action: 'Show the person the dry-run plan; they apply it (`rules apply --plan FILE`, `rules dlq retry ID`) or start the server with `--allow-writes`.',
  },

  // Plans, fixtures and rule tests
  PLAN_NOT_APPLICABLE: {
    kind: 'user',
    meaning: '`rules apply --plan` cannot carry out this plan (http calls, a stop before an http answer, masked secrets). Nothing was sent.',
    action: 'Run those rules through the daemon instead.',
  },
  PLAN_STALE: {
    kind: 'user',
    meaning: 'Records a plan was made from changed in the portal since. Nothing was sent.',
    action: 'Run the dry-run again, review the new plan and apply that.',
  },
  PLAN_FILE_INVALID: {
    kind: 'user',
    meaning: 'The plan file given to `rules apply --plan` is not a plan `rules dry-run --format json` wrote.',
    action: 'Pass the JSON plan a dry-run wrote, unchanged.',
  },
  EVENTS_INVALID: {
    kind: 'user',
    meaning: 'The events file of a dry-run is malformed (at the line the message gives).',
    action: 'Fix the events file.',
  },
  FIXTURES_INVALID: {
    kind: 'user',
    meaning: 'A fixtures file is malformed (at the line the message gives).',
    action: 'Fix the fixtures file (docs/rule-tests.md), or record a new one with `rules record`.',
  },
  RULE_TEST_INVALID: {
    kind: 'user',
    meaning: 'A rule test file (`*.test.yaml`) is malformed (at the line the message gives).',
    action: 'Fix the test file (docs/rule-tests.md).',
  },
  DIFF_BASE_INVALID: {
    kind: 'user',
    meaning: '`rules diff --base` names neither a folder nor a commit of the git repository that holds the rule paths (or the paths are outside it). Nothing was planned.',
    action: 'Give a branch, tag or commit the repository has (in CI fetch it first: actions/checkout with fetch-depth: 0), or a folder with the base rules.',
  },

  // Sources and the status server
  REQUEST_BODY_INVALID: {
    kind: 'user',
    meaning: 'A webhook or form request has a body the engine cannot read (over 1 MiB: 413; nested deeper than 32 levels, not JSON or form data: 400).',
    action: 'Fix the sender: JSON or form-encoded, within the size limit.',
  },
  OFFLINE_SOURCE_FAILED: {
    kind: 'user',
    meaning: 'The portal refused to bind the offline events the rules need, for a reason retrying will not fix; the message names it (ACCESS_DENIED: not an administrator, WRONG_LICENSE: the plan, webhook auth, an unknown event). A network error or a 5xx at start keeps its own code.',
    action: 'Follow the message: authorize the app as a portal administrator (B24_AUTH_MODE=oauth), move to the Professional plan or higher for auth_connector, or fix the event name in the rule.',
  },
  OFFLINE_FEATURE_MISSING: {
    kind: 'user',
    meaning: "The portal's plan lacks a feature offline events need: feature.get answered N for rest_offline_extended (event.offline.get's reserve/confirm mode, clear=0) or rest_auth_connector (the auth_connector key that keeps the engine's own changes out of its queue). The daemon does not start.",
    action: 'Move the portal to a plan (edition) that includes the feature the message names (auth_connector needs Professional or higher), or run without offline events: an incoming webhook (B24_WEBHOOK_URL) and outgoing webhooks to /b24/events (B24_APPLICATION_TOKEN).',
  },
  OFFLINE_NO_PROCESS_ID: {
    kind: 'operational',
    meaning: 'event.offline.get returned events without a process_id; they are not stored, as they could never be cleared. The source polls again.',
    action: 'Nothing if rare. If it persists, report it to Bitrix24 support with the portal address.',
  },
  SOURCE_REGISTRY_INVALID: {
    kind: 'bug',
    meaning: "The daemon's registry of source plug-ins is inconsistent (two plug-ins share a kind name).",
    action: 'Report it as a b24-rules bug (or fix the plug-in list, if you added one).',
  },
  SCHEDULE_INVALID: {
    kind: 'user',
    meaning: "A schedule rule's cron expression or time zone cannot be scheduled.",
    action: 'Fix the cron expression or time zone; run `rules validate`.',
  },
  LISTEN_FAILED: {
    kind: 'user',
    meaning: 'The status server cannot listen on the given address (bad format, port in use, no permission).',
    action: 'Pass another --listen (host:port, or :0 for a free port).',
  },
  CONSOLE_TOKEN_REQUIRED: {
    kind: 'user',
    meaning: 'The daemon, the demo or a worker would serve its web console on an address other than loopback without a console token; it does not start.',
    action: 'Set B24_RULES_CONSOLE_TOKEN (or pass --console-token-file FILE) to a long random value (also when a proxy forwards to the console on 127.0.0.1), or pass --no-console.',
  },
  CONSOLE_TOKEN_INVALID: {
    kind: 'user',
    meaning: 'The console token (B24_RULES_CONSOLE_TOKEN or the --console-token-file file) cannot be read or is shorter than 16 characters.',
    action: 'Put a random value of 16 characters or more in the variable or the file (e.g. `openssl rand -hex 24`).',
  },

  // The state store
  STATE_STORE: {
    kind: 'operational',
    meaning: 'The state file cannot be opened or prepared (disk, permissions, a lock).',
    action: 'Check the disk, the file\'s permissions and that no other daemon holds it; then start again.',
  },
  STATE_FILE_TOO_NEW: {
    kind: 'user',
    meaning: 'The state file was written by a newer b24-rules.',
    action: 'Upgrade b24-rules, or point it at another state file.',
  },
  STATE_PORTAL_BUSY: {
    kind: 'operational',
    meaning: "A portal's state on PostgreSQL is held by another engine that serves the portal now (an exclusive open of the same portal).",
    action: 'Wait for the other engine to stop (its lease lapses, or its process ends), then open it again; readers such as rules runs do not need it exclusively.',
  },
  STATE_NOT_FOUND: {
    kind: 'user',
    meaning: 'A record (a dead-letter entry, a run) asked for by id does not exist in the state file.',
    action: 'List what exists (`rules dlq list`, `rules runs`) and use one of those ids.',
  },

  // Portals and leases: the control plane on PostgreSQL (rules portals, the install endpoint, workers)
  PORTAL_NOT_FOUND: {
    kind: 'user',
    meaning: 'No portal with that member_id is registered in the control plane (schema b24rules).',
    action: 'List the portals with `rules portals list` and use one of their member_ids.',
  },
  PORTAL_EXISTS: {
    kind: 'user',
    meaning: 'A portal with that member_id (or, for a webhook portal given none, that address and user) is already registered.',
    action: 'Change the registered one (`rules portals enable`, `disable` or `set`), or remove it first with `rules portals remove`.',
  },
  PORTAL_INVALID: {
    kind: 'user',
    meaning: 'What describes a portal is malformed: the webhook URL, the member_id, the plan, the rule set name, or a --state that is not a postgres:// URL (the message says which).',
    action: 'Fix the named value (docs/cli.md, rules portals) and run the command again.',
  },
  CONTROL_PLANE_UNAVAILABLE: {
    kind: 'operational',
    meaning: 'The control plane database (PostgreSQL, --state postgres://... or B24_RULES_DATABASE_URL) cannot be reached or refused a query.',
    action: 'Check that PostgreSQL runs, the URL (host, port, database, user, password) and that the user may create the schema b24rules; the worker retries.',
  },
  CONTROL_PLANE_TOO_NEW: {
    kind: 'user',
    meaning: 'The control plane (schema b24rules) was migrated by a newer b24-rules than this one.',
    action: 'Upgrade b24-rules on this machine to the version the other workers run.',
  },
  WORKER_ID_IN_USE: {
    kind: 'user',
    meaning: 'A worker with this --worker-id (or B24_RULES_WORKER_ID) is alive in another process on the same database; two processes with one id would each think they hold its leases.',
    action: 'Give each worker process its own id (the default hostname:pid is unique), or stop the other one; an id whose process died is free again once its lease TTL passed.',
  },

  // The emulator
  EMULATOR_DATA_INVALID: {
    kind: 'user',
    meaning: "The emulator's data file cannot be read or is malformed.",
    action: 'Fix the data file (emulator/README.md).',
  },
  EMULATOR_LISTEN: {
    kind: 'operational',
    meaning: 'The emulator cannot listen on its host and port.',
    action: 'Pick another port, or 0 for a free one.',
  },
} as const satisfies Record<string, ErrorCodeInfo>;

/** A code b24-rules raises: a key of ERROR_CODES. */
export type ErrorCode = keyof typeof ERROR_CODES;

/** Whether `value` is one of the project's codes. */
export function isErrorCode(value: unknown): value is ErrorCode {
  return typeof value === 'string' && Object.hasOwn(ERROR_CODES, value);
}

/** The kind of a code; `bug` for a string that is not in the list (only untyped JS can pass one). */
export function errorKindOf(code: string): ErrorKind {
  return isErrorCode(code) ? ERROR_CODES[code].kind : 'bug';
}
