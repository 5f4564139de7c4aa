/**
 * Finds the error codes the source writes as string literals, with the
 * TypeScript parser: the first argument of `new X(...)` and `super(...)` for
 * the B24RulesError classes that take a code first, `toB24RulesError(e, 'X')`,
 * `code: 'X'` in their arguments and in error records (`{ code, message }`,
 * not rule diagnostics),
 * `code: 'A' | 'B'` parameter types and `code = 'X'` defaults, and the
 * members of `*ErrorCode` types. Typing catches most of these already; the
 * scan also covers casts and plain JS. Only code-shaped literals (UPPER_SNAKE)
 * count, so a message passed first is never taken for a code.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import ts from 'typescript';

/** One literal code in the source, and the kind written next to it, if any. */
export interface CodeSite {
  code: string;
  /** `path:line`, relative to the package root. */
  where: string;
  /** A literal `kind: '...'` in the same call, when there is one. */
  kind?: string;
}

const CODE_SHAPE = /^[A-Z][A-Z0-9]*(_[A-Z0-9]+)*$/;
const SOURCE_FILE = /\.(ts|mts|js|mjs|cjs)$/;

/** Every source file under `dirs` (skipping missing dirs, node_modules and .d.ts). */
export function sourceFiles(root: string, dirs: string[]): string[] {
  const out: string[] = [];
  const walk = (dir: string): void => {
    for (const name of readdirSync(dir)) {
      const p = join(dir, name);
      if (statSync(p).isDirectory()) {
        if (name !== 'node_modules') walk(p);
      } else if (SOURCE_FILE.test(name) && !name.endsWith('.d.ts')) out.push(p);
    }
  };
  for (const d of dirs) {
    const full = join(root, d);
    try {
      if (statSync(full).isDirectory()) walk(full);
    } catch {
      // A listed dir that does not exist (yet) holds no codes.
    }
  }
  return out.sort();
}

function parse(file: string): ts.SourceFile {
  return ts.createSourceFile(file, readFileSync(file, 'utf8'), ts.ScriptTarget.ES2022, true);
}

function nameOf(expr: ts.Expression): string | undefined {
  if (ts.isIdentifier(expr)) return expr.text;
  if (ts.isPropertyAccessExpression(expr)) return expr.name.text;
  return undefined;
}

/** The string literals an expression can evaluate to (literals, both arms of `?:`, `||` fallbacks, casts). */
function literalsOf(expr: ts.Expression | undefined): string[] {
  if (!expr) return [];
  if (ts.isStringLiteral(expr) || ts.isNoSubstitutionTemplateLiteral(expr)) return [expr.text];
  if (ts.isParenthesizedExpression(expr) || ts.isAsExpression(expr) || ts.isSatisfiesExpression(expr) || ts.isNonNullExpression(expr)) return literalsOf(expr.expression);
  if (ts.isConditionalExpression(expr)) return [...literalsOf(expr.whenTrue), ...literalsOf(expr.whenFalse)];
  return [];
}

function literalTypes(type: ts.TypeNode | undefined): string[] {
  if (!type) return [];
  if (ts.isLiteralTypeNode(type) && ts.isStringLiteral(type.literal)) return [type.literal.text];
  if (ts.isUnionTypeNode(type)) return type.types.flatMap(literalTypes);
  if (ts.isParenthesizedTypeNode(type)) return literalTypes(type.type);
  if (ts.isIntersectionTypeNode(type)) return type.types.flatMap(literalTypes);
  if (ts.isTypeLiteralNode(type)) {
    return type.members.flatMap((m) => (ts.isPropertySignature(m) && m.name.getText() === 'code' ? literalTypes(m.type) : []));
  }
  return [];
}

function propertyNamed(obj: ts.ObjectLiteralExpression, name: string): ts.PropertyAssignment | undefined {
  return obj.properties.find((p): p is ts.PropertyAssignment => ts.isPropertyAssignment(p) && p.name.getText() === name);
}

/** A literal `kind:` in any object literal among `args`. */
function kindIn(args: readonly ts.Expression[]): string | undefined {
  for (const a of args) {
    if (!ts.isObjectLiteralExpression(a)) continue;
    const k = propertyNamed(a, 'kind');
    const lit = k ? literalsOf(k.initializer) : [];
    if (lit.length === 1) return lit[0];
  }
  return undefined;
}

interface ClassInfo {
  base?: string;
  /** The name of the constructor's first parameter, when the class declares a constructor. */
  firstParam?: string;
}

/** Scan `files`. `root` makes the reported paths relative. */
export function scanErrorCodes(root: string, files: string[]): CodeSite[] {
  const parsed = files.map((f) => ({ file: f, sf: parse(f) }));

  // The classes that are B24RulesErrors, and which of them take a code first.
  const classes = new Map<string, ClassInfo>([['B24RulesError', { firstParam: 'code' }]]);
  for (const { sf } of parsed) {
    const visit = (node: ts.Node): void => {
      if (ts.isClassDeclaration(node) && node.name && node.name.text !== 'B24RulesError') {
        const ext = node.heritageClauses?.find((h) => h.token === ts.SyntaxKind.ExtendsKeyword)?.types[0];
        const ctor = node.members.find(ts.isConstructorDeclaration);
        const first = ctor?.parameters[0]?.name;
        classes.set(node.name.text, { base: ext ? nameOf(ext.expression) : undefined, firstParam: first && ts.isIdentifier(first) ? first.text : ctor ? '' : undefined });
      }
      ts.forEachChild(node, visit);
    };
    visit(sf);
  }
  const isErrorClass = (name: string | undefined, seen = new Set<string>()): boolean => {
    if (name === undefined || seen.has(name)) return false;
    if (name === 'B24RulesError') return true;
    seen.add(name);
    return isErrorClass(classes.get(name)?.base, seen);
  };
  const takesCode = (name: string | undefined, seen = new Set<string>()): boolean => {
    if (name === undefined || seen.has(name) || !isErrorClass(name)) return false;
    seen.add(name);
    const info = classes.get(name);
    if (info?.firstParam !== undefined) return info.firstParam === 'code';
    return takesCode(info?.base, seen);
  };

  const sites: CodeSite[] = [];
  for (const { file, sf } of parsed) {
    const where = (node: ts.Node) => `${relative(root, file)}:${sf.getLineAndCharacterOfPosition(node.getStart(sf)).line + 1}`;
    const add = (codes: string[], node: ts.Node, kind?: string) => {
      for (const code of codes) if (CODE_SHAPE.test(code)) sites.push({ code, where: where(node), ...(kind !== undefined ? { kind } : {}) });
    };
    const codeProps = (args: readonly ts.Expression[], node: ts.Node, kind?: string) => {
      for (const a of args) {
        if (!ts.isObjectLiteralExpression(a)) continue;
        const c = propertyNamed(a, 'code');
        if (c) add(literalsOf(c.initializer), node, kind);
      }
    };
    let inErrorClass: string | undefined;
    const visit = (node: ts.Node): void => {
      if (ts.isClassDeclaration(node)) {
        const outer = inErrorClass;
        inErrorClass = node.name && isErrorClass(node.name.text) ? node.name.text : undefined;
        ts.forEachChild(node, visit);
        inErrorClass = outer;
        return;
      }
      if (ts.isNewExpression(node) && isErrorClass(nameOf(node.expression))) {
        const args = node.arguments ?? [];
        const kind = kindIn(args);
        if (takesCode(nameOf(node.expression))) add(literalsOf(args[0]), node, kind);
        codeProps(args, node, kind);
      } else if (ts.isCallExpression(node) && node.expression.kind === ts.SyntaxKind.SuperKeyword && inErrorClass) {
        const kind = kindIn(node.arguments);
        if (takesCode(classes.get(inErrorClass)?.base)) add(literalsOf(node.arguments[0]), node, kind);
        codeProps(node.arguments, node, kind);
      } else if (ts.isCallExpression(node) && nameOf(node.expression) === 'toB24RulesError') {
        add(literalsOf(node.arguments[1]), node);
      } else if (ts.isObjectLiteralExpression(node) && propertyNamed(node, 'message') && !propertyNamed(node, 'severity') && !propertyNamed(node, 'hint')) {
        // An error record ({ code, message }); rule diagnostics (with a severity or a hint) have their own codes.
        const c = propertyNamed(node, 'code');
        if (c) add(literalsOf(c.initializer), node);
      } else if ((ts.isParameter(node) || ts.isBindingElement(node) || ts.isPropertySignature(node)) && node.name.getText(sf) === 'code') {
        if (inErrorClass && !ts.isBindingElement(node)) add(literalTypes(node.type), node);
        if (!ts.isPropertySignature(node)) add(literalsOf(node.initializer), node);
      } else if (ts.isTypeAliasDeclaration(node) && node.name.text.endsWith('ErrorCode')) {
        add(literalTypes(node.type), node);
      }
      ts.forEachChild(node, visit);
    };
    visit(sf);
  }
  return sites;
}
