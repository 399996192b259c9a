import assert from "node:assert/strict";
import { test } from "node:test";
import { buildEnvironment } from "./build-environment.ts";

const base = {
  storeDir: "/gnu/store",
  buildTop: "/tmp/kiln-build-hello-2.12.drv-0",
  cores: 3,
};

test("sets guix-daemon's variables, then the derivation's", () => {
  const env = buildEnvironment(
    { out: "/gnu/store/abc-hello", PATH: "/gnu/store/x-coreutils/bin" },
    { ...base, fixedOutput: false },
  );
  assert.deepEqual(env, {
    PATH: "/gnu/store/x-coreutils/bin",
    HOME: "/homeless-shelter",
    NIX_STORE: "/gnu/store",
    NIX_BUILD_CORES: "3",
    out: "/gnu/store/abc-hello",
    NIX_BUILD_TOP: base.buildTop,
    TMPDIR: base.buildTop,
    TEMPDIR: base.buildTop,
    TMP: base.buildTop,
    TEMP: base.buildTop,
    PWD: base.buildTop,
  });
});

test("a derivation cannot move the build-tree variables", () => {
  const env = buildEnvironment(
    { TMPDIR: "/elsewhere", NIX_BUILD_TOP: "/x" },
    {
      ...base,
      fixedOutput: false,
    },
  );
  assert.equal(env.TMPDIR, base.buildTop);
  assert.equal(env.NIX_BUILD_TOP, base.buildTop);
});

test("non-fixed-output builds never see the host environment", () => {
  const env = buildEnvironment(
    { impureEnvVars: "http_proxy SECRET" },
    { ...base, fixedOutput: false, impureEnv: { http_proxy: "http://proxy:3128", SECRET: "s" } },
  );
  assert.equal(env.http_proxy, undefined);
  assert.equal(env.SECRET, undefined);
});

test("fixed-output builds get proxies and their impureEnvVars", () => {
  const env = buildEnvironment(
    { impureEnvVars: " GIT_PROXY_COMMAND\tSSL_CERT_FILE ", out: "/gnu/store/abc-src" },
    {
      ...base,
      fixedOutput: true,
      impureEnv: {
        http_proxy: "http://proxy:3128",
        https_proxy: "http://proxy:3129",
        SSL_CERT_FILE: "/etc/ssl/cert.pem",
        HOME: "/root",
      },
    },
  );
  assert.equal(env.http_proxy, "http://proxy:3128");
  assert.equal(env.https_proxy, "http://proxy:3129");
  assert.equal(env.SSL_CERT_FILE, "/etc/ssl/cert.pem");
  // Listed but unset on the host: present and empty, as guix-daemon does.
  assert.equal(env.GIT_PROXY_COMMAND, "");
  // Not listed: not copied.
  assert.equal(env.HOME, "/homeless-shelter");
});

test("proxies absent from the host are not invented", () => {
  const env = buildEnvironment({}, { ...base, fixedOutput: true, impureEnv: {} });
  assert.equal("http_proxy" in env, false);
  assert.equal("https_proxy" in env, false);
});
