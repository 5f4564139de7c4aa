/** What every check of the drill returns: one invariant, whether it held, and why not. */

export interface Invariant {
  /** Short stable name (`lost`, `secrets`...): the line's key. */
  name: string;
  ok: boolean;
  /** One line: what was measured. */
  detail: string;
  /** When it broke: the cases, one per line (the first few are printed). */
  problems: string[];
}

/** Build an invariant that holds when there are no problems. */
export function invariant(name: string, detail: string, problems: string[] = []): Invariant {
  return { name, ok: problems.length === 0, detail, problems };
}
