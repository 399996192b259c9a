/**
 * The checkers of `kiln lint`, as `guix lint`'s: each looks at one package (some at the
 * whole channel) and returns messages. They are pure, except `derivation`, which lowers.
 */
import { bootstrapFor } from "./bootstrap-seeds.ts";
import { sha256Hex } from "./lower-origin.ts";
import { lowerPackage } from "./lower-package.ts";
import type { Input, License, Origin, Package } from "./package.ts";
import { defaultSupportedSystems } from "./package-summary.ts";

export interface LintChecker {
  readonly name: string;
  readonly description: string;
  /** Messages about `pkg`; `all` is the channel, for checks across packages. */
  check(pkg: Package, all: readonly Package[]): string[] | Promise<string[]>;
}

const ARTICLE = /^(a|an|the)\s/i;

function checkSynopsis(pkg: Package): string[] {
  const s = pkg.synopsis;
  if (s.trim() === "") return ["synopsis should not be empty"];
  const problems: string[] = [];
  if (/^[a-z]/.test(s)) problems.push("synopsis should start with an upper-case letter or digit");
  if (s.endsWith(".") && !s.endsWith("..."))
    problems.push("no period allowed at the end of the synopsis");
  if (ARTICLE.test(s)) problems.push("no article allowed at the beginning of the synopsis");
  if (s.length > 80)
    problems.push(`synopsis should be less than 80 characters long (it is ${s.length})`);
  if (s.toLowerCase().startsWith(`${pkg.name.toLowerCase()} `))
    problems.push("synopsis should not start with the package name");
  if (s !== s.trim()) problems.push("synopsis contains leading or trailing white space");
  return problems;
}

function checkDescription(pkg: Package): string[] {
  const d = pkg.description;
  if (d.trim() === "") return ["description should not be empty"];
  const problems: string[] = [];
  if (/^[a-z]/.test(d))
    problems.push("description should start with an upper-case letter or digit");
  if (!/[.!?]\s*$/.test(d)) problems.push("description should end with a period");
  if (/\t/.test(d)) problems.push("description should not contain tabs");
  if (/\s$/.test(d) || /^\s/.test(d))
    problems.push("description contains leading or trailing white space");
  return problems;
}

function checkLicense(pkg: Package): string[] {
  const licenses = (Array.isArray(pkg.license) ? pkg.license : [pkg.license]) as readonly License[];
  if (licenses.length === 0) return ["no license given"];
  return licenses.flatMap((license) =>
    typeof license?.name === "string" &&
    license.name !== "" &&
    /^https?:\/\//.test(license?.uri ?? "")
      ? []
      : [`invalid license field: ${JSON.stringify(license)}`],
  );
}

function checkName(pkg: Package): string[] {
  if (!/^[a-z0-9][a-z0-9+.-]*$/.test(pkg.name))
    return [
      "name should be lower case letters, digits, '+', '.' and '-', starting with a letter or digit",
    ];
  return [];
}

function checkVersion(pkg: Package): string[] {
  if (/^v\d/.test(pkg.version)) return ["version should not start with 'v'"];
  if (!/^[0-9][0-9A-Za-z.+~_-]*$/.test(pkg.version))
    return [
      `version ${JSON.stringify(pkg.version)} should start with a digit and contain no spaces`,
    ];
  return [];
}

function checkHomePage(pkg: Package): string[] {
  if (pkg.homePage === undefined) return ["no home page"];
  let url: URL;
  try {
    url = new URL(pkg.homePage);
  } catch {
    return [`invalid home page URL: ${JSON.stringify(pkg.homePage)}`];
  }
  if (url.protocol !== "https:" && url.protocol !== "http:")
    return [`home page should be an http(s) URL, not ${url.protocol}`];
  return [];
}

function checkSource(pkg: Package): string[] {
  const origins: Origin[] = [
    ...(pkg.source ? [pkg.source] : []),
    ...(pkg.arguments?.patches ?? []),
  ];
  const problems: string[] = [];
  for (const origin of origins) {
    if (origin.kind !== "url" && origin.kind !== "git") continue;
    try {
      sha256Hex(origin.sha256);
    } catch (error) {
      problems.push(`source hash: ${(error as Error).message}`);
    }
    try {
      const url = new URL(origin.url);
      if (
        !["https:", "http:", "ftp:", "mirror:"].includes(url.protocol) &&
        !(origin.kind === "git" && url.protocol === "git:")
      )
        problems.push(`source URL ${origin.url} has an unsupported scheme`);
    } catch {
      problems.push(`invalid source URL: ${JSON.stringify(origin.url)}`);
    }
    if (origin.kind === "git" && !/^[0-9a-f]{40}$/.test(origin.commit))
      problems.push(
        `git commit should be a full 40-digit hash, not ${JSON.stringify(origin.commit)}`,
      );
  }
  return problems;
}

/** Tools that run at build time: as inputs, they should be native inputs. */
const BUILD_TOOLS = new Set([
  "pkg-config",
  "texinfo",
  "gettext",
  "autoconf",
  "automake",
  "libtool",
  "bison",
  "flex",
  "help2man",
]);

function checkInputsShouldBeNative(pkg: Package): string[] {
  const name = (input: Input) =>
    (Array.isArray(input) ? (input as readonly [Package, string])[0] : (input as Package)).name;
  return (pkg.inputs ?? [])
    .map(name)
    .filter((inputName) => BUILD_TOOLS.has(inputName))
    .map((inputName) => `'${inputName}' should probably be a native input`);
}

/**
 * The duplicates check over anything with a name and version (packages, or the evaluation
 * sandbox's summaries of them): `pkg` is compared with the others of `all` by identity.
 * @example duplicateMessages(hello, channel.packages) // [] when hello@2.12 is defined once
 */
export function duplicateMessages<P extends Pick<Package, "name" | "version">>(
  pkg: P,
  all: readonly P[],
): string[] {
  const twins = all.filter(
    (other) => other !== pkg && other.name === pkg.name && other.version === pkg.version,
  );
  return twins.length > 0
    ? [`${pkg.name}@${pkg.version} is defined ${twins.length + 1} times`]
    : [];
}

async function checkDerivation(pkg: Package): Promise<string[]> {
  const problems: string[] = [];
  for (const system of pkg.supportedSystems ?? defaultSupportedSystems) {
    try {
      await lowerPackage(pkg, {
        system,
        storeDir: "/gnu/store",
        bootstrap: bootstrapFor("/gnu/store"),
      });
    } catch (error) {
      problems.push(`failed to create ${system} derivation: ${(error as Error).message}`);
    }
  }
  return problems;
}

/** Every checker, in the order `kiln lint` runs them. */
export const lintCheckers: readonly LintChecker[] = [
  { name: "synopsis", description: "Validate package synopses", check: checkSynopsis },
  { name: "description", description: "Validate package descriptions", check: checkDescription },
  {
    name: "license",
    description: "Make sure the 'license' field is a license",
    check: checkLicense,
  },
  { name: "name", description: "Validate package names", check: checkName },
  { name: "version", description: "Validate package versions", check: checkVersion },
  { name: "home-page", description: "Validate home-page URLs", check: checkHomePage },
  { name: "source", description: "Validate source URLs and hashes", check: checkSource },
  {
    name: "inputs-should-be-native",
    description: "Identify inputs that should be native inputs",
    check: checkInputsShouldBeNative,
  },
  {
    name: "duplicates",
    description: "Report packages defined more than once with one version",
    check: duplicateMessages,
  },
  {
    name: "derivation",
    description: "Report failure to compute derivations for every supported system",
    check: checkDerivation,
  },
];
