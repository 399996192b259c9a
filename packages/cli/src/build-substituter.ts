/**
 * The substituter `kiln build` uses before building: the given substitute URLs, trusting
 * the keys in `${configDir}/acl` (as `kiln archive --authorize` writes it).
 */
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import type { BuildSubstituter } from "@kiln/builder/substitute-missing";
import type { LocalStore } from "@kiln/store/local-store";
import type { CliConfig } from "./cli-config.ts";

export interface BuildSubstituterHandle {
  readonly substituter: BuildSubstituter;
  close(): void;
}

export async function openBuildSubstituter(
  store: LocalStore,
  config: CliConfig,
  urls: readonly string[],
  warn: (message: string) => void,
): Promise<BuildSubstituterHandle | undefined> {
  if (urls.length === 0) return undefined;
  const { parseTrustedKeys } = await import("@kiln/formats/verify-narinfo");
  const { Substituter } = await import("@kiln/substituter/substituter");
  const aclFile = join(config.configDir, "acl");
  const trustedKeys = existsSync(aclFile) ? parseTrustedKeys(readFileSync(aclFile, "utf8")) : [];
  if (trustedKeys.length === 0)
    warn(
      `no trusted keys in ${aclFile}: every substitute will be refused (authorize one with kiln archive --authorize)`,
    );
  const substituter = new Substituter({
    store,
    urls: [...urls],
    trustedKeys,
    proxy: config.proxy,
    onWarning: warn,
  });
  return {
    substituter: {
      async querySubstitutable(paths) {
        const { found } = await substituter.querySubstitutablePathInfos([...paths]);
        return new Set(found.keys());
      },
      async substitute(paths) {
        const { failed } = await substituter.substitutePaths([...paths]);
        for (const [path, message] of failed) warn(`could not substitute ${path}: ${message}`);
      },
    },
    close: () => substituter.close(),
  };
}
