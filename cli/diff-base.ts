/**
 * The base side of `rules diff`: the rule files at a git ref, written into a
 * temporary folder (`git ls-tree` and `git cat-file` on the repository that
 * holds the paths: the user's work tree and index are never touched), or a
 * folder given as the base.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, realpathSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, dirname, isAbsolute, join, relative, resolve, sep } from 'node:path';
import { B24RulesError } from '../engine/errors.js';

/** The base rule set: the paths to load, how to name its files, and what to clean up. */
export interface BaseRules {
  /** `origin/main (a1b2c3d)` or the folder. */
  label: string;
  /** Paths to load the base's rules from (none: the ref has none of the paths). */
  paths: string[];
  /** A file of the base as the user knows it: the path in the work tree (relative to the current folder), or the folder's file. */
  display(file: string): string;
  /** The folder of the export, when there is one (the file names of its plans are mapped back with `display`). */
  root?: string;
  dispose(): void;
}

function git(cwd: string, args: string[], input?: string): Buffer {
  return execFileSync('git', args, { cwd, stdio: ['pipe', 'pipe', 'pipe'], maxBuffer: 256 * 1024 * 1024, ...(input !== undefined ? { input } : {}) });
}

function gitText(cwd: string, args: string[]): string {
  return git(cwd, args).toString('utf8').trim();
}

function stderrOf(err: unknown): string {
  const e = err as { stderr?: Buffer | string; message?: string };
  const text = (e.stderr ? e.stderr.toString() : (e.message ?? String(err))).trim().split('\n')[0] ?? '';
  return text;
}

/** The nearest existing folder of a path (a rule file deleted in the change still names its folder). */
function existingDir(p: string): string {
  let d = resolve(p);
  while (!existsSync(d) || !statSync(d).isDirectory()) {
    const up = dirname(d);
    if (up === d) return d;
    d = up;
  }
  return d;
}

/** A path relative to the repository's top folder, with `/` separators; throws when it is outside. */
function inRepo(top: string, p: string): string {
  const dir = existingDir(p);
  const rest = relative(dir, resolve(p));
  const rel = relative(top, join(realpathSync(dir), rest));
  if (rel.startsWith('..') || isAbsolute(rel)) throw new B24RulesError('DIFF_BASE_INVALID', `${p} is outside the git repository at ${top}; give the base as a folder (--base DIR) instead`);
  return rel.split(sep).join('/');
}

/** Blobs by id, read with one `git cat-file --batch`. */
function readBlobs(top: string, ids: string[]): Map<string, Buffer> {
  const out = new Map<string, Buffer>();
  if (ids.length === 0) return out;
  const buf = git(top, ['cat-file', '--batch'], `${ids.join('\n')}\n`);
  let at = 0;
  while (at < buf.length) {
    const nl = buf.indexOf(10, at);
    const [id, type, size] = buf.subarray(at, nl).toString('utf8').split(' ');
    if (type === 'missing' || !id || !size) throw new B24RulesError('DIFF_BASE_INVALID', `git could not read object ${id ?? '?'}`);
    const n = Number(size);
    out.set(id, buf.subarray(nl + 1, nl + 1 + n));
    at = nl + 1 + n + 1;
  }
  return out;
}

/** The rule files of `paths` as they are at `ref`, in a temporary folder. Throws DIFF_BASE_INVALID for a ref that is not a commit. */
export function rulesAtRef(paths: string[], ref: string): BaseRules {
  const from = existingDir(paths[0] ?? '.');
  let top: string;
  try {
    top = realpathSync(gitText(from, ['rev-parse', '--show-toplevel']));
  } catch (err) {
    throw new B24RulesError('DIFF_BASE_INVALID', `--base ${ref}: ${from} is not in a git repository (${stderrOf(err)}); give the base as a folder (--base DIR) instead`);
  }
  let commit: string;
  try {
    commit = gitText(top, ['rev-parse', '--verify', '--quiet', '--end-of-options', `${ref}^{commit}`]);
  } catch {
    throw new B24RulesError('DIFF_BASE_INVALID', `--base ${ref} is neither a folder nor a commit of the git repository at ${top}: write a branch, tag or commit (e.g. origin/main, HEAD~1; in CI fetch it first: actions/checkout with fetch-depth: 0), or a folder with the base rules`);
  }
  const rels = paths.map((p) => inRepo(top, p));
  const entries = git(top, ['ls-tree', '-r', '-z', '--full-tree', commit, '--', ...rels])
    .toString('utf8')
    .split('\0')
    .filter(Boolean)
    .map((line) => {
      const [meta, path] = line.split('\t') as [string, string];
      const [mode, type, id] = meta.split(' ') as [string, string, string];
      return { mode, type, id, path };
    })
    .filter((e) => e.type === 'blob' && e.mode !== '120000');
  const blobs = readBlobs(top, [...new Set(entries.map((e) => e.id))]);
  const root = mkdtempSync(join(tmpdir(), 'b24-rules-diff-'));
  for (const e of entries) {
    const file = join(root, ...e.path.split('/'));
    mkdirSync(dirname(file), { recursive: true });
    writeFileSync(file, blobs.get(e.id) ?? Buffer.alloc(0));
  }
  // A path the ref does not have (a rule file the change adds) is simply not in the base.
  const basePaths = rels.filter((rel) => entries.some((e) => e.path === rel || e.path.startsWith(rel === '' ? '' : `${rel}/`))).map((rel) => join(root, ...rel.split('/').filter(Boolean)));
  const short = commit.slice(0, 7);
  return {
    label: `${ref}${ref.startsWith(short) ? '' : ` (${short})`}`,
    paths: basePaths,
    root,
    display(file: string): string {
      const abs = resolve(file);
      if (!abs.startsWith(root + sep)) return file;
      return relative(process.cwd(), join(top, relative(root, abs))) || basename(abs);
    },
    dispose(): void {
      rmSync(root, { recursive: true, force: true });
    },
  };
}

/** A folder as the base: its rule files are the base rule set, whatever PATHS the change names. */
export function rulesInFolder(dir: string): BaseRules {
  return { label: dir, paths: [resolve(dir)], display: (file) => relative(process.cwd(), resolve(file)) || file, dispose() {} };
}

/** Is `base` a folder (else it is taken as a git ref)? */
export function isFolder(base: string): boolean {
  return existsSync(base) && statSync(base).isDirectory();
}
