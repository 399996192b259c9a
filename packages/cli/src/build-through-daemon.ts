/**
 * `kiln build` when a daemon is running: the derivations go to the daemon (as `guix build`
 * sends them to guix-daemon), which builds them in its sandboxes with its own settings;
 * this process shows the daemon's log lines and prints the output paths.
 */
import { readFileSync } from "node:fs";
import { basename, resolve } from "node:path";
import type { DaemonClient } from "@kiln/daemon/daemon-client";
import { ActivityType, BuildMode, BuildStatusCode, ResultType } from "@kiln/daemon/worker-protocol";
import { KilnError } from "@kiln/formats/kiln-error";
import { parseDerivation } from "@kiln/formats/parse-derivation";
import type { CliConfig } from "./cli-config.ts";

export interface DaemonBuildOptions {
  readonly maxJobs: number;
  readonly cores: number;
  readonly keepGoing?: boolean;
  readonly keepFailed?: boolean;
  readonly check?: boolean;
  readonly dryRun?: boolean;
  readonly maxSilentTime: number;
  readonly timeout: number;
  readonly substitutes: boolean;
}

const SUCCESS = new Set<number>([
  BuildStatusCode.Built,
  BuildStatusCode.Substituted,
  BuildStatusCode.AlreadyValid,
]);

/**
 * A `.drv` named on the command line, in the daemon's store: a store path as is; a file
 * elsewhere is sent with AddTextToStore (named as in the store, so its path comes out the
 * same).
 */
export async function addDerivationFile(
  client: DaemonClient,
  config: Pick<CliConfig, "storeDir">,
  file: string,
): Promise<string> {
  const absolute = resolve(file);
  if (absolute.startsWith(`${config.storeDir}/`)) return absolute;
  const text = readFileSync(absolute, "utf8");
  const drv = parseDerivation(text);
  const name = basename(absolute).replace(/^[0-9a-df-np-sv-z]{32}-/, "");
  return client.addTextToStore(name, text, [...drv.inputSrcs, ...drv.inputDrvs.keys()]);
}

/**
 * Builds `.drv` paths of the daemon's store through it; returns the output paths of the
 * requested derivations.
 */
export async function buildThroughDaemon(
  client: DaemonClient,
  drvPaths: readonly string[],
  options: DaemonBuildOptions,
  stderr: NodeJS.WritableStream,
): Promise<string[]> {
  const names = new Map<number, string>();
  client.onEvent = (event) => {
    if (event.kind === "log") stderr.write(`${event.text}\n`);
    else if (event.kind === "start" && event.type === ActivityType.Build) {
      names.set(event.id, event.text);
      if (event.text) stderr.write(`${event.text}\n`);
    } else if (event.kind === "result" && event.type === ResultType.BuildLogLine) {
      stderr.write(`${String(event.fields[0] ?? "")}\n`);
    }
  };
  await client.setOptions({
    keepFailed: options.keepFailed,
    keepGoing: options.keepGoing,
    maxBuildJobs: options.maxJobs,
    maxSilentTime: options.maxSilentTime,
    buildCores: options.cores,
    useSubstitutes: options.substitutes,
    overrides: options.timeout > 0 ? { "build-timeout": String(options.timeout) } : {},
  });
  if (options.dryRun) {
    const missing = await client.queryMissing(drvPaths.map((path) => `${path}!*`));
    const lines = [...missing.willBuild].sort();
    stderr.write(
      lines.length === 0
        ? ""
        : `${lines.length === 1 ? "this derivation" : `these ${lines.length} derivations`} will be built:\n${lines.map((line) => `  ${line}\n`).join("")}`,
    );
    return [];
  }
  const results = await client.buildPathsWithResults(
    drvPaths.map((path) => `${path}!*`),
    options.check ? BuildMode.Check : BuildMode.Normal,
  );
  const failed = results.filter((result) => !SUCCESS.has(result.status));
  for (const result of failed)
    stderr.write(`error: ${result.errorMsg || `build of ${result.path} failed`}\n`);
  const outputs: string[] = [];
  for (const drvPath of drvPaths) {
    for (const path of (await client.queryDerivationOutputMap(drvPath)).values())
      outputs.push(path);
  }
  if (failed.length > 0) {
    throw new KilnError(
      "ERR_BUILD_FAILED",
      `${failed.length} build${failed.length === 1 ? "" : "s"} failed`,
      {
        hint: "kiln build --log-file DRV shows a build's log",
      },
    );
  }
  return options.check ? [] : outputs;
}
