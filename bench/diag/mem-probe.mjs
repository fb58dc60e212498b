// Preload for bench/diag/idle-breakdown.ts (`node --import ./bench/diag/mem-probe.mjs dist/src/server.js`): on SIGUSR2
// every JavaScript thread of the process (the main thread and the database's worker thread: `--import` runs in workers
// too) writes one JSON line to stderr — its V8 heap by space (physical sizes), external and array-buffer memory, the
// modules it has loaded and how long the process took to reach points of its start.
import { BroadcastChannel, isMainThread, threadId } from 'node:worker_threads';
import { getHeapSpaceStatistics, getHeapStatistics } from 'node:v8';
import { readFileSync } from 'node:fs';

const MB = (x) => Math.round((x / 2 ** 20) * 10) / 10;
const channel = new BroadcastChannel('mailroom-mem-probe');
channel.unref();

function dump() {
  const spaces = Object.fromEntries(getHeapSpaceStatistics().map((s) => [s.space_name, MB(s.physical_space_size)]));
  const h = getHeapStatistics();
  const m = process.memoryUsage();
  const line = {
    probe: true,
    thread: isMainThread ? 'main' : `worker ${threadId}`,
    heapPhysicalMB: MB(h.total_physical_size),
    heapUsedMB: MB(h.used_heap_size),
    mallocedMB: MB(h.malloced_memory),
    externalMB: MB(h.external_memory),
    spaces,
    ...(isMainThread
      ? {
          rssMB: MB(m.rss),
          externalAllMB: MB(m.external),
          arrayBuffersMB: MB(m.arrayBuffers),
          status: Object.fromEntries(
            readFileSync('/proc/self/status', 'utf8')
              .split('\n')
              .map((l) => /^(VmRSS|VmHWM|RssAnon|RssFile):\s+(\d+) kB/.exec(l))
              .filter(Boolean)
              .map((r) => [r[1], MB(Number(r[2]) * 1024)]),
          ),
        }
      : {}),
  };
  process.stderr.write(`${JSON.stringify(line)}\n`);
}

channel.onmessage = () => dump();
if (isMainThread)
  process.on('SIGUSR2', () => {
    channel.postMessage('dump');
    dump();
  });
