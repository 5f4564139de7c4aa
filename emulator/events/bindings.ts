/**
 * Event handlers bound with `event.bind`, per app: online ones (a handler URL,
 * optionally a fixed `auth_type` user) and offline ones (no URL, an optional
 * `auth_connector`). Mirrors the portal's b_rest_event table closely enough for
 * `event.get` to answer the same rows in the same order.
 */

export interface Binding {
  /** `event_handler_id` in deliveries. */
  id: number;
  appId: string;
  /** Uppercase event code. */
  event: string;
  /** '' for offline bindings. */
  handler: string;
  /** `auth_type`: the user whose tokens the handler receives; 0 = the user who made the change. */
  userId: number;
  /** Offline bindings: the `auth_connector` they were bound with ('' = none). */
  connector: string;
  offline: boolean;
  /** `options` the event allows (`minTimeout` for ONOFFLINEEVENT). */
  options: Record<string, number | string>;
}

/** The handler table. Mutations return what changed; access rules live in the method layer. */
export class BindingStore {
  readonly #rows: Binding[] = [];
  #nextId = 1;

  /** Add a binding; returns undefined when an identical one exists (the portal's unique key refuses it). */
  add(row: Omit<Binding, 'id'>): Binding | undefined {
    const dup = this.#rows.find(
      (b) => b.appId === row.appId && b.event === row.event && b.handler === row.handler && b.connector === row.connector && b.userId === row.userId,
    );
    if (dup) return undefined;
    const binding = { ...row, id: this.#nextId++ };
    this.#rows.push(binding);
    return binding;
  }

  /** Remove the bindings matching every given field; returns how many went. */
  remove(match: Partial<Omit<Binding, 'id' | 'options'>> & { appId: string; event: string }): number {
    let removed = 0;
    for (let i = this.#rows.length - 1; i >= 0; i--) {
      const b = this.#rows[i]!;
      const hit = (Object.keys(match) as Array<keyof typeof match>).every((k) => b[k] === match[k]);
      if (hit) {
        this.#rows.splice(i, 1);
        removed++;
      }
    }
    return removed;
  }

  /** Remove every binding of one app (the app was uninstalled); returns how many went. */
  removeApp(appId: string): number {
    const before = this.#rows.length;
    for (let i = this.#rows.length - 1; i >= 0; i--) if (this.#rows[i]!.appId === appId) this.#rows.splice(i, 1);
    return before - this.#rows.length;
  }

  /** Bindings of one app (optionally only one user's), in ID order. */
  ofApp(appId: string, userId?: number): Binding[] {
    return this.#rows.filter((b) => b.appId === appId && (userId === undefined || b.userId === userId));
  }

  /** Every binding to `event`, in ID order. */
  forEvent(event: string): Binding[] {
    return this.#rows.filter((b) => b.event === event);
  }
}
