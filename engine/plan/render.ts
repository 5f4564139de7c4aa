/** Render a plan in one of the `--format`s. */
import { renderGithub } from './render-github.js';
import { renderJson } from './render-json.js';
import { renderMarkdown } from './render-markdown.js';
import { renderText } from './render-text.js';
import type { PlanDocument, PlanFormat } from './types.js';

export const PLAN_FORMATS: readonly PlanFormat[] = ['text', 'json', 'github', 'markdown'];

export function renderPlan(plan: PlanDocument, format: PlanFormat): string {
  switch (format) {
    case 'json':
      return renderJson(plan);
    case 'github':
      return renderGithub(plan);
    case 'markdown':
      return renderMarkdown(plan);
    default:
      return renderText(plan);
  }
}
