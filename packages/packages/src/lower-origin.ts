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
    case "url":
    case "git": {
      const busybox = `${bootstrap.busybox}/bin/busybox`;
      const recursive = origin.kind === "git";
      const name =
        origin.kind === "url"
          ? (origin.fileName ?? basename(new URL(origin.url).pathname))
          : (origin.name ?? `${defaultName}-checkout`);
      const script =
        origin.kind === "url"
          ? 'wget -O "$out" "$url"'
          : [
              'command -v git >/dev/null || { echo "git-fetch: no git among the bootstrap seeds" >&2; exit 1; }',
              'git clone "$url" "$out" && cd "$out" && git checkout "$commit" && rm -rf .git',
            ].join("\n");
      const hash = sha256Hex(origin.sha256);
      const env: Record<string, string> = {
        url: origin.url,
        outputHash: hash,
        outputHashAlgo: "sha256",
        outputHashMode: recursive ? "recursive" : "flat",
        PATH: `${bootstrap.busybox}/bin`,
      };
      if (origin.kind === "git") env.commit = origin.commit;
      const lowered = await writeDerivation(
        {
          name,
          builder: busybox,
          args: ["sh", "-c", `${busybox} --install -s "$TMPDIR" && PATH="$TMPDIR" && ${script}`],
          env,
          outputs: ["out"],
          inputDrvs: new Map(),
          inputSrcs: [bootstrap.busybox],
          fixed: { hashAlgo: recursive ? "r:sha256" : "sha256", hash },
        },
        context,
      );
      const expected = makeFixedOutputPath({
        method: recursive ? "recursive" : "flat",
        hash: { algorithm: "sha256", digest: fromHex(hash) },
        name,
        storeDir,
      });
      return { path: expected, drvPath: lowered.drvPath };
    }
  }
}
