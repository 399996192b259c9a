/**
 * `parseNar`: a streaming, strict NAR parser. It accepts exactly what `nix-store --dump`
 * writes (FORMATS.md §1) and nothing else, so that a parsed archive always re-serialises to
 * the same bytes and the same hash.
 */
import { KilnError } from "./kiln-error.ts";
import { NarByteReader } from "./nar-byte-reader.ts";
import { PROLOGUE as NAR_MAGIC_TOKEN, NAR_MAX_NAME_BYTES } from "./nar-tokens.ts";

interface NarEventBase {
  /** Path relative to the archive root, components joined by `/`; the root is `""`. */
  readonly path: string;
  /** The same path as raw bytes: names need not be UTF-8 (`path` then has U+FFFD). */
  readonly rawPath: Uint8Array;
}

/** A directory, announced before its entries (which follow in sorted order). */
export interface NarDirectoryEvent extends NarEventBase {
  readonly type: "directory";
}

/** A regular file. Its contents are streamed and must be read before the next event. */
export interface NarRegularEvent extends NarEventBase {
  readonly type: "regular";
  readonly executable: boolean;
  readonly size: number;
  /** Offset of the first contents byte in the archive (as in `nix nar ls --json`). */
  readonly narOffset: number;
  /**
   * The contents, as views of the input chunks. Read them (once) before asking for the next
   * event, or leave them: the parser then skips what is left.
   */
  readonly contents: AsyncIterable<Uint8Array>;
}

export interface NarSymlinkEvent extends NarEventBase {
  readonly type: "symlink";
  readonly target: string;
  readonly rawTarget: Uint8Array;
}

export type NarEvent = NarDirectoryEvent | NarRegularEvent | NarSymlinkEvent;

/** Longest relative path accepted (Linux's PATH_MAX): also bounds the nesting depth. */
const MAX_PATH_BYTES = 4096;
/** Longest keyword token; anything longer is rejected before it is read. */
const MAX_TOKEN_BYTES = 16;
const decoder = new TextDecoder();

interface Node {
  readonly path: string;
  readonly rawPath: Uint8Array;
}

interface OpenDirectory extends Node {
  lastName: Uint8Array | undefined;
}

/**
 * Parses a NAR into a stream of events, depth first, each directory before its entries.
 * Rejects, with a FormatError naming the problem, the byte offset and the entry: a wrong
 * magic, unknown node types or tokens, names that are empty, `.`, `..` or contain `/` or
 * NUL, unsorted or duplicate entries, lengths beyond 2^53 or beyond the limits of a name
 * (4 KiB) or path (4 KiB), non-zero padding, truncated input and trailing bytes.
 *
 * @example
 * for await (const event of parseNar(Readable.from(bytes))) console.log(event.type, event.path);
 */
export async function* parseNar(
  source: AsyncIterable<Uint8Array> | Iterable<Uint8Array>,
): AsyncGenerator<NarEvent, void, void> {
  const reader = new NarByteReader(source);
  const token = async (path?: string): Promise<string> => {
    const bytes = await reader.readString(MAX_TOKEN_BYTES, "token", path);
    return decoder.decode(bytes);
  };
  const expect = async (expected: string, path?: string): Promise<void> => {
    const at = reader.offset;
    const found = await token(path);
    if (found !== expected) {
      throw reader.error(
        `expected ${JSON.stringify(expected)}, found ${JSON.stringify(found)}`,
        path,
        at,
      );
    }
  };

  const magic = await reader.read(NAR_MAGIC_TOKEN.length, "magic");
  if (Buffer.compare(magic, NAR_MAGIC_TOKEN) !== 0)
    throw reader.error("not a NAR: bad magic", undefined, 0);

  const open: OpenDirectory[] = [];
  let node: Node | undefined = { path: "", rawPath: new Uint8Array(0) };
  for (;;) {
    if (node !== undefined) {
      const { path } = node;
      await expect("(", path);
      await expect("type", path);
      const typeAt = reader.offset;
      const type = await token(path);
      if (type === "directory") {
        yield { type: "directory", path, rawPath: node.rawPath };
        open.push({ ...node, lastName: undefined });
        node = undefined;
        continue;
      }
      if (type === "regular") yield* regular(reader, node, token, expect);
      else if (type === "symlink") {
        await expect("target", path);
        const rawTarget = await reader.readString(NAR_MAX_NAME_BYTES, "symlink target", path);
        if (rawTarget.length === 0) throw reader.error("empty symlink target", path);
        if (rawTarget.includes(0)) throw reader.error("symlink target contains NUL", path);
        await expect(")", path);
        yield {
          type: "symlink",
          path,
          rawPath: node.rawPath,
          target: decoder.decode(rawTarget),
          rawTarget,
        };
      } else throw reader.error(`unknown node type ${JSON.stringify(type)}`, path, typeAt);
      node = undefined;
      if (open.length > 0) await expect(")", path); // closes the entry
    }
    const dir = open.at(-1);
    if (dir === undefined) break;
    const at = reader.offset;
    const next = await token(dir.path);
    if (next === ")") {
      open.pop();
      if (open.length > 0) await expect(")", dir.path); // closes the entry holding it
      continue;
    }
    if (next !== "entry") {
      throw reader.error(`expected "entry" or ")", found ${JSON.stringify(next)}`, dir.path, at);
    }
    await expect("(", dir.path);
    await expect("name", dir.path);
    const nameAt = reader.offset;
    const name = await reader.readString(NAR_MAX_NAME_BYTES, "entry name", dir.path);
    const problem = nameProblem(name, dir.lastName);
    if (problem !== undefined) throw reader.error(problem, dir.path, nameAt);
    dir.lastName = name;
    await expect("node", dir.path);
    node = child(dir, name);
    if (node.rawPath.length > MAX_PATH_BYTES) {
      throw reader.error(`path longer than ${MAX_PATH_BYTES} bytes`, dir.path, nameAt);
    }
  }
  if (!(await reader.atEnd())) throw reader.error("trailing bytes after the archive");
}

async function* regular(
  reader: NarByteReader,
  node: Node,
  token: (path?: string) => Promise<string>,
  expect: (expected: string, path?: string) => Promise<void>,
): AsyncGenerator<NarRegularEvent, void, void> {
  const { path } = node;
  const at = reader.offset;
  let tag = await token(path);
  const executable = tag === "executable";
  if (executable) {
    await expect("", path);
    tag = await token(path);
  }
  if (tag !== "contents") {
    const wanted = executable ? '"contents"' : '"executable" or "contents"';
    throw reader.error(`expected ${wanted}, found ${JSON.stringify(tag)}`, path, at);
  }
  const size = await reader.readLength("file size", path);
  let remaining = size;
  let reading = false;
  let moved = false;
  async function* contents(): AsyncGenerator<Uint8Array, void, void> {
    if (moved) throw staleContents(path);
    while (remaining > 0) {
      if (moved) throw staleContents(path);
      reading = true;
      const chunk = await reader.readSome(remaining, "file contents", path);
      reading = false;
      remaining -= chunk.length;
      yield chunk;
    }
  }
  yield {
    type: "regular",
    path,
    rawPath: node.rawPath,
    executable,
    size,
    narOffset: reader.offset,
    contents: contents(),
  };
  moved = true;
  if (reading) throw staleContents(path);
  await reader.skip(remaining, "file contents", path);
  remaining = 0;
  await reader.readPadding(size, "file contents", path);
  await expect(")", path);
}

function staleContents(path: string): KilnError {
  return new KilnError(
    "ERR_NAR_CONTENTS_STALE",
    `contents of ${JSON.stringify(path)} read after the parser moved on`,
    { hint: "consume each file's contents before asking for the next event" },
  );
}

/** Why a name cannot follow `previous` in a directory, or undefined when it can. */
function nameProblem(name: Uint8Array, previous: Uint8Array | undefined): string | undefined {
  const shown = JSON.stringify(decoder.decode(name));
  if (name.length === 0) return "empty entry name";
  if (name.length <= 2 && name.every((byte) => byte === 0x2e)) return `invalid entry name ${shown}`;
  if (name.includes(0x2f)) return `entry name ${shown} contains "/"`;
  if (name.includes(0)) return `entry name ${shown} contains NUL`;
  if (previous !== undefined) {
    const order = Buffer.compare(previous, name);
    if (order === 0) return `duplicate entry ${shown}`;
    if (order > 0) return `entry ${shown} is out of order`;
  }
  return undefined;
}

function child(dir: OpenDirectory, name: Uint8Array): Node {
  if (dir.rawPath.length === 0) return { path: decoder.decode(name), rawPath: name };
  const rawPath = new Uint8Array(dir.rawPath.length + 1 + name.length);
  rawPath.set(dir.rawPath);
  rawPath[dir.rawPath.length] = 0x2f;
  rawPath.set(name, dir.rawPath.length + 1);
  return { path: `${dir.path}/${decoder.decode(name)}`, rawPath };
}
