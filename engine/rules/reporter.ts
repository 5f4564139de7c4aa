/** Collects the diagnostics of one rule, each placed at its line and column in the source. */
import { joinPointer } from './json-pointer.js';
import type { SourceDocument } from './source.js';
import type { Diagnostic } from './types.js';

/** Where in the node at a pointer a diagnostic points, and how severe it is (default: error). */
export interface ReportOptions {
  /** Point at this key of the mapping at the pointer (and append it to the path). */
  key?: string;
  /** Point at this character offset inside the string at the pointer. */
  offset?: number;
  severity?: 'error' | 'warning';
}

/** The diagnostics of one rule of one file. */
export class Reporter {
  readonly diagnostics: Diagnostic[] = [];
  constructor(
    private readonly doc: SourceDocument,
    private readonly file: string,
    private readonly ruleId: string,
  ) {}

  report(code: string, pointer: string, message: string, hint?: string, opts: ReportOptions = {}): void {
    const pos = opts.offset !== undefined ? this.doc.locateInString(pointer, opts.offset) : this.doc.locate(pointer, opts.key);
    const d: Diagnostic = { severity: opts.severity ?? 'error', code, message, file: this.file, line: pos.line, col: pos.col, ruleId: this.ruleId, path: opts.key ? joinPointer(pointer, opts.key) : pointer };
    if (hint) d.hint = hint;
    this.diagnostics.push(d);
  }

  get failed(): boolean {
    return this.diagnostics.some((d) => d.severity === 'error');
  }
}
