/**
 * Where the build log of a store item is: Kiln's builder keeps the log of `<drv>` at
 * `${stateDir}/kiln/log/drvs/<first two characters>/<rest>.gz` (as Guix does under
 * /var/log/guix/drvs). Uncompressed and bzip2 logs, as an older daemon left them, are
 * found too. For an output path the log is its deriver's.
 */
import { statSync } from "node:fs";
import { join } from "node:path";

export interface LogFile {
  readonly file: string;
  readonly size: number;
  /** How it is stored: sent as Content-Encoding gzip, as application/x-bzip2, or as is. */
  readonly encoding: "gzip" | "bzip2" | "none";
}

/**
 * The log file of the derivation with base name `drvBaseName` under `logDir`
 * (`${stateDir}/kiln/log/drvs`), if there is one.
 * @example findLogFile("/var/kiln/log/drvs", "ab12…-hello-2.12.drv")
 */
export function findLogFile(logDir: string, drvBaseName: string): LogFile | undefined {
  const stem = join(logDir, drvBaseName.slice(0, 2), drvBaseName.slice(2));
  for (const [suffix, encoding] of [
    [".gz", "gzip"],
    [".bz2", "bzip2"],
    ["", "none"],
  ] as const) {
    try {
      const stat = statSync(stem + suffix);
      if (stat.isFile()) return { file: stem + suffix, size: stat.size, encoding };
    } catch {
      // Try the next form.
    }
  }
  return undefined;
}
