/**
 * SetOptions: the build settings a client asks for, and what the daemon grants. Any
 * client may tune its own builds (keep failed trees, keep going, time limits, cores,
 * whether to substitute); only trusted clients may change what weakens isolation or
 * trust (the sandbox, substitute URLs). Refused settings are ignored with a warning, as
 * Nix does, rather than failing the client.
 */
import type { FrameReader } from "@kiln/formats/worker-protocol-framing";
import type { WireFormat } from "./wire-format.ts";
import { Verbosity } from "./worker-protocol.ts";

/** The settings of one connection, as the daemon applies them to its builds. */
export interface ClientSettings {
  readonly keepFailed: boolean;
  readonly keepGoing: boolean;
  readonly tryFallback: boolean;
  readonly verbosity: number;
  /** Seconds; 0 means the daemon's default. */
  readonly maxSilentTime: number;
  /** Seconds; 0 means the daemon's default. */
  readonly timeout: number;
  /** 0 means the daemon's default. */
  readonly buildCores: number;
  readonly useSubstitutes: boolean;
  /** Substitute URLs a trusted client chose; undefined: the daemon's. */
  readonly substituteUrls?: readonly string[];
  /** A trusted client turned the sandbox off. */
  readonly disableChroot: boolean;
}

/** SetOptions as sent: the fixed fields, then the name/value overrides. */
export interface WireClientOptions {
  readonly keepFailed: boolean;
  readonly keepGoing: boolean;
  readonly tryFallback: boolean;
  readonly verbosity: number;
  readonly maxBuildJobs: number;
  readonly maxSilentTime: number;
  readonly buildCores: number;
  readonly useSubstitutes: boolean;
  readonly overrides: ReadonlyMap<string, string>;
}

export const DEFAULT_CLIENT_SETTINGS: ClientSettings = Object.freeze({
  keepFailed: false,
  keepGoing: false,
  tryFallback: false,
  verbosity: Verbosity.Info,
  maxSilentTime: 0,
  timeout: 0,
  buildCores: 0,
  useSubstitutes: true,
  disableChroot: false,
});

/** Reads a SetOptions request (the operation code already read). */
export async function readClientOptions(
  reader: FrameReader,
  format: WireFormat,
): Promise<WireClientOptions> {
  const keepFailed = await reader.bool();
  const keepGoing = await reader.bool();
  const tryFallback = await reader.bool();
  const verbosity = await reader.u64();
  const maxBuildJobs = await reader.u64();
  const maxSilentTime = await reader.u64();
  let buildCores = 0;
  let useSubstitutes = true;
  if (format.minor >= 2) await reader.u64(); // useBuildHook, obsolete
  if (format.minor >= 4) {
    await reader.u64(); // build verbosity
    await reader.u64(); // log type, obsolete
    await reader.u64(); // print build trace, obsolete
  }
  if (format.minor >= 6) buildCores = await reader.u64();
  if (format.minor >= 10) useSubstitutes = await reader.bool();
  const overrides = new Map<string, string>();
  if (format.minor >= 12) {
    for (let n = await reader.u64(); n > 0; n--) {
      const name = await reader.string(4096);
      overrides.set(name, await reader.string(1 << 20));
    }
  }
  return {
    keepFailed,
    keepGoing,
    tryFallback,
    verbosity,
    maxBuildJobs,
    maxSilentTime,
    buildCores,
    useSubstitutes,
    overrides,
  };
}

/** Settings every client may set through an override. */
const SECONDS = new Map([
  ["build-timeout", "timeout"],
  ["timeout", "timeout"],
  ["max-silent-time", "maxSilentTime"],
  ["build-max-silent-time", "maxSilentTime"],
] as const);

/** Overrides that change nothing here, sent by Nix or Guix clients as a matter of course. */
const HARMLESS = new Set([
  "experimental-features",
  "extra-experimental-features",
  "plugin-files",
  "ssh-auth-sock",
  "show-trace",
  "connect-timeout",
  "max-jobs",
  "build-max-jobs",
  "terminal-columns",
  "locale",
  "build-repeat",
  "print-extended-build-trace",
  "multiplexed-build-output",
  "build-verbosity",
  "use-substitutes",
  "narinfo-cache-negative-ttl",
  "narinfo-cache-positive-ttl",
  "builders",
  "keep-failed",
  "keep-going",
  "fallback",
  "store",
]);

/** Overrides that weaken isolation or trust: trusted clients only. */
const SANDBOX = new Set(["sandbox", "build-use-sandbox", "build-use-chroot"]);
const SUBSTITUTERS = new Set(["substituters", "substitute-urls", "extra-substituters"]);

/**
 * What the daemon grants of a SetOptions request. Returns the settings and the warnings
 * to send to the client.
 *
 * @example
 * applyClientOptions(options, { trusted: false }).warnings
 * // ["ignoring the client-specified setting 'sandbox', …"]
 */
export function applyClientOptions(
  options: WireClientOptions,
  context: { trusted: boolean },
): { settings: ClientSettings; warnings: string[] } {
  const warnings: string[] = [];
  const settings = {
    ...DEFAULT_CLIENT_SETTINGS,
    keepFailed: options.keepFailed,
    keepGoing: options.keepGoing,
    tryFallback: options.tryFallback,
    verbosity: options.verbosity,
    maxSilentTime: options.maxSilentTime,
    buildCores: options.buildCores,
    useSubstitutes: options.useSubstitutes,
  } as { -readonly [K in keyof ClientSettings]: ClientSettings[K] };
  const restricted = (name: string) =>
    warnings.push(
      `ignoring the client-specified setting '${name}', because it is a restricted setting and you are not a trusted user`,
    );
  for (const [name, value] of options.overrides) {
    const seconds = SECONDS.get(name as never);
    if (seconds !== undefined) {
      const number = Number(value);
      if (Number.isSafeInteger(number) && number >= 0) settings[seconds] = number;
      else warnings.push(`ignoring setting '${name}': ${JSON.stringify(value)} is not a number`);
    } else if (name === "cores" || name === "build-cores") {
      const number = Number(value);
      if (Number.isSafeInteger(number) && number >= 0) settings.buildCores = number;
    } else if (SANDBOX.has(name)) {
      if (!context.trusted) restricted(name);
      else settings.disableChroot = value === "false";
    } else if (SUBSTITUTERS.has(name)) {
      if (!context.trusted) restricted(name);
      else
        settings.substituteUrls = [
          ...(name === "extra-substituters" ? (settings.substituteUrls ?? []) : []),
          ...value.split(/\s+/).filter((url) => url !== ""),
        ];
    } else if (!HARMLESS.has(name) && !context.trusted) {
      restricted(name);
    }
  }
  return { settings, warnings };
}
