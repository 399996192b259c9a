/**
 * The synchronous core of NAR serialisation, shared by `dumpPath` and `hashPath`.
 *
 * Why synchronous: hashing a tree of thousands of small files is dominated by per-file
 * overhead, and one async fs call costs several times the syscall it wraps. So the walk
 * uses lstat/readdir/open/fstat/read/close synchronously (the same syscalls as Nix) and
 * packs the framing and contents of many files into one large buffer, yielding it only when
 * it is full. A consumer pulls one buffer at a time (a generator), which keeps memory
 * bounded and gives backpressure: a large file is read straight into the buffer, one
 * buffer-full per yield. The walk is iterative (a stack of directory frames) so that deep
 * trees cannot overflow the call stack.
 */
import {
  closeSync,
  constants,
  type Dirent,
  fstatSync,
  lstatSync,
  openSync,
  readdirSync,
  readlinkSync,
  readSync,
  type Stats,
} from "node:fs";
import { FormatError } from "./kiln-error.ts";
import {
  CLOSE,
  DIRECTORY_HEAD,
  ENTRY_HEAD,
  ENTRY_NODE,
  EXECUTABLE_HEAD,
  NAR_MAX_NAME_BYTES,
  narPadding,
  PROLOGUE,
  REGULAR_HEAD,
  SYMLINK_HEAD,
  writeU64,
} from "./nar-tokens.ts";

export interface NarChunksOptions {
  /** Size of the batch buffer, and so the largest chunk yielded (default 1 MiB, at least 64 KiB). */
  readonly bufferSize?: number;
  /**
   * Yield views of one buffer that is overwritten once the consumer resumes the generator
   * (for consumers that use each chunk at once, like a hash). Default false: every chunk
   * is the consumer's to keep.
   */
  readonly reuseBuffer?: boolean;
  /**
   * Supplies every buffer the walk writes into (each of `bufferSize` bytes), instead of
   * allocating: lets a consumer hand out slots of a shared ring (see nar-hash-worker.ts).
   * Each yielded chunk is a view of the buffer supplied before it; no copies are made.
   */
  readonly nextBuffer?: () => Uint8Array;
}

type Kind = "regular" | "directory" | "symlink";

interface Frame {
  readonly dir: Buffer;
  /** Sorted by the raw bytes of their names, as Nix's std::map<std::string> orders them. */
  readonly entries: Dirent<Buffer>[];
  next: number;
}

// Framing that never exceeds this fits in a fresh buffer: an entry header with a name of
// NAR_MAX_NAME_BYTES, or a symlink target of that length, plus the fixed tokens.
const MAX_HEADER = 2 * NAR_MAX_NAME_BYTES + 256;
// Below this fill, a buffer that is not reused is copied out rather than given away, so a
// small archive does not pin a whole megabyte.
const COPY_BELOW = 1 << 16;
// O_NONBLOCK: if a regular file was swapped for a fifo since readdir, open must not hang.
const OPEN_FLAGS = constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK;
const SLASH = Buffer.from("/");

/**
 * Serialises `path` (not following a top-level symlink) as NAR bytes, yielding chunks of at
 * most `bufferSize` bytes; returns the NAR size.
 */
export function* narChunks(
  path: string,
  options: NarChunksOptions = {},
): Generator<Uint8Array, number, void> {
  const bufferSize = Math.max(options.bufferSize ?? 1 << 20, MAX_HEADER, 1 << 16);
  const reuse = options.reuseBuffer ?? false;
  const supplied = options.nextBuffer;
  const fresh = (): Buffer => {
    if (!supplied) return Buffer.allocUnsafe(bufferSize);
    const next = supplied();
    return Buffer.from(next.buffer, next.byteOffset, bufferSize);
  };
  let buffer = fresh();
  let pos = 0;
  let size = 0;

  const take = (last = false): Uint8Array => {
    let chunk: Uint8Array;
    if (reuse) chunk = buffer.subarray(0, pos);
    else if (pos < COPY_BELOW && !supplied) chunk = new Uint8Array(buffer.subarray(0, pos));
    else {
      chunk = buffer.subarray(0, pos);
      if (!last) buffer = fresh();
    }
    size += pos;
    pos = 0;
    return chunk;
  };
  const put = (bytes: Uint8Array): void => {
    buffer.set(bytes, pos);
    pos += bytes.length;
  };
  const pad = (length: number): void => {
    const padding = narPadding(length);
    buffer.fill(0, pos, pos + padding);
    pos += padding;
  };
  const putString = (bytes: Uint8Array): void => {
    writeU64(buffer, pos, bytes.length);
    buffer.set(bytes, pos + 8);
    pos += 8 + bytes.length;
    pad(bytes.length);
  };

  const frames: Frame[] = [];
  // The node to write next: the root, then each directory entry in turn.
  let node: Buffer | undefined = Buffer.from(path);
  let kind: Kind = kindOf(lstatSync(node), node);
  put(PROLOGUE);
  for (;;) {
    if (node !== undefined) {
      if (pos + MAX_HEADER > bufferSize) yield take();
      if (kind === "directory") {
        const entries = readdirSync(node, { encoding: "buffer", withFileTypes: true });
        entries.sort((a, b) => Buffer.compare(a.name, b.name));
        frames.push({ dir: node, entries, next: 0 });
        put(DIRECTORY_HEAD);
        node = undefined;
        continue; // its entry, if any, is closed when its frame is done
      }
      if (kind === "symlink") {
        const target = readlinkSync(node, { encoding: "buffer" });
        // Linux caps targets below this; the parser refuses longer ones, so must the writer.
        if (target.length > NAR_MAX_NAME_BYTES) throw unsupported(node, "has an over-long target");
        put(SYMLINK_HEAD);
        putString(target);
        put(CLOSE);
      } else {
        const fd = openSync(node, OPEN_FLAGS);
        let fileSize = 0;
        try {
          const stat = fstatSync(fd);
          if (!stat.isFile()) throw unsupported(node, "changed type while being archived");
          put(stat.mode & 0o100 ? EXECUTABLE_HEAD : REGULAR_HEAD);
          fileSize = stat.size;
          writeU64(buffer, pos, fileSize);
          pos += 8;
          let remaining = fileSize;
          while (remaining > 0) {
            if (pos === bufferSize) yield take();
            const read = readSync(fd, buffer, pos, Math.min(remaining, bufferSize - pos), null);
            if (read === 0) throw unsupported(node, "shrank while being archived");
            pos += read;
            remaining -= read;
          }
        } finally {
          closeSync(fd);
        }
        if (pos + 8 + CLOSE.length > bufferSize) yield take();
        pad(fileSize);
        put(CLOSE);
      }
      node = undefined;
      if (frames.length > 0) put(CLOSE); // the entry holding the node
    }
    const frame = frames.at(-1);
    if (frame === undefined) break;
    if (frame.next === frame.entries.length) {
      frames.pop();
      if (pos + 2 * CLOSE.length > bufferSize) yield take();
      put(CLOSE); // the directory node
      if (frames.length > 0) put(CLOSE); // the entry holding it
      continue;
    }
    const entry = frame.entries[frame.next++];
    node = Buffer.concat([frame.dir, SLASH, entry.name]);
    kind = kindOf(entry, node);
    if (pos + MAX_HEADER > bufferSize) yield take();
    put(ENTRY_HEAD);
    putString(entry.name);
    put(ENTRY_NODE);
  }
  const total = size + pos;
  if (pos > 0) yield take(true);
  return total;
}

function kindOf(entry: Dirent<Buffer> | Stats, path: Buffer): Kind {
  if (entry.isFile()) return "regular";
  if (entry.isDirectory()) return "directory";
  if (entry.isSymbolicLink()) return "symlink";
  if (entry.isSocket()) throw unsupported(path, "is a socket");
  if (entry.isFIFO()) throw unsupported(path, "is a fifo");
  if (entry.isCharacterDevice()) throw unsupported(path, "is a character device");
  if (entry.isBlockDevice()) throw unsupported(path, "is a block device");
  throw unsupported(path, "has an unknown file type");
}

function unsupported(path: Buffer, what: string): FormatError {
  return new FormatError("nar", `cannot archive ${path.toString()}: it ${what}`, {
    hint: "a NAR holds only regular files, directories and symlinks",
  });
}
