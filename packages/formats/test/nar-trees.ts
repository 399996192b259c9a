/**
 * Test support for the NAR tests: the conformance vectors of fixtures/nar.json, a tree model
 * that can be written to disk (names and targets as raw bytes), an independent reference
 * serialiser written straight from FORMATS.md §1, a builder for hand-made (malformed)
 * archives, and random trees for property tests.
 */
import { createHash } from "node:crypto";
import { chmodSync, mkdirSync, readFileSync, symlinkSync, writeFileSync } from "node:fs";
import fc from "fast-check";

/** A node of fixtures/nar.json. */
export type VectorNode =
  | {
      type: "regular" | "executable";
      contents?: string;
      generated?: { seed: string; size: number };
    }
  | { type: "symlink"; target: string }
  | { type: "directory"; entries: { name: string; node: VectorNode }[] };

export interface NarVector {
  readonly id: string;
  readonly description: string;
  readonly tree: VectorNode;
  readonly narSize: number;
  readonly narSha256: { readonly nix32: string; readonly hex: string };
  /** base64; absent for the big generated cases. */
  readonly nar?: string;
}

export function loadNarVectors(): NarVector[] {
  const url = new URL("./fixtures/nar.json", import.meta.url);
  return JSON.parse(readFileSync(url, "utf8")) as NarVector[];
}

/** The vectors' `sha256-counter` generator: SHA256(seed:0) || SHA256(seed:1) || … cut to size. */
export function generatedBytes(seed: string, size: number): Uint8Array {
  const out = new Uint8Array(size);
  for (let i = 0, offset = 0; offset < size; i++, offset += 32) {
    const block = createHash("sha256").update(`${seed}:${i}`).digest();
    out.set(block.subarray(0, Math.min(32, size - offset)), offset);
  }
  return out;
}

/** A file-system tree; names and targets may be raw bytes (not UTF-8). */
export type TreeNode =
  | { type: "regular"; contents: Uint8Array; executable?: boolean }
  | { type: "symlink"; target: string | Uint8Array }
  | { type: "directory"; entries: { name: string | Uint8Array; node: TreeNode }[] };

export function fromVector(node: VectorNode): TreeNode {
  switch (node.type) {
    case "regular":
    case "executable": {
      const contents = node.generated
        ? generatedBytes(node.generated.seed, node.generated.size)
        : new Uint8Array(Buffer.from(node.contents ?? "", "base64"));
      return { type: "regular", contents, executable: node.type === "executable" };
    }
    case "symlink":
      return { type: "symlink", target: node.target };
    case "directory":
      return {
        type: "directory",
        entries: node.entries.map(({ name, node }) => ({ name, node: fromVector(node) })),
      };
  }
}

/** Writes `node` at `path` (which must not exist). */
export function materialize(node: TreeNode, path: string | Buffer): void {
  switch (node.type) {
    case "regular":
      writeFileSync(path, node.contents);
      chmodSync(path, node.executable ? 0o755 : 0o644);
      return;
    case "symlink":
      symlinkSync(Buffer.from(node.target), path);
      return;
    case "directory":
      mkdirSync(path);
      for (const entry of node.entries) {
        materialize(
          entry.node,
          Buffer.concat([Buffer.from(path), Buffer.from("/"), Buffer.from(entry.name)]),
        );
      }
  }
}

function u64(value: number): Buffer {
  const out = Buffer.alloc(8);
  out.writeBigUInt64LE(BigInt(value));
  return out;
}

/** `str(s)` exactly as FORMATS.md §1 defines it. */
export function str(value: string | Uint8Array): Buffer {
  const bytes = Buffer.from(value);
  return Buffer.concat([u64(bytes.length), bytes, Buffer.alloc((8 - (bytes.length % 8)) % 8)]);
}

/** Concatenates `str` of each token: a hand-made archive, valid or not. */
export function tokens(...values: (string | Uint8Array)[]): Buffer {
  return Buffer.concat(values.map(str));
}

/** Reference serialisation of a tree (entries sorted by raw bytes), independent of the writer. */
export function referenceNar(node: TreeNode): Buffer {
  return Buffer.concat([str("nix-archive-1"), referenceNode(node)]);
}

function referenceNode(node: TreeNode): Buffer {
  switch (node.type) {
    case "regular":
      return tokens(
        "(",
        "type",
        "regular",
        ...(node.executable ? ["executable", ""] : []),
        "contents",
        node.contents,
        ")",
      );
    case "symlink":
      return tokens("(", "type", "symlink", "target", Buffer.from(node.target), ")");
    case "directory": {
      const entries = [...node.entries].sort((a, b) =>
        Buffer.compare(Buffer.from(a.name), Buffer.from(b.name)),
      );
      return Buffer.concat([
        tokens("(", "type", "directory"),
        ...entries.map((entry) =>
          Buffer.concat([
            tokens("entry", "(", "name", Buffer.from(entry.name), "node"),
            referenceNode(entry.node),
            str(")"),
          ]),
        ),
        str(")"),
      ]);
    }
  }
}

/** All chunks of a stream, concatenated. */
export async function collect(
  chunks: AsyncIterable<Uint8Array> | Iterable<Uint8Array>,
): Promise<Buffer> {
  const parts: Uint8Array[] = [];
  for await (const chunk of chunks) parts.push(chunk);
  return Buffer.concat(parts);
}

/** The bytes cut into pieces of the given sizes (cycled), as a stream. */
export async function* chunked(
  bytes: Uint8Array,
  sizes: readonly number[],
): AsyncGenerator<Uint8Array> {
  let offset = 0;
  for (let i = 0; offset < bytes.length; i++) {
    const size = Math.max(1, sizes[i % sizes.length] ?? bytes.length);
    yield bytes.subarray(offset, offset + size);
    offset += size;
  }
}

const name = fc.oneof(
  fc.constantFrom(
    "-",
    "-x",
    ".hidden",
    "A",
    "B",
    "Z",
    "_",
    "a",
    "a.b",
    "a-b",
    "~",
    "é",
    "ä",
    "x y",
    "..a",
    "a..",
  ),
  fc
    .string({
      unit: fc.constantFrom("a", "b", "A", "Z", "0", "-", "_", ".", "~", " ", "é", "日"),
      minLength: 1,
      maxLength: 6,
    })
    .filter((text) => text !== "." && text !== ".."),
  fc.constant(new Uint8Array([0x62, 0xe9])), // latin1 "bé": not UTF-8
);

const contents = fc.oneof(
  { weight: 4, arbitrary: fc.uint8Array({ maxLength: 64 }) },
  { weight: 1, arbitrary: fc.constant(new Uint8Array(0)) },
  {
    weight: 1,
    arbitrary: fc
      .integer({ min: 1, max: 300_000 })
      .map((size) => new Uint8Array(size).map((_, i) => (i * 7 + (i >> 8)) & 0xff)),
  },
);

const symlinkTarget = fc.oneof(
  fc.constantFrom(
    "/nix/store/eeeeeeeeeeeeeeeeeeeeeeeeeeeeeeee-missing/bin/x",
    "../up",
    "/",
    ".",
    "sibling",
    "/tmp/dangling/é",
  ),
  name,
);

/**
 * Random trees for property tests: nested and empty directories, empty, executable and
 * larger files, dangling, absolute and relative symlinks, names that sort in surprising
 * ways, non-ASCII names and bytes that are not UTF-8.
 */
export const { tree: randomTree } = fc.letrec<{ tree: TreeNode; directory: TreeNode }>((tie) => ({
  tree: fc.oneof(
    { depthSize: "small", withCrossShrink: true },
    fc.record({ type: fc.constant("regular" as const), contents, executable: fc.boolean() }),
    fc.record({ type: fc.constant("symlink" as const), target: symlinkTarget }),
    tie("directory"),
  ),
  directory: fc
    .uniqueArray(fc.record({ name, node: tie("tree") }), {
      maxLength: 6,
      selector: (entry) => Buffer.from(entry.name).toString("hex"),
    })
    .map((entries) => ({ type: "directory" as const, entries })),
}));
