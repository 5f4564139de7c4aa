/**
 * pino logger factory. JSON lines by default; human-readable (pino-pretty) when
 * stdout is a terminal. Every record passes through `redactValue`, so a secret
 * that slips into a log call is masked at the last moment.
 */
import pino, { type Logger, type DestinationStream } from 'pino';
import { redact, redactValue } from './redact.js';

export type { Logger };

export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

export interface LoggerOptions {
  /** @default 'info' */
  level?: LogLevel;
  /** Pretty output. @default process.stdout.isTTY */
  pretty?: boolean;
  /** Destination stream (tests pass an in-memory stream). @default stdout (stderr for `toStderr`) */
  destination?: DestinationStream;
  /** Write to stderr (for commands whose stdout is data, like `rules call`). @default false */
  toStderr?: boolean;
  /** Logger name. @default 'b24-rules' */
  name?: string;
}

export function createLogger(options: LoggerOptions = {}): Logger {
  const level = options.level ?? 'info';
  const fd = options.toStderr ? 2 : 1;
  const pretty = options.pretty ?? (!options.destination && Boolean(fd === 1 ? process.stdout.isTTY : process.stderr.isTTY));
  const base: pino.LoggerOptions = {
    name: options.name ?? 'b24-rules',
    level,
    hooks: {
      logMethod(args, method) {
        const redacted = args.map((a) => (typeof a === 'string' ? redact(a) : redactValue(a))) as typeof args;
        return method.apply(this, redacted);
      },
    },
    serializers: {
      err: (err: unknown) => {
        const e = pino.stdSerializers.err(err as Error);
        return redactValue(e);
      },
    },
  };
  if (options.destination) return pino(base, options.destination);
  if (pretty) {
    return pino({ ...base, transport: { target: 'pino-pretty', options: { destination: fd, colorize: true, translateTime: 'SYS:HH:MM:ss.l', ignore: 'pid,hostname,name' } } });
  }
  return pino(base, pino.destination({ fd, sync: true }));
}

/** A logger that drops everything (library default). */
export const silentLogger: Logger = pino({ level: 'silent' });
