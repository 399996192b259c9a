import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { KilnError } from "@kiln/formats";
import { StoreDatabase } from "./store-database.ts";

const A = "/gnu/store/aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa-a";
const B = "/gnu/store/bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb-b";
const D = "/gnu/store/dddddddddddddddddddddddddddddddd-b.drv";
const info = (path: string, references: string[] = []) => ({
  path,
  narHash: "sha256:0ip26j2h11n1kgkz36rl4akv694yz65hr72q4kv4b3lxcbi65b3p",
  narSize: 112,
  references,
});

test("paths become valid together with their references, including self-references", () => {
  const db = new StoreDatabase(":memory:");
  db.registerValidPaths([{ info: info(B, [A, B]) }, { info: info(A) }]);
  assert.equal(db.isValidPath(A), true);
  assert.deepEqual(db.queryPathInfo(B)?.references, [A, B]);
  assert.deepEqual(db.referrers(A), [B]);
  assert.equal(db.queryPathFromHashPart("/gnu/store", "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb"), B);
  assert.equal(
    db.queryPathFromHashPart("/gnu/store", "cccccccccccccccccccccccccccccccc"),
    undefined,
  );
});

test("a batch with a missing reference registers nothing", () => {
  const db = new StoreDatabase(":memory:");
  assert.throws(
    () => db.registerValidPaths([{ info: info(A) }, { info: info(B, [D]) }]),
    KilnError,
  );
  assert.equal(db.isValidPath(A), false);
  assert.deepEqual(db.allValidPaths(), []);
});

test("derivation outputs, derivers, signatures, failures and invalidation", () => {
  const file = join(mkdtempSync(join(tmpdir(), "kiln-db-")), "db.sqlite");
  const db = new StoreDatabase(file);
  db.registerValidPaths([{ info: info(D), derivationOutputs: { out: B } }]);
  db.registerValidPaths([{ info: { ...info(B, [A]), deriver: D } }, { info: info(A) }]);
  assert.deepEqual([...db.derivationOutputs(D)], [["out", B]]);
  assert.deepEqual(db.validDerivers(B), [D]);
  assert.equal(db.queryPathInfo(B)?.deriver, D);
  db.addSignatures(B, ["k:1", "k:2"]);
  db.addSignatures(B, ["k:2"]);
  assert.deepEqual(db.queryPathInfo(B)?.sigs, ["k:1", "k:2"]);
  assert.throws(() => db.invalidatePath(A), /refers to it/);
  db.invalidatePath(B);
  db.invalidatePath(A);
  assert.deepEqual(db.allValidPaths(), [D]);
  db.registerFailedPath(B);
  assert.equal(db.hasFailedPath(B), true);
  db.clearFailedPaths();
  assert.deepEqual(db.failedPaths(), []);
  db.close();
  // Reopening sees the committed state.
  const again = new StoreDatabase(file);
  assert.deepEqual(again.allValidPaths(), [D]);
  again.close();
  rmSync(join(file, ".."), { recursive: true });
});
