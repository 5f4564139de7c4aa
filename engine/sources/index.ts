/** Work sources: each turns the outside world into inbox rows and acknowledges its own kind once the inbox says done. */
import { createFormWebhookSource, DEFAULTS as FORM_WEBHOOK_DEFAULTS, type FormWebhookConfig, type FormWebhookSource } from './form-webhook.js';
import { parseBody, parseNestedForm, readBody, RequestBodyError, safeEqual, stableHash } from './http-body.js';
import { createManualSource, type ManualSource } from './manual.js';
import { createOfflineSource, DEFAULTS as OFFLINE_DEFAULTS, OfflineSourceError, type OfflineConfig, type OfflineRecord, type OfflineSource } from './offline.js';
import { createOutgoingWebhookSource, DEFAULTS as OUTGOING_WEBHOOK_DEFAULTS, type OutgoingWebhookConfig, type OutgoingWebhookSource } from './outgoing-webhook.js';
import { createScheduleSource, DEFAULTS as SCHEDULE_DEFAULTS, ScheduleError, type ScheduleConfig, type ScheduleFire, type ScheduleSource } from './schedule.js';
import { countFinished, realClock, realTimers, recordAdded, retireFinished, type Clock, type ScheduleBook, type Source, type SourceContext, type Timers } from './types.js';

export {
  createOfflineSource,
  createOutgoingWebhookSource,
  createFormWebhookSource,
  createScheduleSource,
  createManualSource,
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
  realClock,
  realTimers,
  recordAdded,
  retireFinished,
  countFinished,
};
export type {
  Source,
  SourceContext,
  Clock,
  Timers,
  ScheduleBook,
  OfflineConfig,
  OfflineRecord,
  OfflineSource,
  OutgoingWebhookConfig,
  OutgoingWebhookSource,
  FormWebhookConfig,
  FormWebhookSource,
  ScheduleConfig,
  ScheduleFire,
  ScheduleSource,
  ManualSource,
};
