/** What other folders use of the CLI: the progress display of long commands (the drill's too). */
export { DEFAULTS as PROGRESS_DEFAULTS, formatSeconds, onInterrupt, Progress, type ProgressOptions, type ProgressStream } from './progress.js';
