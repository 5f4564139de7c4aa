/** Render a plan diff in one of the `rules diff --format`s: text, json (below), markdown, github. */
import { sortKeys } from '../canonical-json.js';
import { renderDiffGithub } from './diff-render-github.js';
import { renderDiffMarkdown } from './diff-render-markdown.js';
import { renderDiffText } from './diff-render-text.js';
import type { DiffFormat, PlanDiff } from './diff-types.js';

export const DIFF_FORMATS: readonly DiffFormat[] = ['text', 'json', 'github', 'markdown'];

/** The diff as JSON: the PlanDiff itself, keys sorted. */
export function renderDiffJson(diff: PlanDiff): string {
  return `${JSON.stringify(sortKeys(diff), null, 2)}\n`;
}

export function renderDiff(diff: PlanDiff, format: DiffFormat): string {
  switch (format) {
    case 'json':
      return renderDiffJson(diff);
    case 'github':
      return renderDiffGithub(diff);
    case 'markdown':
      return renderDiffMarkdown(diff);
    default:
      return renderDiffText(diff);
  }
}
