/**
 * A scratch Kiln store (logical `/nix/store`, kept in a temporary directory) holding a
 * small closure, and a fresh signing key: what the publish tests serve.
 */
import { spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { formatHashNix32 } from "@kiln/formats/hash";
import { makeTextPath } from "@kiln/formats/make-store-path";
import { dumpPath } from "@kiln/formats/nar-writer";
import { generateKeyPair } from "@kiln/keys/generate-key-pair";
import type { SigningKey } from "@kiln/keys/signing-key";
import { LocalStore } from "@kiln/store/local-store";
import { localPublishStore, type PublishStore } from "../src/publish-store.ts";

export interface PublishFixture {
  readonly root: string;
  readonly store: LocalStore;
  readonly publishStore: PublishStore;
  readonly key: SigningKey;
  readonly publicKeyFile: string;
  readonly secretKeyFile: string;
  /** A directory tree (files, an executable, a symlink, ~600 KiB of incompressible data). */
  readonly tree: string;
  /** A text file that refers to the tree. */
  readonly text: string;
  /** A flat fixed-output file, for `/file/`. */
  readonly flat: string;
  readonly flatContents: Buffer;
  /** An item with a deriver whose build log exists. */
  readonly built: string;
  readonly drvBaseName: string;
  /** `${stateDir}/kiln/log/drvs`. */
  readonly logDir: string;
  readonly logText: string;
  /** Closes the store and removes the scratch directory (store files are read-only). */
  dispose(): void;
}

/** Deterministic incompressible bytes. */
export function noise(size: number, seed: string): Buffer {
  const out = Buffer.alloc(size);
  for (let offset = 0, i = 0; offset < size; i++) {
    offset += createHash("sha512").update(`${seed}${i}`).digest().copy(out, offset);
  }
  return out;
}

export async function createPublishFixture(): Promise<PublishFixture> {
  const root = mkdtempSync(join(tmpdir(), "kiln-publish-"));
  const stateDir = join(root, "state");
  const store = LocalStore.open({
    storeDir: "/nix/store",
    realStoreDir: join(root, "store"),
    stateDir,
  });
  const src = join(root, "src");
  mkdirSync(join(src, "tree", "bin"), { recursive: true });
  writeFileSync(join(src, "tree", "README"), "hello from kiln publish\n".repeat(200));
  writeFileSync(join(src, "tree", "bin", "run"), "#!/bin/sh\necho hi\n", { mode: 0o755 });
  writeFileSync(join(src, "tree", "noise"), noise(600 * 1024, "tree"));
  symlinkSync("bin/run", join(src, "tree", "link"));
  const tree = await store.addToStore(join(src, "tree"), { name: "demo-tree" });
  const text = await store.addTextToStore("demo-text", `the tree is at ${tree}\n`, [tree]);
  const flatContents = Buffer.from("a flat file\n");
  writeFileSync(join(src, "flat.txt"), flatContents);
  const flat = await store.addToStore(join(src, "flat.txt"), { method: "flat", name: "flat.txt" });

  // An output with a deriver, as a build would leave it, and its compressed log.
  const drvBaseName = makeTextPath("demo-built.drv", "Derive(…)", { storeDir: "/nix/store" }).slice(
    11,
  );
  mkdirSync(join(src, "built"));
  writeFileSync(join(src, "built", "out"), "built output\n");
  const chunks: Uint8Array[] = [];
  for await (const chunk of dumpPath(join(src, "built"))) chunks.push(chunk);
  const nar = Buffer.concat(chunks);
  const built = "/nix/store/0c7lxfh0c2ah3c36ykddvdbyzn2y2dc1-demo-built";
  await store.addNarToStore(
    (async function* () {
      yield nar;
    })(),
    {
      path: built,
      narHash: formatHashNix32({
        algorithm: "sha256",
        digest: new Uint8Array(createHash("sha256").update(nar).digest()),
      }),
      narSize: nar.length,
      references: [],
      deriver: `/nix/store/${drvBaseName}`,
    },
  );
  const logDir = join(stateDir, "kiln", "log", "drvs");
  const logText = "building demo-built\nok\n";
  mkdirSync(join(logDir, drvBaseName.slice(0, 2)), { recursive: true });
  const { gzipSync } = await import("node:zlib");
  writeFileSync(
    join(logDir, drvBaseName.slice(0, 2), `${drvBaseName.slice(2)}.gz`),
    gzipSync(logText),
  );

  const publicKeyFile = join(root, "etc", "signing-key.pub");
  const secretKeyFile = join(root, "etc", "signing-key.sec");
  const key = generateKeyPair({ publicKeyFile, secretKeyFile });
  return {
    root,
    store,
    publishStore: localPublishStore(store),
    key,
    publicKeyFile,
    secretKeyFile,
    tree,
    text,
    flat,
    flatContents,
    built,
    drvBaseName,
    logDir,
    logText,
    dispose() {
      store.close();
      spawnSync("chmod", ["-R", "u+w", root]);
      rmSync(root, { recursive: true, force: true });
    },
  };
}
