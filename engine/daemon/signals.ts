/**
 * Process signals for a running daemon: SIGTERM/SIGINT stop it (a second one
 * exits at once), SIGHUP reloads the rules. A hard deadline makes sure the
 * process exits within a bounded time even if something hangs.
 */
import type { Logger } from '../logger.js';
import type { Daemon } from './daemon.js';

export const DEFAULTS = {
  /** The process exits at the latest this long after SIGTERM. @default 10000 ms */
  hardExitMs: 10_000,
  /**
   * Once the daemon has stopped, the process exits by itself when nothing is left
   * to do; past this it exits anyway (keeping the stop's exit code). @default 500 ms
   */
  exitGraceMs: 500,
};

/** Install handlers; resolves with the exit code once the daemon (or a worker of many portals) has stopped. */
export function runUntilSignalled(daemon: Pick<Daemon, 'stop' | 'reload'>, logger: Logger, options: { hardExitMs?: number } = {}): Promise<number> {
  const hardExit = options.hardExitMs ?? DEFAULTS.hardExitMs;
  return new Promise<number>((resolve) => {
    let stopping = false;
    const onStop = (signal: NodeJS.Signals) => {
      if (stopping) {
        logger.warn({ signal }, 'second signal: exiting now');
        process.exit(130);
      }
      stopping = true;
      logger.info({ signal }, `${signal} received: stopping (in-flight work finishes or is safely abandoned)`);
      setTimeout(() => {
        logger.error({ hardExitMs: hardExit }, 'shutdown took too long; exiting');
        process.exit(1);
      }, hardExit).unref();
      // Work abandoned by the stop (a poll whose request the client is still retrying, say) may keep
      // timers alive after the state is closed: once stopped, it must not hold the process until the hard exit.
      const leaveSoon = () => setTimeout(() => process.exit(), DEFAULTS.exitGraceMs).unref();
      daemon.stop().then(
        ({ abandoned }) => {
          cleanup();
          // An abandoned tick may still hold sockets open: leave now rather than wait for it.
          if (abandoned) process.exit(0);
          leaveSoon();
          resolve(0);
        },
        (err: unknown) => {
          logger.error({ err }, 'error while stopping');
          cleanup();
          leaveSoon();
          resolve(1);
        },
      );
    };
    const onHup = () => {
      logger.info('SIGHUP received: reloading rules');
      void daemon.reload();
    };
    const cleanup = () => {
      process.off('SIGTERM', onStop);
      process.off('SIGINT', onStop);
      process.off('SIGHUP', onHup);
    };
    process.on('SIGTERM', onStop);
    process.on('SIGINT', onStop);
    process.on('SIGHUP', onHup);
  });
}
