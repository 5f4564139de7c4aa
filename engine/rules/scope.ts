/** Names visible at a point of a rule while it compiles. */

/** Names visible at a point of the rule, with where each came from (for messages). */
export class Scope {
  readonly names = new Map<string, string>();
  constructor(parent?: Scope) {
    if (parent) for (const [k, v] of parent.names) this.names.set(k, v);
  }
  add(name: string, origin: string): void {
    this.names.set(name, origin);
  }
  has(name: string): boolean {
    return this.names.has(name);
  }
}
