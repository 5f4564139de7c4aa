/** The daemon (`rules run`), its signals, `rules apply`, and the journal's text form for `runs`, `trace`, `dlq`, `timers`. */
import { applyItem, ApplyError, DEFAULTS as APPLY_DEFAULTS, executeApply, findApplicableRule, guarded, planApply, type ApplyTarget, type ExecuteApplyResult, type PlanApplyResult } from './apply-rule.js';
import { SourceRegistryError } from './attached-sources.js';
import { createDaemon, DEFAULTS as DAEMON_DEFAULTS, RuleSetInvalidError, type Daemon, type DaemonOptions } from './daemon.js';
import { loadRuleSet } from './rule-set.js';
import { formatDlqEntry, formatDlqList, formatRuns, formatTrace, table } from './journal-format.js';
import { dlqDroppedJson, dlqEntryJson, dlqListJson, dlqRetriedJson, printJson, runsJson, traceJson, waitingJson } from './journal-json.js';
import { watchRules, type RuleWatcherOptions } from './rule-watcher.js';
import { formatTimers, formatWaiting, timerWhat } from './timers-format.js';
import { DEFAULTS as SIGNAL_DEFAULTS, runUntilSignalled } from './signals.js';
import { DEFAULT_STATE_PATH, openExistingState, StateFileMissingError } from './state-file.js';
import { DEFAULTS as RETENTION_DEFAULTS, parseRetention, startRetention } from './retention.js';

export {
  createDaemon,
  DAEMON_DEFAULTS,
  RuleSetInvalidError,
  loadRuleSet,
  SourceRegistryError,
  runUntilSignalled,
  SIGNAL_DEFAULTS,
  watchRules,
  DEFAULT_STATE_PATH,
  parseRetention,
  startRetention,
  RETENTION_DEFAULTS,
  openExistingState,
  StateFileMissingError,
  formatRuns,
  formatTrace,
  formatDlqList,
  formatDlqEntry,
  runsJson,
  waitingJson,
  traceJson,
  dlqListJson,
  dlqEntryJson,
  dlqRetriedJson,
  dlqDroppedJson,
  printJson,
  formatTimers,
  formatWaiting,
  timerWhat,
  table,
  findApplicableRule,
  applyItem,
  guarded,
  planApply,
  executeApply,
  ApplyError,
  APPLY_DEFAULTS,
};
export type { RefusedReload } from './rule-set.js';
export type { Daemon, DaemonOptions, RuleWatcherOptions, ApplyTarget, PlanApplyResult, ExecuteApplyResult };
