/**
 * The substituter `kiln build` uses before building: the given substitute URLs, trusting
 * the keys in `${configDir}/acl` (as `kiln archive --authorize` writes it), showing the
 * downloads' progress on stderr (substitution-progress.ts).
 */
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import type { BuildSubstituter } from "@kiln/builder/substitute-missing";
import type { LocalStore } from "@kiln/store/local-store";
import type { CliConfig } from "./cli-config.ts";
import { type ProgressStream, SubstitutionProgress } from "./substitution-progress.ts";

export interface BuildSubstituterHandle {
  readonly substituter: BuildSubstituter;
  close(): void;
}

export async function openBuildSubstituter(
  store: LocalStore,
  config: CliConfig,
  urls: readonly string[],
  warn: (message: string) => void,
  progressStream: ProgressStream = process.stderr,
): Promise<BuildSubstituterHandle | undefined> {
  if (urls.length === 0) return undefined;
  const progress = new SubstitutionProgress(progressStream);
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
    onWarning: (message) => progress.interject(() => warn(message)),
    onProgress: (event) => progress.update(event),
  });
  return {
    substituter: {
      async querySubstitutable(paths) {
        const { found } = await substituter.querySubstitutablePathInfos([...paths]);
        return new Set(found.keys());
      },
      async substitute(paths) {
        // The narinfos are in the lookup cache by now: this only adds up what comes.
        const { willSubstitute, downloadSize } = await substituter.queryMissing([...paths]);
        progress.plan(willSubstitute.size, downloadSize > 0 ? downloadSize : undefined);
        const { failed } = await substituter.substitutePaths([...paths]);
        progress.close();
        for (const [path, message] of failed) warn(`could not substitute ${path}: ${message}`);
      },
    },
    close: () => {
      progress.close();
      substituter.close();
    },
  };
}
