/** Licenses packages name, as Guix's `(guix licenses)`. */
import type { License } from "./package.ts";

export const licenses = {
  gpl3Plus: { name: "GPL-3.0-or-later", uri: "https://www.gnu.org/licenses/gpl-3.0.html" },
  gpl2Plus: { name: "GPL-2.0-or-later", uri: "https://www.gnu.org/licenses/gpl-2.0.html" },
  lgpl3Plus: { name: "LGPL-3.0-or-later", uri: "https://www.gnu.org/licenses/lgpl-3.0.html" },
  expat: { name: "MIT", uri: "https://spdx.org/licenses/MIT.html" },
  asl2: { name: "Apache-2.0", uri: "https://www.apache.org/licenses/LICENSE-2.0" },
  cc0: { name: "CC0-1.0", uri: "https://creativecommons.org/publicdomain/zero/1.0/" },
  ccBySa4: { name: "CC-BY-SA-4.0", uri: "https://creativecommons.org/licenses/by-sa/4.0/" },
  fdl13Plus: { name: "GFDL-1.3-or-later", uri: "https://www.gnu.org/licenses/fdl-1.3.html" },
} as const satisfies Record<string, License>;
