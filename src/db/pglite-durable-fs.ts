// A data directory on disk that PostgreSQL can make durable. PGlite's NodeFS hands every file operation to node:fs
// except fsync: Emscripten's NODEFS has no fsync of its stream, so PostgreSQL's fsync() returned at once without
// reaching the disk, and PGlite also starts with -F (fsync = off). A committed transaction was then only in the OS's
// cache: a killed process kept it, but a power loss or an OS crash could lose the last commits — and with fsync off
// PostgreSQL promises nothing about the files after such a crash (decision 042).
import fs from 'node:fs';
import { PGlite } from '@electric-sql/pglite';
import { NodeFS } from '@electric-sql/pglite/nodefs';

/** What PGlite's Emscripten module exposes of NODEFS here: its stream operations and its error conversion. */
interface NodefsModule {
  FS: {
    filesystems: {
      NODEFS: {
        stream_ops: Record<string, unknown>;
        tryFSOperation: <T>(op: () => T) => T;
      };
    };
  };
}

type EmscriptenOpts = Awaited<ReturnType<NodeFS['init']>>['emscriptenOpts'];

/** NodeFS whose fsync reaches the disk (fs.fsyncSync on the file's descriptor; a failure is EIO-like to PostgreSQL). */
export class DurableNodeFS extends NodeFS {
  override async init(pg: PGlite, opts: Partial<EmscriptenOpts>): Promise<{ emscriptenOpts: Partial<EmscriptenOpts> }> {
    const { emscriptenOpts } = await super.init(pg, opts);
    const preRun = (emscriptenOpts.preRun ?? []) as ((mod: unknown) => void)[];
    const withFsync = (mod: unknown) => {
      const nodefs = (mod as NodefsModule).FS.filesystems.NODEFS;
      // Every node of this file system shares this one object, so files opened before and after see the same fsync.
      nodefs.stream_ops.fsync = (stream: { nfd?: number }) => {
        if (stream.nfd !== undefined) nodefs.tryFSOperation(() => fs.fsyncSync(stream.nfd as number));
        return 0;
      };
    };
    return { emscriptenOpts: { ...emscriptenOpts, preRun: [...preRun, withFsync] } };
  }
}

/**
 * PGlite's start parameters with fsync on: without -F, and WAL flushed with fsync() — the default method, fdatasync,
 * is a no-op in Emscripten (it never calls the file system), so commits would still not reach the disk.
 */
export function durableStartParams(): string[] {
  return [...PGlite.defaultStartParams.filter((p) => p !== '-F'), '-c', 'wal_sync_method=fsync'];
}
