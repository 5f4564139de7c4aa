/** A counting semaphore: at most `size` holders at once, the rest wait in FIFO order. */
export class Semaphore {
  readonly #size: number;
  #held = 0;
  readonly #waiting: Array<() => void> = [];

  constructor(size: number) {
    this.#size = Math.max(1, size);
  }

  async acquire(): Promise<() => void> {
    if (this.#held >= this.#size) await new Promise<void>((resolve) => this.#waiting.push(resolve));
    else this.#held++;
    let released = false;
    return () => {
      if (released) return;
      released = true;
      const next = this.#waiting.shift();
      if (next) next(); // the slot passes straight to the next waiter
      else this.#held--;
    };
  }
}
