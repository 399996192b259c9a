/**
 * The native NAR walker against the JavaScript one (`narChunks`): the same bytes for random
 * trees, through small rings that wrap and fill many times; errors handed back so that the
 * JavaScript walk can name them; early closes that do not hang. (nar-interop.test.ts checks
 * `hashPath`, which uses the native walker when it is built, against real Nix.)
 *
 * The addon is built by `npm ci` (scripts/build-native.ts). Without it these tests skip
 * loudly, and fail in CI, which must test what users run.
 */
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import {
  chmodSync,
  mkdirSync,
  mkdtempSync,
  rmSync,
  symlinkSync,
  unlinkSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, type TestContext, test } from "node:test";
import fc from "fast-check";
import { materialize, randomTree } from "../test/nar-trees.ts";
import { hashPath } from "./hash-path.ts";
import { FormatError } from "./kiln-error.ts";
import { narChunks } from "./nar-chunks.ts";
import {
  type NativeNarWalkOptions,
  NativeWalkFailed,
  nativeNarAvailable,
  startNativeNarWalk,
} from "./nar-native.ts";

const scratch = mkdtempSync(join(tmpdir(), "kiln-nar-native-test-"));
after(() => rmSync(scratch, { recursive: true, force: true }));
let counter = 0;
const freshPath = () => join(scratch, `t${counter++}`);

function requireAddon(t: TestContext): boolean {
  if (nativeNarAvailable()) return true;
  const message = "the native NAR walker is not built (node scripts/build-native.ts)";
  if (process.env.CI === "true") throw new Error(`${message}; CI must build it (npm ci does)`);
  process.stderr.write(`\n!!! SKIPPED: ${message}: its tests cannot run.\n\n`);
  t.skip(message);
  return false;
}

/** The whole archive from the native walker, and the size it reports. */
function nativeNar(path: string, options?: NativeNarWalkOptions): { nar: Buffer; size: number } {
  const walk = startNativeNarWalk(path, options);
  assert.ok(walk);
  const chunks: Buffer[] = [];
  const iterator = walk.chunks();
  for (;;) {
    const step = iterator.next();
    if (step.done) return { nar: Buffer.concat(chunks), size: step.value };
    // Chunks are views of the ring: copy before the next step overwrites them.
    chunks.push(Buffer.from(step.value));
  }
}

const javascriptNar = (path: string) => Buffer.concat([...narChunks(path)]);

test("the native walk writes the same archive as narChunks for random trees", (t) => {
  if (!requireAddon(t)) return;
  fc.assert(
    fc.property(
      randomTree,
      fc.constantFrom(
        { slotSize: 4096, slots: 2 },
        { slotSize: 4096, slots: 3 },
        { slotSize: 65536, slots: 4 },
        {},
      ),
      (tree, options) => {
        const path = freshPath();
        materialize(tree, path);
        const expected = javascriptNar(path);
        const { nar, size } = nativeNar(path, options);
        assert.equal(size, expected.length);
        assert.ok(nar.equals(expected), "native archive differs from narChunks");
      },
    ),
    { numRuns: 60 },
  );
});

test("chunks fill their slot, a large file crosses many slots, and the size is the archive's", (t) => {
  if (!requireAddon(t)) return;
  const root = freshPath();
  mkdirSync(root);
  const big = Buffer.alloc(3 * 65536 + 12345, 7);
  writeFileSync(join(root, "big"), big);
  chmodSync(join(root, "big"), 0o755);
  writeFileSync(join(root, "small"), "x");
  const walk = startNativeNarWalk(root, { slotSize: 65536, slots: 2 });
  assert.ok(walk);
  const lengths: number[] = [];
  const iterator = walk.chunks();
  let step = iterator.next();
  for (; !step.done; step = iterator.next()) lengths.push(step.value.length);
  assert.deepEqual(
    lengths.slice(0, -1).filter((length) => length !== 65536),
    [],
    "every chunk but the last fills its slot",
  );
  assert.equal(step.value, javascriptNar(root).length);
  assert.equal(
    lengths.reduce((a, b) => a + b),
    step.value,
  );
});

test("a walk that meets a fifo, a missing path or a socket fails, and hashPath reports it as narChunks does", async (t) => {
  if (!requireAddon(t)) return;
  const withFifo = freshPath();
  mkdirSync(withFifo);
  writeFileSync(join(withFifo, "a"), "a");
  assert.equal(spawnSync("mkfifo", [join(withFifo, "b-fifo")]).status, 0);
  const missing = join(scratch, "no-such-tree");
  for (const path of [withFifo, missing]) {
    assert.throws(() => nativeNar(path), NativeWalkFailed);
    let expected: unknown;
    try {
      javascriptNar(path);
    } catch (error) {
      expected = error;
    }
    assert.ok(expected instanceof Error);
    await assert.rejects(hashPath(path), (error: Error) => {
      assert.equal(error.constructor, expected.constructor);
      assert.equal(error.message, expected.message);
      return true;
    });
  }
  await assert.rejects(hashPath(withFifo), FormatError);
  await assert.rejects(hashPath(missing), { code: "ENOENT" });
});

test("roots that are a file or a symlink are archived as themselves, not followed", (t) => {
  if (!requireAddon(t)) return;
  const file = freshPath();
  writeFileSync(file, "contents\n");
  chmodSync(file, 0o700);
  const link = freshPath();
  symlinkSync(file, link);
  const empty = freshPath();
  mkdirSync(empty);
  for (const path of [file, link, empty])
    assert.ok(nativeNar(path).nar.equals(javascriptNar(path)), path);
});

test("closing a walk early stops its thread, and the next walk works", (t) => {
  if (!requireAddon(t)) return;
  const root = freshPath();
  mkdirSync(root);
  for (let i = 0; i < 40; i++) writeFileSync(join(root, `f${i}`), Buffer.alloc(10_000, i));
  for (let round = 0; round < 20; round++) {
    const walk = startNativeNarWalk(root, { slotSize: 4096, slots: 2 });
    assert.ok(walk);
    const iterator = walk.chunks();
    assert.equal(iterator.next().done, false);
    // The walker is now blocked on a full ring: close must wake it and join it.
    walk.close();
    walk.close();
    assert.throws(() => iterator.next(), /closed/);
  }
  // Started and never read: closed, as a caller does after an error of its own.
  startNativeNarWalk(root)?.close();
  assert.ok(nativeNar(root).nar.equals(javascriptNar(root)));
});

test("a file that shrinks or changes while being walked is not archived as it was", (t) => {
  if (!requireAddon(t)) return;
  const root = freshPath();
  mkdirSync(root);
  writeFileSync(join(root, "a"), Buffer.alloc(300_000, 1));
  writeFileSync(join(root, "b"), "b");
  const walk = startNativeNarWalk(root, { slotSize: 4096, slots: 2 });
  assert.ok(walk);
  const iterator = walk.chunks();
  iterator.next();
  // The walker is inside "a" (blocked on the full ring): truncate it under its feet.
  writeFileSync(join(root, "a"), "");
  unlinkSync(join(root, "b"));
  assert.throws(
    () => {
      for (let step = iterator.next(); !step.done; step = iterator.next());
    },
    (error: Error) => error instanceof NativeWalkFailed && /shrank/.test(error.message),
  );
});

test("KILN_NATIVE_NAR=0 turns the native walker off", (t) => {
  if (!requireAddon(t)) return;
  const probe = `import { nativeNarAvailable } from ${JSON.stringify(new URL("./nar-native.ts", import.meta.url).href)}; process.stdout.write(String(nativeNarAvailable()));`;
  const run = (value: string) =>
    spawnSync(process.execPath, ["--input-type=module", "-e", probe], {
      env: { ...process.env, KILN_NATIVE_NAR: value },
      encoding: "utf8",
    }).stdout;
  assert.equal(run("0"), "false");
  assert.equal(run("1"), "true");
});
