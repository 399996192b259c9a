/**
 * Lowering an origin to the store path the build sees as `$src`: a text or local item
 * added to the store, or the output of a fixed-output derivation (download, git checkout)
 * pinned by its hash.
 */
import { basename } from "node:path";
import { fromHex, toHex } from "@kiln/formats/hash";
import { hashPath } from "@kiln/formats/hash-path";
import { makeFixedOutputPath } from "@kiln/formats/make-store-path";
import { decodeNix32 } from "@kiln/formats/nix32";
import type { LoweringContext } from "./lowering-context.ts";
import type { Origin } from "./package.ts";
import { PackageError } from "./package-error.ts";
import { writeDerivation } from "./write-derivation.ts";

export interface LoweredOrigin {
  /** The store path the build reads. */
  readonly path: string;
  /** Set when the path is a derivation's output: that derivation. */
  readonly drvPath?: string;
}

/** A sha256 written in nix32 (52 characters, as Guix writes it) or base16 (64). */
export function sha256Hex(text: string): string {
  if (/^[0-9a-f]{64}$/.test(text)) return text;
  if (text.length === 52) {
    try {
      return toHex(decodeNix32(text));
    } catch (cause) {
      throw new PackageError(`origin hash ${JSON.stringify(text)} is not valid nix32`, { cause });
    }
  }
  throw new PackageError(
    `origin hash ${JSON.stringify(text)} is neither nix32 (52 characters) nor base16 (64)`,
  );
}

/**
 * Returns where the origin is in the store, writing it (or its fixed-output derivation)
 * into the context's store if there is one. `defaultName` names checkouts (`hello-1.0`).
 */
export async function lowerOrigin(
  origin: Origin,
  defaultName: string,
  context: LoweringContext,
): Promise<LoweredOrigin> {
  const { storeDir, store, bootstrap } = context;
  switch (origin.kind) {
    case "text":
      return { path: await context.addText(origin.name, origin.text, []) };
    case "local": {
      const name = origin.name ?? basename(origin.path);
      if (store) return { path: await store.addToStore(origin.path, { name }) };
      const { hash } = await hashPath(origin.path);
      return { path: makeFixedOutputPath({ method: "recursive", hash, name, storeDir }) };
    }
    case "url": {
      const busybox = `${bootstrap.busybox}/bin/busybox`;
      const name = origin.fileName ?? basename(new URL(origin.url).pathname);
      const hash = sha256Hex(origin.sha256);
      const lowered = await writeDerivation(
        {
          name,
          builder: busybox,
          args: [
            "sh",
            "-c",
            `${busybox} --install -s "$TMPDIR" && PATH="$TMPDIR" && wget -O "$out" "$url"`,
          ],
          env: {
            url: origin.url,
            outputHash: hash,
            outputHashAlgo: "sha256",
            outputHashMode: "flat",
            PATH: `${bootstrap.busybox}/bin`,
          },
          outputs: ["out"],
          inputDrvs: new Map(),
          inputSrcs: [bootstrap.busybox],
          fixed: { hashAlgo: "sha256", hash },
        },
        context,
      );
      return { path: fixedPath("flat", hash, name, storeDir), drvPath: lowered.drvPath };
    }
    case "git": {
      // Made by the daemon itself (builtin:git-download), as Guix's git-fetch/built-in:
      // no git among the inputs. The variables are Guix's, url written as a Scheme
      // string, so guix-daemon can build this derivation and Kiln can build Guix's.
      const name = origin.name ?? `${defaultName}-checkout`;
      const hash = sha256Hex(origin.sha256);
      const lowered = await writeDerivation(
        {
          name,
          builder: "builtin:git-download",
          args: [],
          env: {
            url: schemeString(origin.url),
            commit: origin.commit,
            "recursive?": "#f",
            outputHash: hash,
            outputHashAlgo: "sha256",
            outputHashMode: "recursive",
          },
          outputs: ["out"],
          inputDrvs: new Map(),
          inputSrcs: [],
          fixed: { hashAlgo: "r:sha256", hash },
        },
        context,
      );
      return { path: fixedPath("recursive", hash, name, storeDir), drvPath: lowered.drvPath };
    }
  }
}

function fixedPath(
  method: "flat" | "recursive",
  hash: string,
  name: string,
  storeDir: string,
): string {
  const digest = fromHex(hash);
  return makeFixedOutputPath({ method, hash: { algorithm: "sha256", digest }, name, storeDir });
}

/** `text` as Scheme's `write` prints a string: what Guix's builtin reads back. */
function schemeString(text: string): string {
  return `"${text.replace(/[\\"]/g, (c) => `\\${c}`)}"`;
}
