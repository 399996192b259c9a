/**
 * Work started before the command tree is even loaded. Hashing a large tree's NAR is
 * fastest with a second thread. The native walker (nar-native.ts) starts its own in
 * microseconds when asked; without it, a worker thread hashes, and it takes ~30 ms to
 * boot: starting it here, with nothing else loaded, overlaps that boot with loading the
 * CLI, so `kiln hash -S nar` does not wait for it. Keep this module's imports minimal.
 */
import type { NarHashThread } from "@kiln/formats/nar-hash-thread";
import { nativeNarAvailable } from "@kiln/formats/nar-native";

let narHashThread: NarHashThread | undefined;

/**
 * True when the arguments ask for NAR hashes of trees: `kiln hash -S nar …` (or `-r`,
 * `--serializer=nar`) and `kiln store add …`.
 */
export function wantsNarHash(argv: readonly string[]): boolean {
  const store = argv.indexOf("store");
  if (store >= 0 && argv[store + 1] === "add") return true;
  if (!argv.includes("hash")) return false;
  return argv.some(
    (arg, i) =>
      arg === "-r" ||
      arg === "--recursive" ||
      arg === "-Snar" ||
      arg === "--serializer=nar" ||
      ((arg === "-S" || arg === "--serializer") && argv[i + 1] === "nar"),
  );
}

/** Starts what `argv` will need; loads node:worker_threads only when a worker is needed. */
export async function prewarm(argv: readonly string[]): Promise<void> {
  if (!wantsNarHash(argv) || nativeNarAvailable()) return;
  const { startNarHashThread } = await import("@kiln/formats/nar-hash-thread");
  narHashThread = startNarHashThread();
}

/** The prewarmed hash thread, if any; the caller owns it (and stops it) from now on. */
export function takeNarHashThread(): NarHashThread | undefined {
  const thread = narHashThread;
  narHashThread = undefined;
  return thread;
}
