/**
 * Keeps the event loop polling, without sleeping, for a short while after the daemon
 * answers a request, so that a client's next request is read as soon as it arrives.
 *
 * Why: a client evaluating an expression asks thousands of small questions one after
 * another, each waiting for the last answer. Between two of them the daemon has nothing
 * to do, and an idle process sleeps; on virtual machines whose idle vCPUs halt (here:
 * the haltpoll governor with guest polling off) waking it costs more than the answer
 * itself. Measured with QueryPathInfo round trips on one connection: ~10,000/s sleeping
 * between requests, ~23,000/s polling for 200 µs after each (`npm run bench:daemon`).
 *
 * The cost is bounded: at most `windowMicros` of one core after each answer, none when
 * no requests come. Polling is a chain of setImmediate callbacks, so every other socket,
 * timer and build keeps being served while it lasts. A window of 0 turns it off.
 */
export class BusyPoll {
  readonly #windowMs: number;
  readonly #now: () => number;
  #deadline = 0;
  #polling = false;
  /** Loop turns spent polling so far (for tests and metrics). */
  turns = 0;

  constructor(windowMicros: number, now: () => number = () => performance.now()) {
    this.#windowMs = windowMicros / 1000;
    this.#now = now;
  }

  /** Call after answering: keep polling until `windowMicros` after this call. */
  answered(): void {
    if (this.#windowMs <= 0) return;
    this.#deadline = this.#now() + this.#windowMs;
    if (this.#polling) return;
    this.#polling = true;
    setImmediate(this.#turn);
  }

  /** True while the loop is being kept awake. */
  get polling(): boolean {
    return this.#polling;
  }

  /** Stops polling now (the daemon is closing). */
  stop(): void {
    this.#deadline = 0;
  }

  readonly #turn = (): void => {
    this.turns++;
    if (this.#now() < this.#deadline) setImmediate(this.#turn);
    else this.#polling = false;
  };
}
