/**
 * The derivations that real Nix 2.8 realised in its sandbox (fixtures/derivations.json,
 * entries with `realised`), built by Kiln from the same `.drv` text with the same host
 * paths bound in (`/bin/sh /lib /lib64 /usr`, Nix's `sandbox-paths` then): the output
 * paths, NAR hashes and sizes, references and content addresses must equal Nix's.
 */
import assert from "node:assert/strict";
import { chmodSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { formatHashNix32 } from "@kiln/formats/hash";
import { hashPath } from "@kiln/formats/hash-path";
import { parseDerivation } from "@kiln/formats/parse-derivation";
import { requirePeer } from "@kiln/testkit";
import { buildDerivations } from "../src/build-derivations.ts";
import { type BuildTestStore, createBuildTestStore } from "./build-test-store.ts";

interface RealisedOutput {
  path: string;
  narHash: string;
  narSize: number;
  references: string[];
  deriver: string;
}

interface Vector {
  id: string;
  files: Record<string, string>;
  nix: { drvPath: string; aterm: string; drvReferences: string[] };
  realised?: { outputs: Record<string, RealisedOutput> };
}

const fixtures = new URL("../../formats/test/fixtures/derivations.json", import.meta.url);
const vectors = JSON.parse(readFileSync(fixtures, "utf8")) as Vector[];
const byDrvPath = new Map(vectors.map((vector) => [vector.nix.drvPath, vector]));
const CHROOT_DIRS = ["/bin/sh", "/lib", "/lib64", "/usr"];

// pass-as-file prints $bigPath, which is in the build tree: /build under Nix and
// /tmp/kiln-build-NAME.drv-0 under Kiln (guix-daemon's). Its output is compared with
// Kiln's build tree written as Nix's: every other byte must be the same.
const NAMES_BUILD_TREE = new Set(["pass-as-file"]);

let t: BuildTestStore;
before(async () => {
  t = await createBuildTestStore("/nix/store");
});
after(() => t.dispose());

/** Adds a vector's `.drv` (and, first, the derivations and sources it refers to). */
async function addVector(vector: Vector): Promise<void> {
  if (t.store.isValidPath(vector.nix.drvPath)) return;
  for (const reference of vector.nix.drvReferences) {
    if (t.store.isValidPath(reference)) continue;
    const input = byDrvPath.get(reference);
    if (input !== undefined) {
      await addVector(input);
      continue;
    }
    // A source file: `./file` in the .nix became a recursive sha256 path named after it.
    const name = reference.slice("/nix/store/".length + 33);
    const dir = join(t.root, "sources", vector.id);
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, name), vector.files[name]);
    assert.equal(await t.store.addToStore(join(dir, name), { name }), reference);
  }
  const drvName = vector.nix.drvPath.slice("/nix/store/".length + 33);
  const drvPath = await t.store.addTextToStore(drvName, vector.nix.aterm, vector.nix.drvReferences);
  assert.equal(drvPath, vector.nix.drvPath, "the .drv lands where Nix put it");
}

/** The NAR of a built regular file, with Kiln's build tree renamed to Nix's `/build`. */
async function narOfFileAsNix(realPath: string, drvName: string) {
  const text = readFileSync(realPath, "utf8");
  const kilnTop = `/tmp/kiln-build-${drvName}.drv-0`;
  assert.ok(text.includes(kilnTop), `the output names the build tree: ${text}`);
  const file = join(t.root, `${drvName}-as-nix`);
  writeFileSync(file, text.replaceAll(kilnTop, "/build"));
  chmodSync(file, 0o444);
  const { hash, narSize } = await hashPath(file);
  return { narHash: formatHashNix32(hash), narSize };
}

describe("derivations realised by Nix 2.8, built by Kiln", { concurrency: false }, () => {
  for (const vector of vectors) {
    if (vector.realised === undefined) continue;
    test(vector.id, async (ctx) => {
      if (!requirePeer(ctx, "bwrap", "bubblewrap")) return;
      await addVector(vector);
      const results = await buildDerivations(t.store, [vector.nix.drvPath], {
        chrootDirs: CHROOT_DIRS,
        maxJobs: 2,
      });
      for (const result of results) {
        assert.ok(
          result.status === "built" || result.status === "already-valid",
          `${result.drvPath}: ${result.status} ${result.error?.message ?? ""}`,
        );
      }
      const drv = parseDerivation(vector.nix.aterm);
      const realised = vector.realised!.outputs;
      assert.deepEqual([...drv.outputs.keys()].sort(), Object.keys(realised).sort());
      for (const [name, expected] of Object.entries(realised)) {
        assert.equal(drv.outputs.get(name)?.path, expected.path);
        const info = t.store.queryPathInfo(expected.path);
        assert.ok(info, `${expected.path} is valid`);
        if (NAMES_BUILD_TREE.has(vector.id)) {
          const nar = await narOfFileAsNix(t.store.realPath(expected.path), drv.env.get("name")!);
          assert.equal(nar.narHash, expected.narHash, `NAR hash of ${name}, as Nix's build tree`);
          assert.equal(nar.narSize, expected.narSize, `NAR size of ${name}, as Nix's build tree`);
        } else {
          assert.equal(info.narHash, expected.narHash, `NAR hash of ${name}`);
          assert.equal(info.narSize, expected.narSize, `NAR size of ${name}`);
        }
        assert.deepEqual(info.references, [...expected.references].sort(), `references of ${name}`);
        // fixed-flat and fixed-flat-alt share their output: whichever built it is its deriver.
        if (!vector.id.startsWith("fixed-flat")) assert.equal(info.deriver, expected.deriver);
        const declared = drv.outputs.get(name)!;
        if (declared.hash !== "") {
          assert.match(info.ca ?? "", /^fixed:(r:)?(sha256|sha1):[0-9a-z]+$/);
          assert.equal(info.ca?.startsWith(`fixed:${declared.hashAlgo}:`), true);
        } else {
          assert.equal(info.ca, undefined);
        }
      }
    });
  }
});
