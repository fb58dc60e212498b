// A data directory on disk that PostgreSQL can make durable. PGlite's NodeFS hands every file operation to node:fs
// except fsync: Emscripten's NODEFS has no fsync of its stream, so PostgreSQL's fsync() returned at once without
// reaching the disk, and PGlite also starts with -F (fsync = off). A committed transaction was then only in the OS's
// cache: a killed process kept it, but a power loss or an OS crash could lose the last commits — and with fsync off
// PostgreSQL promises nothing about the files after such a crash (decision 042).
// It also keeps each file's size, so that PostgreSQL's lseek(SEEK_END) — how it learns a relation's length, for every
// table and index a statement plans or scans — is not an fstat(2) each time (decision 045).
import fs from 'node:fs';
import { PGlite } from '@electric-sql/pglite';
import { NodeFS } from '@electric-sql/pglite/nodefs';

/** What PGlite's Emscripten module exposes of NODEFS here: its stream operations and its error conversion. */
interface NodefsModule {
  FS: {
    filesystems: {
      NODEFS: {
        stream_ops: StreamOps;
        node_ops: { setattr: (node: FsNode, attr: { size?: number }) => void };
        tryFSOperation: <T>(op: () => T) => T;
      };
    };
  };
}

/** An Emscripten file-system node: one per path, shared by every stream open on it. */
interface FsNode {
  mode: number;
}
interface FsStream {
  node: FsNode;
  nfd?: number;
}
interface StreamOps {
  [op: string]: unknown;
  llseek: (stream: FsStream, offset: number, whence: number) => number;
  write: (stream: FsStream, buffer: unknown, offset: number, length: number, position: number, own?: boolean) => number;
  setattr: (stream: FsStream, attr: { size?: number }) => void;
}

const SEEK_END = 2;
const isFile = (mode: number) => (mode & 0o170000) === 0o100000;

/**
 * PostgreSQL asks a relation's length with lseek(SEEK_END) for every table and index a statement plans or scans
 * (79 times for one mailbox list page), and Emscripten's NODEFS answers each with an fstat(2) — ≈ a tenth of the
 * database thread's CPU on a list page (decision 045). Sizes are kept per file node from the first fstat and follow
 * every change made through this file system: a write past the end grows it, a truncation (ftruncate, O_TRUNC,
 * fallocate's ftruncate) or a failed write forgets it. Nothing else writes these files: the data-dir lock allows one
 * process, and in it only PostgreSQL, through these operations.
 */
export function keepFileSizes(nodefs: NodefsModule['FS']['filesystems']['NODEFS']): void {
  const sizes = new WeakMap<FsNode, number>();
  const ops = nodefs.stream_ops;
  const { llseek, write, setattr } = ops;
  const nodeSetattr = nodefs.node_ops.setattr;
  ops.llseek = (stream, offset, whence) => {
    if (whence !== SEEK_END || !isFile(stream.node.mode)) return llseek.call(ops, stream, offset, whence);
    let size = sizes.get(stream.node);
    if (size === undefined) {
      size = llseek.call(ops, stream, 0, SEEK_END);
      sizes.set(stream.node, size);
    }
    // A position before the start: the original raises the error.
    return offset + size < 0 ? llseek.call(ops, stream, offset, whence) : offset + size;
  };
  ops.write = (stream, buffer, offset, length, position, own) => {
    let written: number;
    try {
      written = write.call(ops, stream, buffer, offset, length, position, own);
    } catch (e) {
      sizes.delete(stream.node); // part of it may have been written
      throw e;
    }
    const size = sizes.get(stream.node);
    if (typeof position !== 'number') sizes.delete(stream.node);
    else if (size !== undefined && position + written > size) sizes.set(stream.node, position + written);
    return written;
  };
  ops.setattr = (stream, attr) => {
    if (attr.size !== undefined) sizes.delete(stream.node);
    try {
      setattr.call(ops, stream, attr);
    } finally {
      if (attr.size !== undefined) sizes.delete(stream.node);
    }
  };
  nodefs.node_ops.setattr = (node, attr) => {
    if (attr.size !== undefined) sizes.delete(node);
    try {
      nodeSetattr.call(nodefs.node_ops, node, attr);
    } finally {
      if (attr.size !== undefined) sizes.delete(node);
    }
  };
}

type EmscriptenOpts = Awaited<ReturnType<NodeFS['init']>>['emscriptenOpts'];

/**
 * NodeFS whose fsync reaches the disk (fs.fsyncSync on the file's descriptor; a failure is EIO-like to PostgreSQL), and
 * whose lseek(SEEK_END) answers from the file sizes it keeps (keepFileSizes).
 */
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
      keepFileSizes(nodefs);
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
