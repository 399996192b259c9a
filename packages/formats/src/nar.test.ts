import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { createServer, type Server } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, test } from "node:test";
import fc from "fast-check";
import {
  chunked,
  collect,
  fromVector,
  loadNarVectors,
  materialize,
  referenceNar,
  type TreeNode,
  tokens,
} from "../test/nar-trees.ts";
import { hashPath } from "./hash-path.ts";
import { FormatError, KilnError } from "./kiln-error.ts";
import { catNar } from "./nar-cat.ts";
import { listNar } from "./nar-listing.ts";
import { type NarEvent, parseNar } from "./nar-reader.ts";
import { dumpPath } from "./nar-writer.ts";
import { encodeNix32 } from "./nix32.ts";

const vectors = loadNarVectors();
const scratch = mkdtempSync(join(tmpdir(), "kiln-nar-test-"));
after(() => rmSync(scratch, { recursive: true, force: true }));
let counter = 0;
const freshPath = () => join(scratch, `t${counter++}`);

/** The NAR of a vector: its bytes when given, else the reference serialisation. */
function vectorNar(id: string): Buffer {
  const vector = vectors.find((v) => v.id === id);
  assert.ok(vector, id);
  return vector.nar ? Buffer.from(vector.nar, "base64") : referenceNar(fromVector(vector.tree));
}

/** Rebuilds a tree from parser events (reading every file's contents). */
async function treeFromEvents(events: AsyncIterable<NarEvent>): Promise<TreeNode> {
  const nodes = new Map<string, TreeNode>();
  for await (const event of events) {
    let node: TreeNode;
    if (event.type === "directory") node = { type: "directory", entries: [] };
    else if (event.type === "symlink") node = { type: "symlink", target: event.rawTarget };
    else {
      const contents = await collect(event.contents);
      assert.equal(contents.length, event.size);
      node = { type: "regular", contents, executable: event.executable };
    }
    nodes.set(event.path, node);
    if (event.rawPath.length > 0) {
      const raw = Buffer.from(event.rawPath);
      const slash = raw.lastIndexOf(0x2f);
      const parent = nodes.get(slash < 0 ? "" : event.path.slice(0, event.path.lastIndexOf("/")));
      assert.equal(parent?.type, "directory");
      if (parent?.type === "directory")
        parent.entries.push({ name: raw.subarray(slash + 1), node });
    }
  }
  const root = nodes.get("");
  assert.ok(root);
  return root;
}

test("dumpPath and hashPath reproduce every Nix vector", async () => {
  for (const vector of vectors) {
    const path = freshPath();
    materialize(fromVector(vector.tree), path);
    const nar = await collect(dumpPath(path));
    if (vector.nar) assert.deepEqual(nar, Buffer.from(vector.nar, "base64"), vector.id);
    assert.equal(nar.length, vector.narSize, vector.id);
    assert.equal(createHash("sha256").update(nar).digest("hex"), vector.narSha256.hex, vector.id);
    const { hash, narSize } = await hashPath(path);
    assert.equal(hash.algorithm, "sha256");
    assert.equal(encodeNix32(hash.digest), vector.narSha256.nix32, vector.id);
    assert.equal(narSize, vector.narSize, vector.id);
  }
});

test("hashPath supports other algorithms", async () => {
  const path = freshPath();
  materialize(fromVector(vectors[0].tree), path);
  const { hash } = await hashPath(path, "sha512");
  const expected = createHash("sha512").update(vectorNar(vectors[0].id)).digest();
  assert.deepEqual(Buffer.from(hash.digest), expected);
});

test("large files stream in bounded chunks the consumer may keep", async () => {
  const path = freshPath();
  materialize(fromVector(vectors.find((v) => v.id === "dir-with-1MiB-file")!.tree), path);
  const chunks: Uint8Array[] = [];
  for await (const chunk of dumpPath(path, { highWaterMark: 1 << 16 })) {
    assert.ok(chunk.length <= 1 << 16);
    chunks.push(chunk); // kept without copying: later chunks must not overwrite it
    await new Promise((resolve) => setImmediate(resolve)); // a slow consumer
  }
  assert.ok(chunks.length >= 16);
  assert.deepEqual(Buffer.concat(chunks), vectorNar("dir-with-1MiB-file"));
});

test("a top-level symlink is archived as a symlink, not followed", async () => {
  const dir = freshPath();
  mkdirSync(dir);
  writeFileSync(join(dir, "file"), "x");
  symlinkSync(dir, `${dir}-link`);
  const nar = await collect(dumpPath(`${dir}-link`));
  assert.deepEqual(nar, referenceNar({ type: "symlink", target: dir }));
});

test("names are raw bytes, sorted bytewise, and need not be UTF-8", async () => {
  const file = (text: string): TreeNode => ({ type: "regular", contents: Buffer.from(text) });
  const tree: TreeNode = {
    type: "directory",
    entries: [
      { name: Buffer.from([0x61, 0xff]), node: file("latin1") },
      { name: "é", node: file("e acute") },
      { name: "~", node: file("tilde") },
      { name: "a", node: { type: "symlink", target: Buffer.from([0x2f, 0xfe]) } },
      { name: "_", node: file("underscore") },
      { name: "B", node: { type: "directory", entries: [] } },
      { name: "-x", node: file("dash") },
    ],
  };
  const path = freshPath();
  materialize(tree, path);
  const nar = await collect(dumpPath(path));
  assert.deepEqual(nar, referenceNar(tree));
  assert.deepEqual(referenceNar(await treeFromEvents(parseNar([nar]))), nar);
});

test("sockets and fifos are rejected with an error naming the path", async (t) => {
  const dir = freshPath();
  mkdirSync(dir);
  writeFileSync(join(dir, "fine"), "x");
  const socketPath = join(dir, "sock");
  const server: Server = createServer();
  await new Promise<void>((resolve) => server.listen(socketPath, resolve));
  t.after(() => server.close());
  await assert.rejects(collect(dumpPath(dir)), (error: unknown) => {
    assert.ok(error instanceof FormatError);
    assert.match(error.message, /sock: it is a socket/);
    assert.ok(error.message.includes(socketPath));
    return true;
  });
  await assert.rejects(hashPath(dir), /is a socket/);
  if (spawnSync("mkfifo", [join(scratch, "fifo")]).status === 0) {
    await assert.rejects(hashPath(join(scratch, "fifo")), /fifo: it is a fifo/);
  }
});

test("parseNar reads every vector back to the same tree, however the input is chunked", async () => {
  for (const vector of vectors) {
    const nar = vectorNar(vector.id);
    const tree = await treeFromEvents(parseNar([nar]));
    assert.deepEqual(referenceNar(tree), nar, vector.id);
    assert.deepEqual(tree, fromVectorSorted(fromVector(vector.tree)), vector.id);
  }
  const nar = vectorNar("dir-nested");
  await fc.assert(
    fc.asyncProperty(fc.array(fc.integer({ min: 1, max: 40 }), { minLength: 1 }), async (sizes) => {
      const tree = await treeFromEvents(parseNar(chunked(nar, sizes)));
      assert.deepEqual(referenceNar(tree), nar);
    }),
    { numRuns: 100 },
  );
});

function fromVectorSorted(node: TreeNode): TreeNode {
  if (node.type !== "directory") {
    if (node.type === "regular")
      return { ...node, contents: Buffer.from(node.contents), executable: !!node.executable };
    return { type: "symlink", target: Buffer.from(node.target) };
  }
  const entries = node.entries
    .map((entry) => ({ name: Buffer.from(entry.name), node: fromVectorSorted(entry.node) }))
    .sort((a, b) => Buffer.compare(a.name, b.name));
  return { type: "directory", entries };
}

test("file contents may be skipped, and are streamed as views with their offset", async () => {
  const nar = vectorNar("dir-with-1MiB-file");
  const seen: string[] = [];
  for await (const event of parseNar(chunked(nar, [4096]))) {
    seen.push(`${event.type} ${event.path}`);
    if (event.type === "regular") {
      assert.equal(nar.readUInt32LE(event.narOffset - 8), event.size);
    }
  }
  assert.deepEqual(seen, ["directory ", "regular big.bin", "regular small.txt"]);
});

test("listNar lists like nix nar ls -R, optionally below a path", async () => {
  const nar = vectorNar("dir-mixed");
  const entries = await listNar([nar]);
  assert.deepEqual(
    entries.map((e) => `${e.type} ${e.path}`),
    [
      "directory ",
      "regular README",
      "directory bin",
      "regular bin/tool",
      "regular data.bin",
      "regular empty",
      "symlink lib",
    ],
  );
  assert.deepEqual(entries[3], {
    type: "regular",
    path: "bin/tool",
    size: 17,
    executable: true,
    narOffset: entries[3].type === "regular" ? entries[3].narOffset : 0,
  });
  assert.deepEqual(await listNar([nar], { path: "/bin" }), [entries[2], entries[3]]);
  assert.deepEqual(await listNar([nar], { path: "lib" }), [
    { type: "symlink", path: "lib", target: "bin" },
  ]);
  await assert.rejects(listNar([nar], { path: "/nope" }), { code: "ERR_NAR_PATH_NOT_FOUND" });
});

test("catNar streams one regular file and refuses anything else", async () => {
  const nar = vectorNar("dir-mixed");
  assert.equal((await collect(catNar([nar], "/bin/tool"))).toString(), "#!/bin/sh\nexit 0\n");
  assert.equal((await collect(catNar(chunked(nar, [7]), "empty"))).length, 0);
  await assert.rejects(collect(catNar([nar], "bin")), { code: "ERR_NAR_NOT_REGULAR" });
  await assert.rejects(collect(catNar([nar], "lib")), { code: "ERR_NAR_NOT_REGULAR" });
  await assert.rejects(collect(catNar([nar], "missing")), { code: "ERR_NAR_PATH_NOT_FOUND" });
  assert.equal((await collect(catNar([vectorNar("regular-hello")], "/"))).toString(), "hello\n");
});

const MAGIC = "nix-archive-1";
const u64 = (value: bigint) => {
  const out = Buffer.alloc(8);
  out.writeBigUInt64LE(value);
  return out;
};
const file = (...rest: string[]) => ["(", "type", "regular", "contents", ...rest, ")"];
const entry = (name: string | Uint8Array) => [
  "entry",
  "(",
  "name",
  name,
  "node",
  ...file("x"),
  ")",
];
const dir = (...names: (string | Uint8Array)[]) =>
  tokens(MAGIC, "(", "type", "directory", ...names.flatMap(entry), ")");
const hello = vectorNar("regular-hello");

const malformed: [string, Uint8Array, RegExp][] = [
  ["bad magic", tokens("nix-archive-2", ...file("x")), /bad magic at byte 0/],
  ["empty input", new Uint8Array(0), /truncated archive: magic/],
  [
    "unknown node type",
    tokens(MAGIC, "(", "type", "fifo", ")"),
    /unknown node type "fifo" at byte 56/,
  ],
  [
    "unknown token",
    tokens(MAGIC, "(", "type", "regular", "size", "x", ")"),
    /expected "executable" or "contents", found "size"/,
  ],
  [
    "bad executable marker",
    tokens(MAGIC, "(", "type", "regular", "executable", "1", "contents", "", ")"),
    /expected "", found "1"/,
  ],
  [
    "unknown directory token",
    tokens(MAGIC, "(", "type", "directory", "entry2", ")"),
    /expected "entry" or "\)"/,
  ],
  ["unsorted entries", dir("b", "a"), /entry "a" is out of order/],
  ["duplicate entries", dir("a", "a"), /duplicate entry "a"/],
  ["empty name", dir(""), /empty entry name/],
  ["dot", dir("."), /invalid entry name "\."/],
  ["dot dot", dir(".."), /invalid entry name "\.\."/],
  ["slash", dir("a/b"), /entry name "a\/b" contains "\/"/],
  ["NUL", dir("a\0b"), /contains NUL/],
  ["over-long name", dir("n".repeat(5000)), /entry name of 5000 bytes is longer than the limit/],
  [
    "over-long token",
    tokens(MAGIC, "(", "t".repeat(100)),
    /token of 100 bytes is longer than the limit of 16 at byte 40/,
  ],
  [
    "absurd length",
    Buffer.concat([tokens(MAGIC, "(", "type", "regular", "contents"), u64(1n << 60n)]),
    /absurd length of file size at byte 88/,
  ],
  [
    "huge contents, truncated",
    Buffer.concat([tokens(MAGIC, "(", "type", "regular", "contents"), u64(1n << 50n)]),
    /truncated archive: file contents/,
  ],
  ["truncated by one byte", hello.subarray(0, hello.length - 1), /truncated archive/],
  [
    "truncated in contents",
    hello.subarray(0, 100),
    /truncated archive: file contents is cut short at byte 100 in the root/,
  ],
  [
    "trailing bytes",
    Buffer.concat([hello, Buffer.alloc(8)]),
    /trailing bytes after the archive at byte 120/,
  ],
  ["one trailing byte", Buffer.concat([hello, Buffer.from([1])]), /trailing bytes/],
  [
    "non-zero padding",
    Buffer.concat([hello.subarray(0, 102), Buffer.from([1]), hello.subarray(103)]),
    /non-zero padding after file contents at byte 102/,
  ],
  [
    "empty symlink target",
    tokens(MAGIC, "(", "type", "symlink", "target", "", ")"),
    /empty symlink target/,
  ],
  [
    "NUL in symlink target",
    tokens(MAGIC, "(", "type", "symlink", "target", "a\0", ")"),
    /symlink target contains NUL/,
  ],
  [
    "missing entry close",
    tokens(MAGIC, "(", "type", "directory", "entry", "(", "name", "a", "node", ...file(""), ")"),
    /truncated archive/,
  ],
  ["path too long", deepNar(2100), /path longer than 4096 bytes/],
];

function deepNar(depth: number): Buffer {
  const open = tokens("entry", "(", "name", "a", "node", "(", "type", "directory");
  const close = tokens(")", ")");
  return Buffer.concat([
    tokens(MAGIC, "(", "type", "directory"),
    ...Array(depth).fill(open),
    ...Array(depth).fill(close),
    tokens(")"),
  ]);
}

test("malformed archives are rejected with a FormatError saying what and where", async () => {
  for (const [what, nar, message] of malformed) {
    await assert.rejects(
      treeFromEvents(parseNar(chunked(nar, [5, 3, 64]))),
      (error: unknown) => {
        assert.ok(error instanceof FormatError, `${what}: ${error}`);
        assert.equal(error.code, "ERR_NAR");
        assert.match(error.message, message, what);
        return true;
      },
      what,
    );
  }
});

test("contents cannot be read once the parser has moved on", async () => {
  const events = parseNar([vectorNar("dir-one-file")]);
  await events.next();
  const file = (await events.next()).value;
  assert.equal(file?.type, "regular");
  await events.next();
  if (file?.type === "regular") {
    await assert.rejects(collect(file.contents), { code: "ERR_NAR_CONTENTS_STALE" });
  }
});

/** Parses to the end, reading contents or not; returns the error, if any. */
async function parseAll(
  input: AsyncIterable<Uint8Array> | Iterable<Uint8Array>,
  read: boolean,
): Promise<unknown> {
  try {
    for await (const event of parseNar(input)) {
      if (read && event.type === "regular") await collect(event.contents);
    }
    return undefined;
  } catch (error) {
    return error;
  }
}

test("fuzz: mutated and random archives only ever fail with a FormatError", async () => {
  const seeds = vectors.filter((v) => v.nar).map((v) => Buffer.from(v.nar!, "base64"));
  const mutation = fc.oneof(
    fc.record({ kind: fc.constant("flip"), at: fc.nat(), bit: fc.integer({ min: 0, max: 7 }) }),
    fc.record({ kind: fc.constant("cut"), at: fc.nat() }),
    fc.record({
      kind: fc.constant("insert"),
      at: fc.nat(),
      bytes: fc.uint8Array({ minLength: 1, maxLength: 16 }),
    }),
    fc.record({
      kind: fc.constant("delete"),
      at: fc.nat(),
      count: fc.integer({ min: 1, max: 16 }),
    }),
    fc.record({ kind: fc.constant("set"), at: fc.nat(), byte: fc.integer({ min: 0, max: 255 }) }),
  );
  const input = fc.oneof(
    fc
      .tuple(fc.constantFrom(...seeds), fc.array(mutation, { minLength: 1, maxLength: 4 }))
      .map(([seed, mutations]) => {
        let bytes = Buffer.from(seed);
        for (const m of mutations) {
          const at = m.at % (bytes.length + 1);
          if (m.kind === "flip" && at < bytes.length) bytes[at] ^= 1 << m.bit;
          else if (m.kind === "set" && at < bytes.length) bytes[at] = m.byte;
          else if (m.kind === "cut") bytes = bytes.subarray(0, at);
          else if (m.kind === "insert")
            bytes = Buffer.concat([bytes.subarray(0, at), m.bytes, bytes.subarray(at)]);
          else if (m.kind === "delete")
            bytes = Buffer.concat([bytes.subarray(0, at), bytes.subarray(at + m.count)]);
        }
        return bytes;
      }),
    fc.uint8Array({ maxLength: 300 }),
    fc.uint8Array({ maxLength: 300 }).map((tail) => Buffer.concat([tokens(MAGIC), tail])),
  );
  await fc.assert(
    fc.asyncProperty(
      input,
      fc.array(fc.integer({ min: 1, max: 64 }), { minLength: 1, maxLength: 5 }),
      fc.boolean(),
      async (bytes, sizes, read) => {
        const error = await parseAll(chunked(bytes, sizes), read);
        if (error !== undefined) {
          assert.ok(error instanceof FormatError, String(error));
          assert.ok(!(error instanceof KilnError && error.code !== "ERR_NAR"));
        } else {
          // The parser is strict: whatever it accepts is the canonical serialisation.
          assert.deepEqual(
            referenceNar(await treeFromEvents(parseNar([bytes]))),
            Buffer.from(bytes),
          );
        }
      },
    ),
    { numRuns: 300 },
  );
});
