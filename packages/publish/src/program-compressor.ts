/**
 * A compressor that is a program (lzip), as a stream: the nar goes to its stdin, the
 * compressed bytes come from its stdout, both through pipes with backpressure. A
 * program that fails (or cannot start) fails the stream with its last stderr line;
 * destroying the stream (a client that went away) kills the program.
 */
import { spawn, spawnSync } from "node:child_process";
import { Duplex } from "node:stream";
import { PublishError } from "./publish-error.ts";

const runs = new Map<string, boolean>();

/**
 * True when `program --version` succeeds (checked once per process and program).
 * @example programRuns("lzip") // true where Debian's lzip is installed
 */
export function programRuns(program: string): boolean {
  let ok = runs.get(program);
  if (ok === undefined) {
    ok = spawnSync(program, ["--version"], { stdio: "ignore" }).status === 0;
    runs.set(program, ok);
  }
  return ok;
}

/**
 * Runs `program args…` as a filter and returns it as a Duplex stream. The stream ends
 * only once the program has exited with status 0, so a compressor that dies midway
 * cannot pass for a complete (shorter) file.
 * @example pipeline(narStream, createProgramCompressor("lzip", ["-6", "-c"]), file)
 */
export function createProgramCompressor(program: string, args: readonly string[]): Duplex {
  const child = spawn(program, args, { stdio: ["pipe", "pipe", "pipe"] });
  let stderr = "";
  child.stderr.setEncoding("utf8").on("data", (text: string) => {
    if (stderr.length < 4096) stderr += text;
  });
  const exited = new Promise<Error | undefined>((resolve) => {
    child.once("error", (cause) =>
      resolve(
        new PublishError("COMPRESSOR", `cannot run ${program}: ${cause.message}`, {
          cause,
          hint: `install ${program}`,
        }),
      ),
    );
    child.once("close", (code, signal) => {
      const detail = stderr.trim().split("\n").pop() || `exit ${code ?? signal}`;
      resolve(
        code === 0 ? undefined : new PublishError("COMPRESSOR", `${program} failed: ${detail}`),
      );
    });
  });
  // An EPIPE on stdin means the program stopped early; its exit status says why.
  child.stdin.on("error", () => {});
  const duplex = new Duplex({
    readableHighWaterMark: 1 << 20,
    write(chunk: Buffer, _encoding, callback) {
      if (child.stdin.write(chunk)) callback();
      else child.stdin.once("drain", () => callback());
    },
    final(callback) {
      child.stdin.end(callback);
    },
    read() {
      child.stdout.resume();
    },
    destroy(error, callback) {
      if (child.exitCode === null && child.signalCode === null) child.kill();
      callback(error);
    },
  });
  child.stdout.on("data", (chunk: Buffer) => {
    if (!duplex.push(chunk)) child.stdout.pause();
  });
  child.stdout.once("end", () => {
    void exited.then((error) => {
      if (error) duplex.destroy(error);
      else duplex.push(null);
    });
  });
  void exited.then((error) => {
    if (error && !duplex.destroyed) duplex.destroy(error);
  });
  return duplex;
}
