/** `kiln weather`: how many of some store items each substitute server has, and how fast it answers (as guix weather). */
import { readFileSync } from "node:fs";
import type { TrustedKey } from "@kiln/formats/verify-narinfo";
import type { ProxySettings, ServerWeather } from "@kiln/substituter";
import type { Command } from "commander";
import { formatBytes } from "../format-bytes.ts";
import { configOf } from "../global-config.ts";
import { UsageError } from "../usage-error.ts";

interface WeatherOptions {
  substituteUrls?: string;
  manifest?: string;
  key: string[];
  displayMissing?: boolean;
}

const collect = (value: string, previous: string[]) => [...previous, value];

const HELP = `
PATHs and the manifest's entries are combined. A manifest lists one store path a line;
blank lines and lines starting with # are ignored; "-m -" reads standard input.

For each server (in the order given) the report shows: the share of the items it has a
narinfo for, the total size of their nars as downloaded (compressed: the smallest
offered file; "at least" when some narinfos give no FileSize) and on disk (NarSize), the
mean and median time per narinfo request, and requests per second. With --key it also
counts the narinfos carrying a valid signature from those keys. Servers are asked one
after another, 25 requests in flight each, bypassing the substituter's narinfo cache.
The proxy comes from http_proxy, https_proxy and no_proxy.

Exit status: 0 when at least one server could be asked, 1 when none could, 2 for usage errors.

Examples:
  kiln weather --substitute-urls "https://ci.guix.gnu.org http://127.0.0.1:8080" /gnu/store/…-hello-2.12
  kiln store path-info -r /gnu/store/…-hello-2.12 | kiln weather --substitute-urls URL -m -
`;

export function registerWeatherCommand(program: Command): void {
  program
    .command("weather")
    .description(
      "report how many of the given store items each substitute server has, and how fast it answers",
    )
    .argument("[path...]", "store paths to look for")
    .option(
      "--substitute-urls <urls>",
      "servers to ask, separated by spaces (http://, https://, file://)",
    )
    .option(
      "-m, --manifest <file>",
      "read store paths from FILE, one a line ('-' for standard input)",
    )
    .option(
      "--key <file>",
      "count narinfos signed by this public key (Nix 'name:base64', Guix S-expression or ACL); repeatable",
      collect,
      [],
    )
    .option("--display-missing", "list the items that no server has")
    .addHelpText("after", HELP)
    .action(async (args: string[], options: WeatherOptions, command: Command) => {
      const urls = (options.substituteUrls ?? "").split(/\s+/).filter((url) => url !== "");
      if (urls.length === 0) {
        throw new UsageError("no substitute servers given", 'pass --substitute-urls "URL…"');
      }
      const paths = [...args, ...(options.manifest ? readManifest(options.manifest) : [])];
      if (paths.length === 0) {
        throw new UsageError("no store items to look for", "give store PATHs or -m MANIFEST");
      }
      const { storeDir } = configOf(command);
      const { parseTrustedKeys } = await import("@kiln/formats/verify-narinfo");
      const trustedKeys: TrustedKey[] | undefined =
        options.key.length === 0
          ? undefined
          : options.key.flatMap((file) => parseTrustedKeys(readFileSync(file, "utf8")));
      const { checkWeather } = await import("@kiln/substituter");
      const unique = [...new Set(paths)];
      const reports = await checkWeather(unique, {
        urls,
        storeDir,
        trustedKeys,
        proxy: proxyOf(command),
        onProgress: ({ url, done, total }) => {
          if (done === 0) process.stderr.write(`looking for ${total} store items on ${url}...\n`);
        },
      });
      process.stdout.write(formatWeather(reports, unique, options.displayMissing ?? false));
      if (reports.every((report) => report.error !== undefined)) {
        const { KilnError } = await import("@kiln/formats/kiln-error");
        throw new KilnError("ERR_SUBSTITUTE_UNAVAILABLE", "no substitute server could be asked");
      }
    });
}

function readManifest(file: string): string[] {
  const text = readFileSync(file === "-" ? 0 : file, "utf8");
  return text
    .split("\n")
    .map((line) => line.trim())
    .filter((line) => line !== "" && !line.startsWith("#"));
}

/** Proxy variables from the environment the program was given at the edge (lower case wins, as curl). */
function proxyOf(command: Command): ProxySettings {
  let root = command;
  while (root.parent) root = root.parent;
  const env = (root as Command & { kilnEnv?: Record<string, string | undefined> }).kilnEnv ?? {};
  const pick = (name: string) => env[name] ?? env[name.toUpperCase()];
  const httpProxy = pick("http_proxy");
  const httpsProxy = pick("https_proxy");
  const noProxy = pick("no_proxy");
  return {
    ...(httpProxy ? { httpProxy } : {}),
    ...(httpsProxy ? { httpsProxy } : {}),
    ...(noProxy ? { noProxy } : {}),
  };
}

function percent(part: number, whole: number): string {
  return `${whole === 0 ? "0.0" : ((100 * part) / whole).toFixed(1)}%`;
}

function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = sorted.length >> 1;
  return sorted.length % 2 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2;
}

/** The report, one block per server and a summary line. Times in seconds, as guix weather prints them. */
function formatWeather(
  reports: readonly ServerWeather[],
  paths: readonly string[],
  displayMissing: boolean,
): string {
  let text = "";
  for (const report of reports) {
    text += `${report.url}\n`;
    if (report.error !== undefined) {
      text += `  error: ${report.error}\n`;
      continue;
    }
    const have = report.available.length;
    const times = report.requestTimes;
    const mean = times.reduce((sum, time) => sum + time, 0) / Math.max(1, times.length);
    const atLeast = report.fileSizeKnown < have ? "at least " : "";
    text += `  ${percent(have, paths.length)} substitutes available (${have} of ${paths.length})\n`;
    text += `  ${atLeast}${formatBytes(report.fileSize, { separator: " " })} of nars (compressed)\n`;
    text += `  ${formatBytes(report.narSize, { separator: " " })} on disk (uncompressed)\n`;
    text += `  ${(mean / 1000).toFixed(3)} seconds per request (mean), ${(median(times) / 1000).toFixed(3)} (median), ${(report.elapsed / 1000).toFixed(3)} seconds in total\n`;
    text += `  ${(times.length / Math.max(report.elapsed / 1000, 1e-6)).toFixed(1)} requests per second\n`;
    if (report.signed !== undefined)
      text += `  ${report.signed} of ${have} signed by a trusted key\n`;
    if (report.invalid > 0)
      text += `  ${report.invalid} narinfos unusable (malformed or for another path)\n`;
    if (report.failedRequests > 0) text += `  ${report.failedRequests} requests failed\n`;
  }
  const anywhere = new Set(reports.flatMap((report) => report.available));
  const missing = paths.filter((path) => !anywhere.has(path));
  text += `summary: ${paths.length} items, ${anywhere.size} available from at least one server (${percent(anywhere.size, paths.length)}), ${missing.length} missing everywhere\n`;
  if (displayMissing) for (const path of missing) text += `missing: ${path}\n`;
  return text;
}
