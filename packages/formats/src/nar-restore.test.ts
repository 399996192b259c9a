import assert from "node:assert/strict";
import {
  existsSync,
  lstatSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readlinkSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, test } from "node:test";
import fc from "fast-check";
import {
  chunked,
  collect,
  fromVector,
  loadNarVectors,
  referenceNar,
  type TreeNode,
  tokens,
} from "../test/nar-trees.ts";
import { FormatError, KilnError } from "./kiln-error.ts";
import type { NarEvent } from "./nar-reader.ts";
import { restoreNar, restoreNarEvents } from "./nar-restore.ts";
import { dumpPath } from "./nar-writer.ts";

const vectors = loadNarVectors();
const scratch = mkdtempSync(join(tmpdir(), "kiln-nar-restore-"));
after(() => rmSync(scratch, { recursive: true, force: true }));
let counter = 0;
/** A fresh empty parent directory, so that "nothing left behind" can be checked exactly. */
function freshParent(): string {
  const dir = join(scratch, `p${counter++}`);
  mkdirSync(dir);
  return dir;
}

const MAGIC = "nix-archive-1";
const file = (contents: string) => ["(", "type", "regular", "contents", contents, ")"];

test("every vector restores to a tree that dumps to the same bytes", async () => {
  for (const vector of vectors) {
    const nar = vector.nar
      ? Buffer.from(vector.nar, "base64")
      : referenceNar(fromVector(vector.tree));
    const parent = freshParent();
    const target = join(parent, "out");
    await restoreNar(chunked(nar, [4093]), target);
    assert.deepEqual(await collect(dumpPath(target)), nar, vector.id);
    assert.deepEqual(readdirSync(parent), ["out"], vector.id);
  }
});

test("modes are exactly 0755 for executables and 0644 otherwise; symlinks verbatim", async () => {
  const parent = freshParent();
  const nested = vectors.find((v) => v.id === "dir-nested")!;
  const target = join(parent, "out");
  await restoreNar([Buffer.from(nested.nar!, "base64")], target);
  assert.equal(lstatSync(join(target, "sub/run")).mode & 0o777, 0o755);
  assert.equal(lstatSync(join(target, "top.txt")).mode & 0o777, 0o644);
  assert.ok(lstatSync(join(target, "sub/deeper/empty-dir")).isDirectory());
  assert.equal(readlinkSync(join(target, "sub/link-to-top")), "../top.txt");
});

test("names and targets that are not UTF-8 survive a round trip", async () => {
  const tree: TreeNode = {
    type: "directory",
    entries: [
      { name: Buffer.from([0x66, 0xff]), node: { type: "regular", contents: Buffer.from("x") } },
      { name: "link", node: { type: "symlink", target: Buffer.from([0x2f, 0xfe, 0x41]) } },
    ],
  };
  const nar = referenceNar(tree);
  const target = join(freshParent(), "out");
  await restoreNar([nar], target);
  assert.deepEqual(await collect(dumpPath(target)), nar);
});

test("an existing target is refused and left alone", async () => {
  const parent = freshParent();
  const target = join(parent, "out");
  writeFileSync(target, "precious");
  await assert.rejects(
    restoreNar([referenceNar(fromVector(vectors[0].tree))], target),
    (error: unknown) => {
      assert.ok(error instanceof KilnError);
      assert.equal(error.code, "ERR_NAR_TARGET_EXISTS");
      return true;
    },
  );
  assert.deepEqual(readdirSync(parent), ["out"]);
});

test("a symlink followed by an entry of the same name never writes through the link", async () => {
  const outside = join(freshParent(), "outside");
  mkdirSync(outside);
  const attempts = [
    // symlink a, then a directory a holding a file: duplicate entry
    [
      "entry",
      "(",
      "name",
      "a",
      "node",
      "(",
      "type",
      "symlink",
      "target",
      outside,
      ")",
      ")",
      "entry",
      "(",
      "name",
      "a",
      "node",
      "(",
      "type",
      "directory",
      "entry",
      "(",
      "name",
      "x",
      "node",
      ...file("pwned"),
      ")",
      ")",
      ")",
    ],
    // symlink a, then a file a: duplicate entry
    [
      "entry",
      "(",
      "name",
      "a",
      "node",
      "(",
      "type",
      "symlink",
      "target",
      outside,
      ")",
      ")",
      "entry",
      "(",
      "name",
      "a",
      "node",
      ...file("pwned"),
      ")",
    ],
    // symlink a, then a name through it
    [
      "entry",
      "(",
      "name",
      "a",
      "node",
      "(",
      "type",
      "symlink",
      "target",
      outside,
      ")",
      ")",
      "entry",
      "(",
      "name",
      "a/x",
      "node",
      ...file("pwned"),
      ")",
    ],
    // a name that climbs out
    ["entry", "(", "name", "..", "node", ...file("pwned"), ")"],
  ];
  for (const body of attempts) {
    const parent = freshParent();
    const nar = tokens(MAGIC, "(", "type", "directory", ...body, ")");
    await assert.rejects(restoreNar([nar], join(parent, "out")), FormatError);
    assert.deepEqual(readdirSync(parent), [], "nothing left behind");
    assert.deepEqual(readdirSync(outside), [], "nothing written through the symlink");
  }
});

test("a failure in the middle of a large file removes the temporary tree", async () => {
  const big = vectors.find((v) => v.id === "dir-with-1MiB-file")!;
  const nar = referenceNar(fromVector(big.tree));
  const parent = freshParent();
  await assert.rejects(
    restoreNar(chunked(nar.subarray(0, 600_000), [65536]), join(parent, "out")),
    /truncated archive/,
  );
  assert.deepEqual(readdirSync(parent), []);
});

test("a slow source restores correctly", async () => {
  const nar = Buffer.from(vectors.find((v) => v.id === "dir-mixed")!.nar!, "base64");
  async function* slow() {
    for await (const chunk of chunked(nar, [13])) {
      await new Promise((resolve) => setTimeout(resolve, 0));
      yield chunk;
    }
  }
  const target = join(freshParent(), "out");
  await restoreNar(slow(), target);
  assert.deepEqual(await collect(dumpPath(target)), nar);
});

test("fuzz: malformed archives leave the parent directory exactly as it was", async () => {
  const seeds = vectors.filter((v) => v.nar).map((v) => Buffer.from(v.nar!, "base64"));
  const parent = freshParent();
  writeFileSync(join(parent, "bystander"), "keep");
  let rejected = 0;
  await fc.assert(
    fc.asyncProperty(
      fc.constantFrom(...seeds),
      fc.nat(),
      fc.integer({ min: 0, max: 255 }),
      fc.nat(),
      async (seed, at, byte, cut) => {
        const nar = Buffer.from(seed);
        nar[at % nar.length] = byte;
        const input = nar.subarray(0, nar.length - (cut % 3 === 0 ? cut % nar.length : 0));
        const target = join(parent, "out");
        try {
          await restoreNar(chunked(input, [17]), target);
        } catch (error) {
          assert.ok(error instanceof FormatError, String(error));
          rejected++;
          assert.deepEqual(readdirSync(parent), ["bystander"]);
          return;
        }
        // Accepted: the restored tree is exactly the archive.
        assert.deepEqual(await collect(dumpPath(target)), Buffer.from(input));
        rmSync(target, { recursive: true });
      },
    ),
    { numRuns: 150 },
  );
  assert.ok(rejected > 50, `only ${rejected} archives were rejected`);
  assert.equal(existsSync(join(parent, "out")), false);
});

test("the restorer's own checks stop hostile events even without the parser", async () => {
  const outside = join(freshParent(), "outside");
  mkdirSync(outside);
  const raw = (path: string) => new Uint8Array(Buffer.from(path));
  const dir = (path: string): NarEvent => ({ type: "directory", path, rawPath: raw(path) });
  const link = (path: string, target: string): NarEvent => ({
    type: "symlink",
    path,
    rawPath: raw(path),
    target,
    rawTarget: raw(target),
  });
  const regular = (path: string): NarEvent => ({
    type: "regular",
    path,
    rawPath: raw(path),
    executable: false,
    size: 5,
    narOffset: 0,
    contents: (async function* () {
      yield Buffer.from("pwned");
    })(),
  });
  const hostile: NarEvent[][] = [
    [dir(""), link("a", outside), regular("a/x")],
    [dir(""), link("a", outside), dir("a")],
    [dir(""), link("a", outside), dir("a/b")],
    [dir(""), regular("../x")],
    [dir(""), regular("b/c")],
    [dir(""), dir("")],
    [regular(""), regular("x")],
  ];
  for (const events of hostile) {
    const parent = freshParent();
    async function* source() {
      yield* events;
    }
    await assert.rejects(restoreNarEvents(source(), join(parent, "out")), {
      code: "ERR_NAR_UNSAFE_PATH",
    });
    assert.deepEqual(readdirSync(parent), []);
    assert.deepEqual(readdirSync(outside), []);
  }
});

test("writing big files back while restoring gives the same tree", async () => {
  const parent = freshParent();
  const source = join(parent, "source");
  mkdirSync(source);
  const big = Buffer.alloc(3 * 2 ** 20 + 123);
  for (let i = 0; i < big.length; i += 4096) big[i] = i % 251;
  writeFileSync(join(source, "big"), big);
  writeFileSync(join(source, "small"), "small\n");
  const nar = await collect(dumpPath(source));
  const target = join(parent, "target");
  await restoreNar(chunked(nar, [65536]), target, { writeBackBytes: 256 * 1024 });
  assert.deepEqual(await collect(dumpPath(target)), nar);
});

test("a canonical restore gives the store's modes and mtimes, and the same NAR", async () => {
  const parent = freshParent();
  const source = join(parent, "source");
  mkdirSync(join(source, "bin"), { recursive: true });
  writeFileSync(join(source, "bin", "tool"), "#!/bin/sh\n", { mode: 0o755 });
  writeFileSync(join(source, "data"), "data\n");
  symlinkSync("data", join(source, "link"));
  const nar = await collect(dumpPath(source));
  const target = join(parent, "target");
  await restoreNar(chunked(nar, [100]), target, { canonical: true });
  assert.deepEqual(await collect(dumpPath(target)), nar);
  const expected: Record<string, number> = {
    "": 0o555,
    bin: 0o555,
    "bin/tool": 0o555,
    data: 0o444,
  };
  for (const [name, mode] of Object.entries(expected)) {
    const stat = lstatSync(join(target, name));
    assert.equal(stat.mode & 0o7777, mode, name);
    assert.equal(stat.mtimeMs, 1000, name);
  }
  assert.equal(lstatSync(join(target, "link")).mtimeMs, 1000);

  const broken = join(parent, "broken");
  await assert.rejects(
    restoreNar(chunked(nar.subarray(0, nar.length - 40), [100]), broken, { canonical: true }),
  );
  assert.deepEqual(readdirSync(parent).sort(), ["source", "target"]);
});
