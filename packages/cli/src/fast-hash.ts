/**
 * `kiln hash -S nar FILE…` without the command tree: the plain form of the command that
 * scripts run in loops (`guix hash -S nar`, `nix hash path`), recognised from argv and
 * run with only the modules it needs. Loading commander and registering every verb
 * costs ~40 ms here, more than a third of hashing a 100 MiB tree. Any other form of the
 * command (another format, algorithm or serializer, `--help`, global options) returns
 * undefined from `plainNarHashFiles` and goes through the full CLI; the output and
 * errors are the same either way.
 */
import type { NarHashThread } from "@kiln/formats/nar-hash-thread";

/**
 * The files of a plain NAR-hash command line, or undefined when the line has any other
 * option (so that the full CLI handles it).
 * @example plainNarHashFiles(["hash", "-S", "nar", "dir"]) // ["dir"]
 */
export function plainNarHashFiles(argv: readonly string[]): string[] | undefined {
  if (argv[0] !== "hash") return undefined;
  const files: string[] = [];
  let nar = false;
  for (let i = 1; i < argv.length; i++) {
    const arg = argv[i];
    if (arg === "-S" || arg === "--serializer") {
      if (argv[i + 1] !== "nar") return undefined;
      nar = true;
      i++;
    } else if (
      arg === "-Snar" ||
      arg === "--serializer=nar" ||
      arg === "-r" ||
      arg === "--recursive"
    ) {
      nar = true;
    } else if (arg === "" || arg.startsWith("-")) {
      return undefined;
    } else {
      files.push(arg);
    }
  }
  return nar && files.length > 0 ? files : undefined;
}

/**
 * Hashes `files` as `kiln hash -S nar` does, printing nix-base32 SHA-256; returns the exit
 * code. With the native walker, the first file's walk starts before the rest of the
 * command loads and this thread hashes; otherwise `thread` (prewarmed) hashes while this
 * thread walks.
 */
export async function runPlainNarHash(
  files: readonly string[],
  thread: NarHashThread | undefined,
): Promise<number> {
  const { startNativeNarWalk } = await import("@kiln/formats/nar-native");
  const first = thread ? undefined : startNativeNarWalk(files[0]);
  const { hashPath } = await import("@kiln/formats/hash-path");
  const { formatDigest } = await import("@kiln/formats/hash");
  const worker =
    thread && new (await import("@kiln/formats/nar-hash-worker")).NarHashWorker(thread);
  const { quietOnBrokenPipe } = await import("./quiet-broken-pipe.ts");
  quietOnBrokenPipe();
  try {
    for (const [index, file] of files.entries()) {
      const { hash } = worker
        ? await worker.hashPath(file, "sha256")
        : await hashPath(file, "sha256", index === 0 ? first : undefined);
      process.stdout.write(`${formatDigest(hash, "nix32")}\n`);
    }
    return 0;
  } catch (error) {
    const { reportError } = await import("./report-error.ts");
    return reportError(error, process.stderr);
  } finally {
    first?.close();
    await worker?.close();
  }
}
