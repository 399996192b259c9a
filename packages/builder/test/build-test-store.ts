/**
 * Test support for the build orchestration: a scratch Kiln store (logical `/nix/store`
 * by default, kept in a temporary directory) holding the statically linked busybox as a
 * content-addressed store path, and a way to write derivations into it the way
 * `nix-instantiate` does (outputs computed, `.drv` added as a text path whose
 * references are its sources and input derivations).
 */
import { chmodSync, copyFileSync, mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Derivation, DerivationOutput } from "@kiln/formats/derivation";
import { computeDerivationOutputs, derivationPath } from "@kiln/formats/derivation-outputs";
import { printDerivation } from "@kiln/formats/print-derivation";
import { LocalStore } from "@kiln/store/local-store";
import { removeTree } from "../src/remove-tree.ts";

export interface DerivationSpec {
  name: string;
  /** Run by busybox sh (`sh -c SCRIPT`), unless `builder` and `args` are given. */
  script?: string;
  builder?: string;
  args?: string[];
  /** Output names; default `["out"]`. */
  outputs?: string[];
  /** `.drv` path → output names used from it. */
  inputDrvs?: Record<string, string[]>;
  /** Extra input sources (busybox is always one, unless `builder` is given). */
  inputSrcs?: string[];
  env?: Record<string, string>;
  /** A fixed output: `hashAlgo` like `sha256` or `r:sha256`, `hash` in base16. */
  fixed?: { hashAlgo: string; hash: string };
  system?: string;
}

export interface BuildTestStore {
  readonly store: LocalStore;
  readonly root: string;
  /** The busybox store path; its binary is `${busybox}/bin/busybox`. */
  readonly busybox: string;
  addText(name: string, text: string, references?: string[]): Promise<string>;
  /** Writes a derivation into the store; returns its path and the derivation with outputs. */
  addDerivation(spec: DerivationSpec): Promise<{ drvPath: string; drv: Derivation }>;
  /** The output path `name` (default `out`) of a derivation. */
  output(drv: Derivation, name?: string): string;
  dispose(): void;
}

/**
 * A scratch store with logical directory `storeDir`; with `inPlace`, the logical
 * directory is the real one (a temporary directory), as `--disable-chroot` needs.
 */
export async function createBuildTestStore(
  storeDir = "/nix/store",
  options: { inPlace?: boolean } = {},
): Promise<BuildTestStore> {
  const root = mkdtempSync(join(tmpdir(), "kiln-build-test-"));
  // World-searchable, so that build users can reach the scratch directories inside.
  chmodSync(root, 0o755);
  const realStoreDir = join(root, "store");
  const store = LocalStore.open({
    storeDir: options.inPlace ? realStoreDir : storeDir,
    realStoreDir,
    stateDir: join(root, "state"),
  });
  const source = join(root, "busybox-source");
  mkdirSync(join(source, "bin"), { recursive: true });
  copyFileSync("/bin/busybox", join(source, "bin", "busybox"));
  chmodSync(join(source, "bin", "busybox"), 0o555);
  const busybox = await store.addToStore(source, { name: "busybox" });
  rmSync(source, { recursive: true, force: true });

  return {
    store,
    root,
    busybox,
    addText: (name, text, references = []) => store.addTextToStore(name, text, references),
    async addDerivation(spec) {
      const outputs = new Map<string, DerivationOutput>();
      for (const name of spec.outputs ?? ["out"]) {
        outputs.set(name, {
          path: "",
          hashAlgo: spec.fixed?.hashAlgo ?? "",
          hash: spec.fixed?.hash ?? "",
        });
      }
      const builder = spec.builder ?? `${busybox}/bin/busybox`;
      const args = spec.args ?? ["sh", "-c", spec.script ?? "true"];
      const inputSrcs = [
        ...(spec.builder === undefined ? [busybox] : []),
        ...(spec.inputSrcs ?? []),
      ];
      const system = spec.system ?? "x86_64-linux";
      const env = new Map<string, string>(
        Object.entries({ name: spec.name, builder, system, ...spec.env }),
      );
      for (const name of outputs.keys()) env.set(name, "");
      const masked: Derivation = {
        outputs,
        inputDrvs: new Map(Object.entries(spec.inputDrvs ?? {})),
        inputSrcs: [...new Set(inputSrcs)].sort(),
        system,
        builder,
        args,
        env,
      };
      const drv = computeDerivationOutputs(masked, {
        resolve: (path) => store.readDerivation(path),
        storeDir: store.config.storeDir,
      });
      const drvPath = await store.addTextToStore(`${spec.name}.drv`, printDerivation(drv), [
        ...drv.inputSrcs,
        ...drv.inputDrvs.keys(),
      ]);
      if (drvPath !== derivationPath(drv, { storeDir: store.config.storeDir }))
        throw new Error("drv path mismatch");
      return { drvPath, drv };
    },
    output: (drv, name = "out") => drv.outputs.get(name)!.path,
    dispose() {
      store.close();
      removeTree(root); // also what a build made read-only (not root: no override)
    },
  };
}
