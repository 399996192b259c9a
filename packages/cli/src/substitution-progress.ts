/**
 * The progress of substitutions on stderr, as `guix build` shows it. On a terminal, one
 * live line per download at the bottom,
 *   `substituting /gnu/store/…-hello-2.12  1.2MiB/s 00:01 | 3.4MiB [####      ] 45%`,
 * under an overall `[2/7 substituted] 12.3MiB/45.6MiB` line, redrawn at most every
 * 100 ms; elsewhere (a file, a pipe) only plain lines, one when a download starts and
 * one when it is over: `substituting PATH...`, `downloaded PATH (3.4MiB)`.
 */
import type { DownloadProgress } from "@kiln/substituter/download-nar";
import { formatBytes } from "./format-bytes.ts";

/** Where the view goes: process.stderr at the edge, or a test double. */
export interface ProgressStream {
  write(text: string): unknown;
  readonly isTTY?: boolean;
  readonly columns?: number;
}

export interface SubstitutionProgressOptions {
  /** Milliseconds, for rates and redraw throttling (tests drive time). */
  readonly now?: () => number;
}

interface Download {
  readonly path: string;
  readonly started: number;
  received: number;
  total: number | undefined;
}

const CLEAR_TO_END = "\u001b[J";
const REDRAW_MS = 100;
const BAR_WIDTH = 20;

function formatElapsed(ms: number): string {
  const seconds = Math.floor(ms / 1000);
  const pad = (n: number) => String(n).padStart(2, "0");
  return seconds >= 3600
    ? `${Math.floor(seconds / 3600)}:${pad(Math.floor(seconds / 60) % 60)}:${pad(seconds % 60)}`
    : `${pad(Math.floor(seconds / 60))}:${pad(seconds % 60)}`;
}

export class SubstitutionProgress {
  readonly #stream: ProgressStream;
  readonly #now: () => number;
  readonly #downloads = new Map<string, Download>();
  #planned = 0;
  #plannedBytes: number | undefined;
  #finished = 0;
  #finishedBytes = 0;
  /** Lines of the live view now on screen (0: none). */
  #shown = 0;
  #drawnAt = Number.NEGATIVE_INFINITY;

  /**
   * @example
   * const progress = new SubstitutionProgress(process.stderr);
   * new Substituter({ …, onProgress: (event) => progress.update(event) });
   */
  constructor(stream: ProgressStream, options: SubstitutionProgressOptions = {}) {
    this.#stream = stream;
    this.#now = options.now ?? Date.now;
  }

  /** How many items (and compressed bytes, when known) are about to be substituted. */
  plan(items: number, bytes?: number): void {
    this.#planned = items;
    this.#plannedBytes = bytes;
    this.#draw(true);
  }

  /** Takes one event of the Substituter's `onProgress`. */
  update(event: DownloadProgress): void {
    let download = this.#downloads.get(event.path);
    if (download === undefined) {
      // A late event of a download already over, or one that failed before it began.
      if (event.done || event.error !== undefined) return;
      download = {
        path: event.path,
        started: this.#now(),
        received: event.received,
        total: event.total,
      };
      this.#downloads.set(event.path, download);
      this.#print(`substituting ${event.path}...\n`);
    }
    download.received = event.received;
    download.total = event.total;
    if (event.error !== undefined) {
      this.#downloads.delete(event.path);
      this.#print(`download of ${event.path} failed: ${event.error}\n`);
    } else if (event.done) {
      this.#downloads.delete(event.path);
      this.#finished++;
      this.#finishedBytes += event.received;
      this.#print(`downloaded ${event.path} (${formatBytes(event.received)})\n`);
    } else {
      this.#draw(false);
    }
  }

  /** Runs `write` (which prints something else, a warning say) with the live view out of the way. */
  interject(write: () => void): void {
    this.#erase();
    write();
    this.#draw(true);
  }

  /** Removes the live lines; call once the substitutions are over. */
  close(): void {
    this.#erase();
  }

  /** Prints a permanent line above the live view, then draws the view again. */
  #print(text: string): void {
    this.#erase();
    this.#stream.write(text);
    this.#draw(true);
  }

  #erase(): void {
    if (this.#shown === 0) return;
    // Up to the first live line (the cursor rests at the end of the last), then clear.
    const up = this.#shown > 1 ? `\u001b[${this.#shown - 1}A` : "";
    this.#stream.write(`${up}\r${CLEAR_TO_END}`);
    this.#shown = 0;
  }

  #draw(force: boolean): void {
    if (this.#stream.isTTY !== true) return;
    const now = this.#now();
    if (!force && now - this.#drawnAt < REDRAW_MS) return;
    this.#drawnAt = now;
    this.#erase();
    if (this.#downloads.size === 0) return;
    const width = Math.max(20, (this.#stream.columns ?? 80) - 1);
    const lines = [...this.#downloads.values()].map((download) =>
      this.#downloadLine(download, now, width),
    );
    lines.push(this.#overallLine(width));
    this.#stream.write(lines.join("\n"));
    this.#shown = lines.length;
  }

  #downloadLine(download: Download, now: number, width: number): string {
    const elapsed = now - download.started;
    const rate = elapsed > 0 ? (download.received * 1000) / elapsed : 0;
    let right = `  ${formatBytes(Math.round(rate))}/s ${formatElapsed(elapsed)} | ${formatBytes(download.received)}`;
    if (download.total !== undefined && download.total > 0) {
      const fraction = Math.min(1, download.received / download.total);
      const filled = Math.round(fraction * BAR_WIDTH);
      right += ` [${"#".repeat(filled)}${" ".repeat(BAR_WIDTH - filled)}] ${Math.floor(fraction * 100)}%`;
    }
    let left = `substituting ${download.path}`;
    const room = width - right.length;
    if (left.length > room) left = `${left.slice(0, Math.max(0, room - 1))}…`;
    return `${left}${right}`.slice(0, width);
  }

  #overallLine(width: number): string {
    const planned = Math.max(this.#planned, this.#finished + this.#downloads.size);
    let received = this.#finishedBytes;
    for (const download of this.#downloads.values()) received += download.received;
    const of = this.#plannedBytes === undefined ? "" : `/${formatBytes(this.#plannedBytes)}`;
    return `[${this.#finished}/${planned} substituted] ${formatBytes(received)}${of}`.slice(
      0,
      width,
    );
  }
}
