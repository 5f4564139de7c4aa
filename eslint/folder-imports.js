/**
 * ESLint rule `local/folder-imports`: an import that crosses folders goes through
 * the target folder's index.ts, so each folder's public surface is its index and
 * its other files stay free to change. Folders are engine's subfolders
 * (engine/client, engine/pipeline, ...) and the other top-level folders (cli,
 * emulator, bench, demo). Files at engine/'s root (errors.ts, redact.ts,
 * logger.ts, paths.ts, clock.ts, config.ts, index.ts) are modules of their own
 * and may be imported directly. Tests may reach inside: they test internals.
 */
import { dirname, relative, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');

/** The folder unit of a repo-relative path: 'engine/client', 'cli', ... or null for engine root files and files outside. */
function unitOf(rel) {
  const parts = rel.split(sep);
  if (parts[0] === 'engine') return parts.length > 2 ? `engine/${parts[1]}` : null;
  return parts.length > 1 ? parts[0] : null;
}

export default {
  meta: {
    type: 'problem',
    docs: { description: 'imports across folders go through the folder index.ts' },
    schema: [],
    messages: {
      internal: "'{{source}}' reaches inside {{unit}}/: import it from {{unit}}/index.js and export it there if it is part of {{unit}}'s public surface",
    },
  },
  create(context) {
    const file = context.filename ?? context.getFilename();
    const fromRel = relative(ROOT, file);
    const fromUnit = unitOf(fromRel);
    function check(node) {
      const source = node.source && node.source.value;
      if (typeof source !== 'string' || !source.startsWith('.')) return;
      const target = resolve(dirname(file), source);
      const rel = relative(ROOT, target);
      if (rel.startsWith('..')) return;
      const unit = unitOf(rel);
      if (unit === null || unit === fromUnit) return;
      // Within engine/, a unit is one subfolder: engine/plan may not reach into engine/client/lists.
      const inner = rel.slice(unit.length + 1);
      if (inner === 'index.js' || inner === 'index.ts') return;
      context.report({ node: node.source, messageId: 'internal', data: { source, unit } });
    }
    return {
      ImportDeclaration: check,
      ExportNamedDeclaration: check,
      ExportAllDeclaration: check,
      ImportExpression: (n) => check({ source: n.source }),
      // `import('../x/y.js').T` in a type position; typescript-eslint 8 calls the literal `source` (older versions: `argument.literal`).
      TSImportType: (n) => check({ source: n.source ?? n.argument?.literal }),
    };
  },
};
