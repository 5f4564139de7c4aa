/** The method registry: method name (case-insensitive, as portals treat it) to its definition. */
import type { MethodDef, MethodRegistry } from './types.js';

export class Registry implements MethodRegistry {
  readonly #defs = new Map<string, MethodDef>();

  register(name: string, def: MethodDef): void {
    this.#defs.set(name.toLowerCase(), def);
  }

  get(name: string): MethodDef | undefined {
    return this.#defs.get(name.toLowerCase());
  }

  has(name: string): boolean {
    return this.#defs.has(name.toLowerCase());
  }

  names(): string[] {
    return [...this.#defs.keys()].sort();
  }
}
