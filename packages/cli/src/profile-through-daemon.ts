/**
 * Profiles through the daemon, as `guix package` goes through guix-daemon: the client
 * computes the profile's `builtin:buildenv` derivation, sends the manifest file and the
 * `.drv` with AddTextToStore and asks the daemon to build it (the builder runs
 * builtin:buildenv); the generation links are the user's own files, made here, and a link
 * outside the profiles directory is registered with AddIndirectRoot. Everything used is
 * rooted with AddTempRoot, which lasts as long as the connection: keep it open until the
 * links exist.
 */
import { readFileSync } from "node:fs";
import type { DaemonClient } from "@kiln/daemon/daemon-client";
import { ActivityType, ResultType } from "@kiln/daemon/worker-protocol";
import { parseDerivation } from "@kiln/formats/parse-derivation";
import { switchSymlink } from "@kiln/gc/switch-symlink";
import { type GenerationMaker, needsIndirectRoot } from "@kiln/profiles/build-generation";
import { planProfileDerivation } from "@kiln/profiles/profile-derivation";
import { ProfileError } from "@kiln/profiles/profile-error";
import type { SpecStore } from "@kiln/profiles/resolve-package-specs";
import type { CliConfig } from "./cli-config.ts";

type StoreLocation = Pick<CliConfig, "storeDir" | "realStoreDir" | "stateDir">;

/**
 * Builds `.drv` paths (all their outputs) in the daemon, showing its log lines on
 * `stderr`; rejects with the daemon's error when a build fails.
 * @example await buildInDaemon(client, ["/gnu/store/…-hello-2.12.drv"], process.stderr)
 */
export async function buildInDaemon(
  client: DaemonClient,
  drvPaths: readonly string[],
  stderr: NodeJS.WritableStream,
): Promise<void> {
  client.onEvent = (event) => {
    if (event.kind === "log") stderr.write(`${event.text}\n`);
    else if (event.kind === "start" && event.type === ActivityType.Build && event.text)
      stderr.write(`${event.text}\n`);
    else if (event.kind === "result" && event.type === ResultType.BuildLogLine)
      stderr.write(`${String(event.fields[0] ?? "")}\n`);
  };
  await client.buildPaths(drvPaths.map((path) => `${path}!*`));
}

/**
 * Generations whose profile items the daemon builds.
 * @example await makeGeneration(daemonGenerationMaker(client, config, process.stderr), profile, manifest)
 */
export function daemonGenerationMaker(
  client: DaemonClient,
  config: StoreLocation,
  stderr: NodeJS.WritableStream,
): GenerationMaker {
  return {
    async buildItem(manifest) {
      const plan = planProfileDerivation(manifest, config.storeDir);
      for (const item of plan.items) {
        await client.addTempRoot(item);
        if (!(await client.isValidPath(item))) {
          throw new ProfileError("INVALID_ITEM", `cannot install ${item}: it is not valid`, {
            hint: "build or add it first",
          });
        }
      }
      for (const path of [plan.manifestPath, plan.drvPath, plan.outPath])
        await client.addTempRoot(path);
      await client.addTextToStore("profile-manifest", plan.manifestText, [...plan.items].sort());
      const written = await client.addTextToStore("profile.drv", plan.drvText, plan.inputSrcs);
      if (written !== plan.drvPath) {
        throw new ProfileError(
          "BAD_DERIVATION",
          `profile derivation went to ${written}, expected ${plan.drvPath}`,
        );
      }
      if (!(await client.isValidPath(plan.outPath)))
        await buildInDaemon(client, [plan.drvPath], stderr);
      return plan.outPath;
    },
    async link(link, storePath) {
      switchSymlink(link, storePath);
      if (needsIndirectRoot(config, link)) await client.addIndirectRoot(link);
    },
  };
}

/**
 * What resolving `-i` specs needs, from the daemon: validity and derivers from it; the
 * `.drv` files and items are read in the store directly (every user may read it).
 * @example await resolvePackageSpecsIn(daemonSpecStore(client, config), specs, { addRoots })
 */
export function daemonSpecStore(client: DaemonClient, config: StoreLocation): SpecStore {
  const real = (path: string) => config.realStoreDir + path.slice(config.storeDir.length);
  return {
    config,
    isValidPath: (path) => client.isValidPath(path),
    async readDerivation(drvPath) {
      if (!(await client.isValidPath(drvPath))) {
        throw new ProfileError("INVALID_ITEM", `${drvPath} is not valid`, {
          hint: "add or build it first",
        });
      }
      return parseDerivation(readFileSync(real(drvPath), "utf8"));
    },
    async recordedOutput(item) {
      const deriver = (await client.queryPathInfo(item))?.deriver;
      if (!deriver || !(await client.isValidPath(deriver))) return undefined;
      for (const [name, path] of await client.queryDerivationOutputMap(deriver))
        if (path === item) return name;
      return undefined;
    },
  };
}
