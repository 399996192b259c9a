/**
 * How `kiln pull -l` and `kiln describe` show a generation of channels, as Guix does:
 *
 *   Generation 2	Nov 21 2026 07:49:00	(current)
 *     sample 0123456
 *       repository URL: https://example.org/kiln.git
 *       branch: main
 *       commit: 0123456789abcdef0123456789abcdef01234567
 */
import type { ChannelInstance } from "@kiln/packages/channel-instance";

/** `Nov 21 2026 07:49:00`, as Guix shows generation dates (local time). */
export function formatGenerationDate(date: Date): string {
  const month = date.toLocaleString("en-US", { month: "short" });
  const two = (n: number) => String(n).padStart(2, "0");
  return `${month} ${two(date.getDate())} ${date.getFullYear()} ${two(date.getHours())}:${two(date.getMinutes())}:${two(date.getSeconds())}`;
}

/** One generation and its channels, each line ending in a newline. */
export function channelGenerationText(
  generation: { readonly number: number; readonly time: Date; readonly current: boolean },
  channels: readonly ChannelInstance[],
): string {
  const lines = [
    `Generation ${generation.number}\t${formatGenerationDate(generation.time)}${generation.current ? "\t(current)" : ""}`,
  ];
  for (const channel of channels) {
    lines.push(
      `  ${channel.name} ${channel.commit.slice(0, 7)}`,
      `    repository URL: ${channel.url}`,
      `    branch: ${channel.branch}`,
      `    commit: ${channel.commit}`,
    );
    if (channel.directory !== "") lines.push(`    directory: ${channel.directory}`);
  }
  return `${lines.join("\n")}\n`;
}
