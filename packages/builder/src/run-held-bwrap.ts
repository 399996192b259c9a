/**
 * A sandbox set up before its builder may start: bwrap does everything up to the exec of
 * the builder with the inputs that exist, then waits (`--block-fd`) until the build
 * learns the rest of its inputs (the outputs of the builds it waited for). Used to take
 * the setup of a sandbox off the critical path of a chain of builds.
 */
import { bwrapArguments, ETC_FILES, INFO_FD, type ResolvedInput } from "./bwrap-arguments.ts";
import { resolveSandboxInputs } from "./resolve-sandbox-inputs.ts";
import { defaultBwrap, runBwrap } from "./run-bwrap.ts";
import { sandboxEtcFiles } from "./sandbox-etc-files.ts";
import type { SandboxLayout } from "./sandbox-layout.ts";
import type { SandboxInput, SandboxOptions, SandboxSpec } from "./sandbox-spec.ts";
import type { WantedStoreEntry } from "./sandbox-store-dir.ts";
import type { BuildProcessOutcome } from "./watch-build-process.ts";

/**
 * Sets up the sandbox with the inputs known now and holds bwrap before it starts the
 * builder (`--block-fd`) until `startWhen` settles. Late inputs that are all small files
 * are copied in by the caller, and the builder starts; if one must be bound instead, the
 * held sandbox is ended and `fallback` says which to start again with.
 *
 * @example
 * const held = await runHeldBwrap(spec, options, { layout, inputs, ids, startWhen });
 * if (held.late) copyIn(held.late);
 * const outcome = await held.outcome();
 */
export async function runHeldBwrap(
  spec: SandboxSpec,
  options: SandboxOptions,
  setup: {
    layout: SandboxLayout;
    inputs: readonly ResolvedInput[];
    ids: { uid: number; gid: number };
    startWhen: Promise<readonly SandboxInput[] | undefined>;
  },
): Promise<{
  /** What the late inputs need in the store directory (all copies). */
  late?: ReadonlyMap<string, WantedStoreEntry>;
  fallback?: readonly SandboxInput[];
  started: boolean;
  outcome: () => Promise<BuildProcessOutcome>;
}> {
  const { layout, inputs, ids } = setup;
  const bwrap = options.bwrap ?? defaultBwrap();
  const etcFiles = sandboxEtcFiles({ ...ids, network: spec.network });
  const files = ETC_FILES.flatMap((name) => etcFiles[name] ?? []);
  const blockFd = INFO_FD + 1 + files.length;
  const args = bwrapArguments(spec, { layout, inputs, etcFiles, ...ids, blockFd });
  const stop = new AbortController();
  const signal =
    options.signal === undefined ? stop.signal : AbortSignal.any([options.signal, stop.signal]);
  let letGo!: () => void;
  const released = new Promise<void>((resolve) => {
    letGo = resolve;
  });
  const running = runBwrap({ bwrap, args, files, released }, spec, { ...options, signal });
  const settled = await Promise.race([
    setup.startWhen.then(
      (late) => ({ late }),
      (error: unknown) => ({ error }),
    ),
    running.then(() => "ended" as const),
  ]);
  if (settled === "ended") return { started: false, outcome: () => running };
  const end = async () => {
    stop.abort();
    await running;
  };
  if ("error" in settled) {
    await end();
    throw settled.error;
  }
  const { late } = settled;
  if (late === undefined) {
    stop.abort();
    return { started: false, outcome: () => running };
  }
  const resolved = resolveSandboxInputs(late, { copyFiles: true });
  if (resolved.inputs.length > 0) {
    await end();
    return { fallback: late, started: false, outcome: () => running };
  }
  // The caller copies the late inputs in before it asks for the outcome.
  return {
    late: resolved.wanted,
    started: true,
    outcome: () => {
      letGo();
      return running;
    },
  };
}
