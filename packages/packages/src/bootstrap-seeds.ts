/**
 * The bootstrap seeds: the binaries every package build starts from, as Guix's bootstrap
 * binaries. A seed is a store item whose path is fixed by a pinned hash of its contents, so
 * lowering needs only the pin (not the file), and importing checks the host's copy.
 *
 * The busybox seed is `/bin/busybox` of Debian bookworm's `busybox-static`
 * 1:1.35.0-4+deb12u1+b1 (amd64), laid out as `<seed>/bin/busybox` (mode 0555) so the
 * builder's argv[0] is `busybox`. To update the pin after a new Debian package:
 *   sha256sum /bin/busybox                       → fileSha256
 *   mkdir -p s/bin && cp /bin/busybox s/bin && chmod 555 s/bin/busybox
 *   nix-hash --type sha256 s  (or kiln hash -S nar s)   → narSha256
 * Every package's derivation changes with it, as it should.
 */
import { chmodSync, copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fromHex, sha256, toHex } from "@kiln/formats/hash";
import { makeFixedOutputPath } from "@kiln/formats/make-store-path";
import { PackageError } from "./package-error.ts";

export interface BootstrapSeed {
  /** Store name of the seed. */
  readonly name: string;
  /** Where the host's copy usually is. */
  readonly hostPath: string;
  /** Path of the file inside the seed's tree. */
  readonly treePath: string;
  /** sha256 of the file itself (base16), as `sha256sum` prints it. */
  readonly fileSha256: string;
  /** sha256 of the seed tree's NAR (base16): the seed's content address. */
  readonly narSha256: string;
  /** Where it comes from, for the error message. */
  readonly origin: string;
}

export const busyboxSeed: BootstrapSeed = {
  name: "bootstrap-busybox-1.35.0",
  hostPath: "/bin/busybox",
  treePath: "bin/busybox",
  fileSha256: "3d9f2889d6782537624a4e1a10e68a2ddd53e0ee8bac02676f27308f42ec6bf6",
  narSha256: "494cdad037cf7d0a75ee816fc060b92663de1309602aff43c2f9ce55dade4c40",
  origin: "Debian bookworm busybox-static 1:1.35.0-4+deb12u1+b1 (amd64)",
};

/** The seeds' store paths, which lowering puts into every derivation. */
export interface Bootstrap {
  /** Store path of the busybox seed; its binary is `${busybox}/bin/busybox`. */
  readonly busybox: string;
}

/** The seed's store path in `storeDir`, from its pin alone (pure). */
export function seedStorePath(seed: BootstrapSeed, storeDir: string): string {
  return makeFixedOutputPath({
    method: "recursive",
    hash: { algorithm: "sha256", digest: fromHex(seed.narSha256) },
    name: seed.name,
    storeDir,
  });
}

/**
 * The bootstrap for a store directory, computed from the pins: lowering can run on a
 * machine that has never imported the seeds.
 * @example bootstrapFor("/gnu/store").busybox // "/gnu/store/…-bootstrap-busybox-1.35.0"
 */
export function bootstrapFor(storeDir: string): Bootstrap {
  return { busybox: seedStorePath(busyboxSeed, storeDir) };
}

/**
 * Imports the seeds into the store (`kiln bootstrap import`), checking each host file
 * against its pin first. Returns the bootstrap; importing twice is harmless.
 */
export async function importBootstrapSeeds(
  store: {
    /** A LocalStore's, or a daemon connection's (AddToStore), returning the store path. */
    addToStore(source: string, options: { readonly name?: string }): Promise<string>;
    readonly config: { readonly storeDir: string };
  },
  options: { busyboxFile?: string } = {},
): Promise<Bootstrap> {
  const seed = busyboxSeed;
  const file = options.busyboxFile ?? seed.hostPath;
  let bytes: Uint8Array;
  try {
    bytes = readFileSync(file);
  } catch (cause) {
    throw new PackageError(`bootstrap seed ${seed.name}: cannot read ${file}`, {
      cause,
      hint: `install ${seed.origin} (apt-get install busybox-static)`,
    });
  }
  const actual = toHex(sha256(bytes));
  if (actual !== seed.fileSha256) {
    throw new PackageError(
      `bootstrap seed ${seed.name}: ${file} has sha256 ${actual}, but the pinned hash is ${seed.fileSha256}`,
      {
        hint: `the pin is for ${seed.origin}; install that version, or update the pin in packages/packages/src/bootstrap-seeds.ts`,
      },
    );
  }
  const tree = mkdtempSync(join(tmpdir(), "kiln-seed-"));
  try {
    const target = join(tree, seed.treePath);
    mkdirSync(join(target, ".."), { recursive: true });
    copyFileSync(file, target);
    chmodSync(target, 0o555);
    const path = await store.addToStore(tree, { name: seed.name });
    const expected = seedStorePath(seed, store.config.storeDir);
    if (path !== expected)
      throw new PackageError(`bootstrap seed ${seed.name}: imported as ${path}, not ${expected}`);
    return { busybox: path };
  } finally {
    rmSync(tree, { recursive: true, force: true });
  }
}
