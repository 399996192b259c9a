/**
 * The daemon's DaemonSubstituter on top of @kiln/substituter: one Substituter (with its
 * narinfo cache) per list of URLs, trusting the keys of the daemon's ACL.
 */
import type { TrustedKey } from "@kiln/formats/verify-narinfo";
import type { LocalStore } from "@kiln/store/local-store";
import type { ProxySettings } from "@kiln/substituter/resource-fetcher";
import { Substituter } from "@kiln/substituter/substituter";
import type { DaemonSubstituter, SubstitutableInfo } from "./daemon-substituter.ts";

export interface SubstituterAdapterOptions {
  readonly store: LocalStore;
  readonly defaultUrls: readonly string[];
  readonly trustedKeys: readonly TrustedKey[];
  readonly proxy?: ProxySettings;
  readonly onWarning?: (message: string) => void;
}

export function createDaemonSubstituter(
  options: SubstituterAdapterOptions,
): DaemonSubstituter & { close(): void } {
  const byUrls = new Map<string, Substituter>();
  const forUrls = (urls: readonly string[] | undefined) => {
    const list = [...(urls ?? options.defaultUrls)];
    const key = list.join(" ");
    let substituter = byUrls.get(key);
    if (!substituter) {
      substituter = new Substituter({
        store: options.store,
        urls: list,
        trustedKeys: [...options.trustedKeys],
        proxy: options.proxy,
        onWarning: options.onWarning,
      });
      byUrls.set(key, substituter);
    }
    return substituter;
  };
  return {
    async querySubstitutable(paths, { urls }) {
      if ((urls ?? options.defaultUrls).length === 0) return new Map();
      const { found } = await forUrls(urls).querySubstitutablePathInfos(paths);
      const { storeDir } = options.store.config;
      const infos = new Map<string, SubstitutableInfo>();
      for (const [path, offer] of found) {
        const { narinfo } = offer;
        infos.set(path, {
          deriver: narinfo.deriver ? `${storeDir}/${narinfo.deriver}` : undefined,
          references: narinfo.references.map((reference) => `${storeDir}/${reference}`),
          downloadSize: narinfo.urls[0]?.fileSize ?? narinfo.narSize,
          narSize: narinfo.narSize,
        });
      }
      return infos;
    },
    async substitute(paths, { urls, log }) {
      if ((urls ?? options.defaultUrls).length === 0) return new Set();
      const { substituted, failed } = await forUrls(urls).substitutePaths(paths);
      for (const [path, message] of failed) log?.(`could not substitute ${path}: ${message}`);
      return new Set(substituted);
    },
    close() {
      for (const substituter of byUrls.values()) substituter.close();
    },
  };
}
