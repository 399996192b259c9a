import { PublishError } from "./publish-error.ts";

const UNITS: Record<string, number> = {
  s: 1,
  h: 3600,
  d: 86_400,
  w: 7 * 86_400,
  // As in Guix's string->duration, a month is 30 days.
  m: 30 * 86_400,
};

/**
 * A duration in seconds from Guix's notation: a number and a unit, `s`, `h`, `d`, `w`
 * or `m` (month, 30 days).
 * @example parseDuration("5d") // 432000
 */
export function parseDuration(text: string): number {
  const match = /^([0-9]+)([shdwm])$/.exec(text);
  if (!match) {
    throw new PublishError("DURATION", `${JSON.stringify(text)} is not a duration`, {
      hint: "write a number and a unit: 30s, 12h, 5d, 2w or 1m (30 days)",
    });
  }
  return Number(match[1]) * UNITS[match[2]];
}
