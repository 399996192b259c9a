/**
 * `--switch-generation=+1` and `-1`, and roll-back's "previous generation": moving along
 * the generations that exist (there may be holes where generations were deleted). Pure.
 */

/**
 * The generation `shift` steps from `current` among `numbers` (ascending), or undefined
 * when there is none (or `current` is not among them).
 * @example relativeGeneration([1, 2, 5], 5, -1) // 2
 * @example relativeGeneration([1, 2, 5], 5, 1) // undefined
 */
export function relativeGeneration(
  numbers: readonly number[],
  current: number,
  shift: number,
): number | undefined {
  const index = numbers.indexOf(current);
  if (index < 0) return undefined;
  const target = index + shift;
  return target >= 0 && target < numbers.length ? numbers[target] : undefined;
}
