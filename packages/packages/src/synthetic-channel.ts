/**
 * A generator of large synthetic channels for scale tests: a few popular libraries that
 * most packages use (preferential attachment, as in real distributions), a long tail of
 * leaf applications, some propagated inputs and multiple outputs. Deterministic: the same
 * count and seed give the same modules, byte for byte.
 */
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { seededRandom } from "./seeded-random.ts";

export interface SyntheticChannelOptions {
  /** Packages per module; 100 by default. */
  readonly perModule?: number;
  /** Seed of the pseudo-random graph; 1 by default. */
  readonly seed?: number;
}

/**
 * Writes `channel.json` and `modules/mNNNN.ts` for `count` packages into `dir`; a module
 * imports the earlier packages it uses. Returns the module paths.
 * @example writeSyntheticChannel("/tmp/big", 10_000)
 */
export function writeSyntheticChannel(
  dir: string,
  count: number,
  options: SyntheticChannelOptions = {},
): string[] {
  const perModule = options.perModule ?? 100;
  const next = seededRandom(options.seed ?? 1);
  const moduleOf = (index: number) => `m${String(Math.floor(index / perModule)).padStart(4, "0")}`;
  // Times each package was chosen as an input, for preferential attachment.
  const popularity: number[] = [];
  const pool: number[] = [];
  const modules = new Map<string, { imports: Map<string, Set<number>>; body: string[] }>();
  for (let index = 0; index < count; index++) {
    const module = moduleOf(index);
    let entry = modules.get(module);
    if (!entry) {
      entry = { imports: new Map(), body: [] };
      modules.set(module, entry);
    }
    const inputCount = index === 0 ? 0 : Math.min(index, Math.floor(next() * next() * 12));
    const inputs = new Set<number>();
    for (let tries = 0; inputs.size < inputCount && tries < inputCount * 4; tries++) {
      // Half the time a popular package (weighted by use), otherwise any earlier one.
      const pick =
        next() < 0.5 && pool.length > 0
          ? pool[Math.floor(next() * pool.length)]!
          : Math.floor(next() * index);
      inputs.add(pick);
    }
    for (const input of inputs) {
      popularity[input] = (popularity[input] ?? 0) + 1;
      pool.push(input);
      const from = moduleOf(input);
      if (from !== module) {
        const names = entry.imports.get(from) ?? new Set<number>();
        names.add(input);
        entry.imports.set(from, names);
      }
    }
    const list = [...inputs].sort((a, b) => a - b);
    const propagated = list.filter(() => next() < 0.1);
    const plain = list.filter((input) => !propagated.includes(input));
    const outputs = next() < 0.15 ? ', outputs: ["out", "doc"]' : "";
    const docs = outputs ? ' mkdir -p "$doc"; echo doc > "$doc/README";' : "";
    entry.body.push(
      `export const p${index}: Package = { name: "synthetic-${index}", version: "1.${index % 7}", buildSystem: "trivial", arguments: { builder: 'mkdir -p "$out"; echo ${index} > "$out/id";${docs}' }${outputs}, inputs: [${plain.map((i) => `p${i}`).join(", ")}], propagatedInputs: [${propagated.map((i) => `p${i}`).join(", ")}], synopsis: "Synthetic package ${index}", description: "Synthetic package number ${index}, generated for scale tests.", license: licenses.expat, homePage: "https://example.org/synthetic/${index}" };`,
    );
  }
  mkdirSync(join(dir, "modules"), { recursive: true });
  const paths: string[] = [];
  for (const [module, { imports, body }] of modules) {
    const importLines = [...imports]
      .sort(([a], [b]) => (a < b ? -1 : 1))
      .map(
        ([from, names]) =>
          `import { ${[...names]
            .sort((a, b) => a - b)
            .map((i) => `p${i}`)
            .join(", ")} } from "./${from}.ts";`,
      );
    const text = [
      'import { licenses, type Package } from "@kiln/packages";',
      ...importLines,
      ...body,
      "",
    ].join("\n");
    writeFileSync(join(dir, "modules", `${module}.ts`), text);
    paths.push(`modules/${module}.ts`);
  }
  writeFileSync(
    join(dir, "channel.json"),
    `${JSON.stringify({ name: "synthetic", modules: paths }, null, 2)}\n`,
  );
  return paths;
}
