// Gives the memory malloc holds free back to the OS, a few seconds after start and then periodically (decision 046).
// glibc returns only the top of each malloc arena on free(); what V8 frees after start-up's compile work (its zones:
// WebAssembly and JavaScript tier-up on background threads, tens of MB) stays resident between live blocks for good.
// malloc_trim(0) releases those pages; Node has no binding for it, so native/malloc-trim.c provides one, built at
// install when a C compiler is there (scripts/build-native.mjs). Without it, nothing is trimmed and nothing else changes.
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import type { Logger } from './logger.ts';
import { ROOT } from './paths.ts';

export const MALLOC_TRIM_ADDON = join(ROOT, 'build', 'malloc-trim.node');

/**
 * The first trim after start; then a trim again soon (TRIM_SOON_MS) while the last one freed at least TRIM_WORTH_BYTES
 * (start-up's tier-up compiles go on for a while and free more as they finish; an idle server's own churn frees 1–5 MB
 * between two trims, not worth chasing), else a look every TRIM_EVERY_MS. A
 * trim stalls the main thread (≈ 15–40 ms of CPU walking the arenas), so after the first it runs only when the event
 * loop was idle since the last look (IDLE_ELU): after a burst of work, never during one.
 */
export const FIRST_TRIM_MS = 2_000;
export const TRIM_SOON_MS = 2_000;
export const TRIM_EVERY_MS = 30_000;
export const TRIM_WORTH_BYTES = 8 * 2 ** 20;
export const IDLE_ELU = 0.1;

type Trim = () => boolean;
let loaded: Trim | null | undefined;

/** malloc_trim(0) from the addon, or null when it was not built (no compiler, not glibc) or cannot be loaded. */
export function mallocTrim(): Trim | null {
  if (loaded !== undefined) return loaded;
  loaded = null;
  if (existsSync(MALLOC_TRIM_ADDON)) {
    try {
      loaded = (createRequire(import.meta.url)(MALLOC_TRIM_ADDON) as { trim: Trim }).trim;
    } catch {
      // built for another Node or C library: run as without it
    }
  }
  return loaded;
}

export interface MemoryTrim {
  stop(): void;
}

/** Trims as described above; the timer never keeps the process alive. Nothing without the addon. */
export function startMemoryTrim(logger: Logger): MemoryTrim {
  const trim = mallocTrim();
  if (!trim) {
    logger.debug('malloc_trim addon not built: freed memory stays with malloc');
    return { stop: () => undefined };
  }
  let timer: NodeJS.Timeout;
  let since = performance.eventLoopUtilization();
  const run = (delay: number, always: boolean) => {
    timer = setTimeout(() => {
      const elu = performance.eventLoopUtilization(since).utilization;
      since = performance.eventLoopUtilization();
      let next = TRIM_EVERY_MS;
      if (always || elu < IDLE_ELU) {
        const t0 = performance.now();
        const cpu0 = process.cpuUsage();
        const rss0 = process.memoryUsage.rss();
        const released = trim();
        const freed = rss0 - process.memoryUsage.rss();
        const cpu = process.cpuUsage(cpu0);
        if (freed >= TRIM_WORTH_BYTES) next = TRIM_SOON_MS;
        const r1 = (x: number) => Math.round(x * 10) / 10;
        // cpuMs is the process's (every thread's) CPU meanwhile: the trim's own when the process is otherwise idle.
        logger.debug(
          {
            released,
            freedMB: r1(freed / 2 ** 20),
            ms: r1(performance.now() - t0),
            cpuMs: r1((cpu.user + cpu.system) / 1000),
            eluPct: r1(elu * 100),
          },
          'malloc trimmed',
        );
      }
      run(next, false);
    }, delay);
    timer.unref();
  };
  run(FIRST_TRIM_MS, true);
  return { stop: () => clearTimeout(timer) };
}
