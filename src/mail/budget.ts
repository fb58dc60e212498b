// Time bounds for a probe: a total budget, a connect-phase limit and the caller's AbortSignal, all tearing the client down.
export class ProbeStop extends Error {
  constructor(
    readonly code: 'TIMEOUT' | 'CANCELLED',
    message: string,
  ) {
    super(message);
  }
}

export class Budget {
  private stopError: ProbeStop | null = null;
  private readonly timers: NodeJS.Timeout[] = [];
  private readonly onStops: (() => void)[] = [];
  private rejectStopped!: (err: ProbeStop) => void;
  /** Rejects once the budget is spent or the caller aborts; never resolves. */
  readonly stopped: Promise<never>;
  private readonly abortListener = () => this.stop(new ProbeStop('CANCELLED', 'The check was cancelled.'));

  constructor(
    totalMs: number,
    private readonly signal?: AbortSignal,
  ) {
    this.stopped = new Promise<never>((_, reject) => {
      this.rejectStopped = reject;
    });
    this.stopped.catch(() => {}); // only observed through race()
    this.timers.push(
      setTimeout(() => this.stop(new ProbeStop('TIMEOUT', `The check did not finish within ${totalMs} ms.`)), totalMs),
    );
    if (signal?.aborted) this.abortListener();
    else signal?.addEventListener('abort', this.abortListener, { once: true });
  }

  /** Stops with TIMEOUT after `ms` unless `stillConnecting()` is false by then (greeting seen). */
  connectDeadline(ms: number, stillConnecting: () => boolean, what: string): void {
    this.timers.push(
      setTimeout(() => {
        if (stillConnecting()) this.stop(new ProbeStop('TIMEOUT', `No greeting from ${what} within ${ms} ms.`));
      }, ms),
    );
  }

  /** Runs `teardown` (close the client) when the budget stops; at once if it already has. */
  onStop(teardown: () => void): void {
    if (this.stopError) teardown();
    else this.onStops.push(teardown);
  }

  race<T>(work: Promise<T>): Promise<T> {
    return Promise.race([work, this.stopped]);
  }

  get error(): ProbeStop | null {
    return this.stopError;
  }

  private stop(err: ProbeStop): void {
    if (this.stopError) return;
    this.stopError = err;
    this.rejectStopped(err);
    for (const teardown of this.onStops.splice(0)) {
      try {
        teardown();
      } catch {
        /* the client is going away anyway */
      }
    }
  }

  dispose(): void {
    for (const t of this.timers) clearTimeout(t);
    this.signal?.removeEventListener('abort', this.abortListener);
  }
}
