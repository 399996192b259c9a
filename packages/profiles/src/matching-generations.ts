/**
 * Generation patterns, as Guix's `--list-generations`, `--delete-generations` and
 * `guix gc -d` read them. Pure: the generations and the clock are arguments.
 *   `3`          that generation              `1,3,7`   those generations
 *   `2..5`       a range                      `4..`     4 and later   `..4`   1 to 4
 *   `30s` `12h` `10d` `2w` `1m`  a duration (s, h, d, w, m = 30 days), compared at
 *                the day's granularity: both the generation's time and now minus the
 *                duration are rounded down to local midnight first, as Guix does.
 */
import { ProfileError } from "./profile-error.ts";

export type GenerationPattern =
  | { readonly kind: "list"; readonly numbers: readonly number[] }
  | { readonly kind: "from"; readonly first: number }
  | { readonly kind: "upTo"; readonly last: number }
  | { readonly kind: "duration"; readonly seconds: number };

const UNIT_SECONDS: Record<string, number> = {
  s: 1,
  h: 3600,
  d: 24 * 3600,
  w: 7 * 24 * 3600,
  m: 30 * 24 * 3600,
};

/**
 * Parses a duration pattern (`10d`, `2w`, `1m`, `12h`, `30s`), or returns undefined.
 * @example parseDuration("2w") // 1209600
 */
export function parseDuration(text: string): number | undefined {
  const match = /^([0-9]+)([shdwm])$/.exec(text);
  return match ? Number(match[1]) * UNIT_SECONDS[match[2]] : undefined;
}

/**
 * @example parseGenerationPattern("2..5") // { kind: "list", numbers: [2, 3, 4, 5] }
 * @example parseGenerationPattern("1m") // { kind: "duration", seconds: 2592000 }
 */
export function parseGenerationPattern(text: string): GenerationPattern {
  if (/^[+-]?[0-9]+$/.test(text)) return { kind: "list", numbers: [Number(text)] };
  if (/^[0-9]+(,[0-9]+)+$/.test(text)) {
    return { kind: "list", numbers: [...new Set(text.split(",").map(Number))] };
  }
  let match = /^([0-9]+)\.\.([0-9]+)$/.exec(text);
  if (match && Number(match[1]) <= Number(match[2])) {
    const first = Number(match[1]);
    const numbers = Array.from({ length: Number(match[2]) - first + 1 }, (_, i) => first + i);
    return { kind: "list", numbers };
  }
  match = /^([0-9]+)\.\.$/.exec(text);
  if (match) return { kind: "from", first: Number(match[1]) };
  match = /^\.\.([0-9]+)$/.exec(text);
  if (match) return { kind: "upTo", last: Number(match[1]) };
  const seconds = parseDuration(text);
  if (seconds !== undefined) return { kind: "duration", seconds };
  throw new ProfileError("INVALID_PATTERN", `invalid syntax: ${text}`, {
    hint: "use N, N,M,…, N..M, N.., ..N, or a duration such as 10d, 2w, 1m",
  });
}

export interface MatchOptions {
  /** Now (for durations). */
  readonly now: Date;
  /**
   * For durations: `newer` keeps generations made since now minus the duration (listing),
   * `older` those made before it (deletion).
   */
  readonly relation: "newer" | "older";
}

function localMidnight(date: Date): number {
  return new Date(date.getFullYear(), date.getMonth(), date.getDate()).getTime();
}

/**
 * The existing generations a pattern designates, ascending.
 * @example matchingGenerations(parseGenerationPattern("..2"), [{ number: 1, time }, { number: 3, time }], options) // [1]
 */
export function matchingGenerations(
  pattern: GenerationPattern,
  generations: readonly { readonly number: number; readonly time: Date }[],
  options: MatchOptions,
): number[] {
  const numbers = generations.map((g) => g.number).sort((a, b) => a - b);
  switch (pattern.kind) {
    case "list":
      return numbers.filter((n) => pattern.numbers.includes(n));
    case "from":
      return numbers.filter((n) => n >= pattern.first);
    case "upTo":
      return numbers.filter((n) => n >= 1 && n <= pattern.last);
    case "duration": {
      const cutoff = localMidnight(options.now) - pattern.seconds * 1000;
      return generations
        .filter((g) => {
          const day = localMidnight(g.time);
          return options.relation === "newer" ? cutoff <= day : cutoff > day;
        })
        .map((g) => g.number)
        .sort((a, b) => a - b);
    }
  }
}
