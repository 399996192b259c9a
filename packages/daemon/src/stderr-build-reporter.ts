/**
 * Shows builds to one client over its stderr channel, the way nix-daemon does so that
 * `nix-build` prints "building '…'…" and the builder's output: an activity per build
 * (type Build, fields drv path, machine, round, rounds) whose log lines go out as
 * BuildLogLine results, under a Builds activity whose Progress results count what is
 * done, expected, running and failed.
 *
 * Guix clients get Guix's build traces instead (`@ build-started …`, the raw output,
 * `@ build-succeeded …` / `@ build-failed …`), which `guix build` parses for its display.
 */
import { StringDecoder } from "node:string_decoder";
import type { BuildReporter, BuildResult } from "@kiln/builder/build-options";
import type { StderrChannel } from "./stderr-channel.ts";
import { ActivityType, ResultType, Verbosity } from "./worker-protocol.ts";

interface RunningBuild {
  readonly activity: number;
  readonly decoder: StringDecoder;
  partial: string;
  /** Bytes of output not sent because the client was not reading. */
  skipped: number;
}

/**
 * Build output waiting in a client's socket beyond this is not sent to it: a client that
 * does not read must not make the daemon hold a build's whole log in memory, nor hold
 * up a build other clients share. It is told how much it missed; the log file has it all.
 */
export const LOG_BACKLOG_LIMIT = 4 * 2 ** 20;

export class StderrBuildReporter implements BuildReporter {
  readonly #channel: StderrChannel;
  readonly #system: string;
  readonly #running = new Map<string, RunningBuild>();
  #realise = 0;
  #builds = 0;
  #expected = 0;
  #done = 0;
  #failed = 0;

  constructor(channel: StderrChannel, options: { system?: string } = {}) {
    this.#channel = channel;
    this.#system = options.system ?? "";
  }

  get #guix(): boolean {
    return this.#channel.format.dialect === "guix";
  }

  /** Opens the activities a build request shows under. */
  begin(): void {
    this.#realise = this.#channel.startActivity(ActivityType.Realise, "", {
      level: Verbosity.Error,
    });
    this.#builds = this.#channel.startActivity(ActivityType.Builds, "", {
      level: Verbosity.Error,
      parent: this.#realise,
    });
  }

  /** Closes them (every running build has finished or been left by then). */
  end(): void {
    for (const [drvPath, running] of this.#running) this.#close(drvPath, running);
    this.#channel.stopActivity(this.#builds);
    this.#channel.stopActivity(this.#realise);
    this.#builds = 0;
    this.#realise = 0;
  }

  #progress(): void {
    this.#channel.result(this.#builds, ResultType.Progress, [
      this.#done,
      this.#expected,
      this.#running.size,
      this.#failed,
    ]);
  }

  planned(total: number): void {
    this.#expected += total;
    this.#progress();
  }

  started(drvPath: string, _name: string): void {
    if (this.#running.has(drvPath)) return;
    if (this.#guix) {
      this.#channel.logRaw(`@ build-started ${drvPath} - ${this.#system} - ${process.pid}\n`);
    }
    const activity = this.#guix
      ? 0
      : this.#channel.startActivity(ActivityType.Build, `building '${drvPath}'`, {
          level: Verbosity.Info,
          fields: [drvPath, "", 1, 1],
          parent: this.#builds,
        });
    this.#running.set(drvPath, {
      activity,
      decoder: new StringDecoder("utf8"),
      partial: "",
      skipped: 0,
    });
    this.#progress();
  }

  output(drvPath: string, chunk: Uint8Array): void {
    const running = this.#running.get(drvPath);
    if (running === undefined) return;
    if (this.#channel.backlog > LOG_BACKLOG_LIMIT) {
      running.skipped += chunk.length;
      return;
    }
    if (running.skipped > 0) {
      const note = `[kiln: ${running.skipped} bytes of build output were not sent: the client read too slowly; the whole log: kiln build --log-file ${drvPath}]`;
      running.skipped = 0;
      running.partial = "";
      running.decoder.end();
      if (this.#guix) this.#channel.logRaw(`\n${note}\n`);
      else this.#line(running, note);
    }
    if (this.#guix) {
      this.#channel.logRaw(chunk);
      return;
    }
    const text = running.partial + running.decoder.write(Buffer.from(chunk));
    const lines = text.split("\n");
    running.partial = lines.pop() ?? "";
    for (const line of lines) this.#line(running, line);
  }

  #line(running: RunningBuild, line: string): void {
    const clean = line.endsWith("\r") ? line.slice(0, -1) : line;
    if (running.activity === 0) this.#channel.log(clean, Verbosity.Error);
    else this.#channel.result(running.activity, ResultType.BuildLogLine, [clean]);
  }

  #close(drvPath: string, running: RunningBuild): void {
    const rest = running.partial + running.decoder.end();
    if (rest !== "" && !this.#guix) this.#line(running, rest);
    this.#channel.stopActivity(running.activity);
    this.#running.delete(drvPath);
  }

  finished(result: BuildResult): void {
    const running = this.#running.get(result.drvPath);
    if (running !== undefined) this.#close(result.drvPath, running);
    const ok = result.status === "built" || result.status === "checked";
    if (ok || result.status === "already-valid") this.#done++;
    else this.#failed++;
    if (this.#guix && running !== undefined) {
      this.#channel.logRaw(
        ok
          ? `@ build-succeeded ${result.drvPath} -\n`
          : `@ build-failed ${result.drvPath} - 1 ${result.error?.message ?? result.status}\n`,
      );
    }
    this.#progress();
  }

  warning(message: string): void {
    this.#channel.warn(message);
  }
}
