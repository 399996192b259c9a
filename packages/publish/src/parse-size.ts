import { PublishError } from "./publish-error.ts";

const UNITS: Record<string, number> = {
  "": 1,
  B: 1,
  K: 1024,
  KiB: 1024,
  KB: 1000,
  M: 1024 ** 2,
  MiB: 1024 ** 2,
  MB: 1000 ** 2,
  G: 1024 ** 3,
  GiB: 1024 ** 3,
  GB: 1000 ** 3,
  T: 1024 ** 4,
  TiB: 1024 ** 4,
  TB: 1000 ** 4,
};

/**
 * A size in bytes in Guix's notation: a number with an optional unit, `K`/`KiB` (1024),
 * `KB` (1000), and so on up to T.
 * @example parseSize("10M") // 10485760
 */
export function parseSize(text: string): number {
  const match = /^([0-9]+(?:\.[0-9]+)?)([A-Za-z]*)$/.exec(text);
  const unit = match ? UNITS[match[2]] : undefined;
  if (!match || unit === undefined) {
    throw new PublishError("SIZE", `${JSON.stringify(text)} is not a size`, {
      hint: "write a number with an optional unit: 500K, 10M, 1GiB, 2GB",
    });
  }
  return Math.round(Number(match[1]) * unit);
}
