/**
 * The live view of `kiln build` on stderr: each build's output as it comes (line by
 * line, prefixed with the derivation's name when several builds can run at once), and
 * on a terminal one status line at the bottom, "[2/7 built, 1 running] building foo".
 * Nothing but the plain lines goes to a file or a pipe.
 */
import { StringDecoder } from "node:string_decoder";
import type { BuildReporter, BuildResult } from "./build-options.ts";

/** Where the view goes: process.stderr at the edge, or a test double. */
export interface TerminalStream {
  write(text: string): unknown;
  readonly isTTY?: boolean;
  readonly columns?: number;
}

export interface BuildTerminalOptions {
  /** The most builds at once; the output is prefixed with names when above 1. Default 1. */
  maxJobs?: number;
  /** Show the builders' output; default true. */
  showOutput?: boolean;
}

interface Running {
  readonly name: string;
  readonly decoder: StringDecoder;
  partial: string;
}

const CLEAR_LINE = "\r\u001b[K";

export class BuildTerminal implements BuildReporter {
  readonly #stream: TerminalStream;
  readonly #maxJobs: number;
  readonly #showOutput: boolean;
  readonly #running = new Map<string, Running>();
  #total = 0;
  #built = 0;
  #failed = 0;
  #prefix = false;
  #statusShown = false;

  /**
   * @example
   * const terminal = new BuildTerminal(process.stderr, { maxJobs: 2 });
   * await buildDerivations(store, drvPaths, { maxJobs: 2, reporter: terminal });
   * terminal.close();
   */
  constructor(stream: TerminalStream, options: BuildTerminalOptions = {}) {
    this.#stream = stream;
    this.#maxJobs = options.maxJobs ?? 1;
    this.#showOutput = options.showOutput ?? true;
  }

  planned(total: number): void {
    this.#total = total;
    this.#prefix = this.#maxJobs > 1 && total > 1;
  }

  started(drvPath: string, name: string): void {
    this.#running.set(drvPath, { name, decoder: new StringDecoder("utf8"), partial: "" });
    this.#print(`building '${drvPath}'...\n`);
  }

  output(drvPath: string, chunk: Uint8Array): void {
    const build = this.#running.get(drvPath);
    if (build === undefined || !this.#showOutput) return;
    const text = build.partial + build.decoder.write(Buffer.from(chunk));
    const end = text.lastIndexOf("\n");
    if (end === -1) {
      build.partial = text;
      return;
    }
    build.partial = text.slice(end + 1);
    this.#printLines(build, text.slice(0, end));
  }

  finished(result: BuildResult): void {
    const build = this.#running.get(result.drvPath);
    if (build !== undefined) {
      this.#running.delete(result.drvPath);
      const rest = build.partial + build.decoder.end();
      if (rest !== "" && this.#showOutput) this.#printLines(build, rest);
    }
    if (result.status === "failed" || result.status === "dependency-failed") {
      this.#failed++;
      if (result.error !== undefined) this.#print(`error: ${result.error.message}\n`);
    } else if (result.status !== "skipped") {
      // Built, checked, or found valid meanwhile: done either way.
      this.#built++;
    }
    this.#drawStatus();
  }

  warning(message: string): void {
    this.#print(`warning: ${message}\n`);
  }

  /** Removes the status line; call once the builds are over. */
  close(): void {
    if (this.#statusShown) this.#stream.write(CLEAR_LINE);
    this.#statusShown = false;
  }

  #printLines(build: Running, text: string): void {
    const prefix = this.#prefix ? `${build.name}> ` : "";
    const lines = text.split("\n").map((line) => `${prefix}${line}\n`);
    this.#print(lines.join(""));
  }

  /** Prints above the status line, then draws it again. */
  #print(text: string): void {
    if (this.#statusShown) this.#stream.write(CLEAR_LINE);
    this.#statusShown = false;
    this.#stream.write(text);
    this.#drawStatus();
  }

  #drawStatus(): void {
    if (this.#stream.isTTY !== true) return;
    if (this.#running.size === 0) {
      if (this.#statusShown) this.#stream.write(CLEAR_LINE);
      this.#statusShown = false;
      return;
    }
    const counts = [`${this.#built}/${this.#total} built`];
    if (this.#failed > 0) counts.push(`${this.#failed} failed`);
    counts.push(`${this.#running.size} running`);
    const names = [...this.#running.values()].map((build) => build.name).join(", ");
    let line = `[${counts.join(", ")}] building ${names}`;
    const width = (this.#stream.columns ?? 80) - 1;
    if (line.length > width) line = `${line.slice(0, Math.max(0, width - 1))}…`;
    this.#stream.write(`${CLEAR_LINE}${line}`);
    this.#statusShown = true;
  }
}
