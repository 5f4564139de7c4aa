/** Work sources: each turns the outside world into inbox rows and acknowledges its own kind once the inbox says done; the daemon attaches them as plug-ins. */
import { createFormWebhookSource, DEFAULTS as FORM_WEBHOOK_DEFAULTS, formWebhookPlugin, type FormWebhookConfig, type FormWebhookSource } from './form-webhook.js';
import { parseBody, parseNestedForm, readBody, RequestBodyError, safeEqual, stableHash } from './http-body.js';
import { manualPlugin, type ManualHandle } from './manual.js';
import { offlineEventNames, offlinePlugin } from './offline-plugin.js';
import {
  createOfflineSource,
  DEFAULTS as OFFLINE_DEFAULTS,
  OfflineSourceError,
  type OfflineConfig,
  type OfflineRecord,
  type OfflineSource,
  type OfflineTuning,
} from './offline.js';
import { createOutgoingWebhookSource, DEFAULTS as OUTGOING_WEBHOOK_DEFAULTS, outgoingWebhookPlugin, type OutgoingWebhookConfig, type OutgoingWebhookSource } from './outgoing-webhook.js';
import { startSource, type ApplyRules, type AttachContext, type SourceHandle, type SourcePlugin, type SourceSetup, type TriggerKind } from './plugin.js';
import { DAEMON_SOURCES, UNSERVED_TRIGGER_HINTS } from './registry.js';
import { createScheduleSource, DEFAULTS as SCHEDULE_DEFAULTS, ScheduleError, schedulePlugin, type ScheduleConfig, type ScheduleFire, type ScheduleSource } from './schedule.js';
import { countFinished, recordAdded, retireFinished, type ScheduleBook, type Source, type SourceContext } from './types.js';

export {
  DAEMON_SOURCES,
  UNSERVED_TRIGGER_HINTS,
  schedulePlugin,
  formWebhookPlugin,
  offlinePlugin,
  outgoingWebhookPlugin,
  manualPlugin,
  startSource,
  createOfflineSource,
  createOutgoingWebhookSource,
  createFormWebhookSource,
  createScheduleSource,
  offlineEventNames,
  OfflineSourceError,
  ScheduleError,
  RequestBodyError,
  OFFLINE_DEFAULTS,
  OUTGOING_WEBHOOK_DEFAULTS,
  FORM_WEBHOOK_DEFAULTS,
  SCHEDULE_DEFAULTS,
  parseBody,
  parseNestedForm,
  readBody,
  safeEqual,
  stableHash,
  recordAdded,
  retireFinished,
  countFinished,
};
export type {
  SourcePlugin,
  SourceHandle,
  SourceSetup,
  AttachContext,
  ApplyRules,
  TriggerKind,
  Source,
  SourceContext,
  ScheduleBook,
  OfflineConfig,
  OfflineRecord,
  OfflineSource,
  OfflineTuning,
  OutgoingWebhookConfig,
  OutgoingWebhookSource,
  FormWebhookConfig,
  FormWebhookSource,
  ScheduleConfig,
  ScheduleFire,
  ScheduleSource,
  ManualHandle,
};
export { buildFormRoutes, normalizePath as normalizeHookPath, readFormRequest, type FormRefusal, type FormRoute } from './form-webhook.js';
export { readOutgoingEvent, type OutgoingEvent } from './outgoing-webhook.js';
