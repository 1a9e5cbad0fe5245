/**
 * A real Backchannel server for the end-to-end test: a temporary SQLite database, the
 * default Argon2id parameters (BACKCHANNEL_KDF_* unset), a free port on 127.0.0.1.
 * Its log is kept so the test can show that no secret reached the server in a URL.
 */
import { spawn, execFile } from "node:child_process";
import { mkdtemp, rm } from "node:fs/promises";
import net from "node:net";
import os from "node:os";
import path from "node:path";
import { promisify } from "node:util";

export const REPO = path.resolve(import.meta.dirname, "..", "..");
export const BIN = path.join(REPO, ".venv", "bin");
const run = promisify(execFile);

function freePort() {
  return new Promise((resolve, reject) => {
    const probe = net.createServer();
    probe.once("error", reject);
    probe.listen(0, "127.0.0.1", () => {
      const { port } = probe.address();
      probe.close(() => resolve(port));
    });
  });
}

/** The environment of the server and the CLI: nothing weakened, only a fresh database. */
function environment(directory) {
  const env = { ...process.env };
  for (const name of Object.keys(env)) {
    if (name.startsWith("BACKCHANNEL_")) {
      delete env[name];
    }
  }
  env.BACKCHANNEL_DATABASE_URL = `sqlite:///${path.join(directory, "e2e.db")}`;
  env.BACKCHANNEL_PURGE_INTERVAL_SECONDS = "0";
  return env;
}

/** `extra`: more BACKCHANNEL_* settings (the release test's BACKCHANNEL_WEB_RELEASE). */
export async function startServer(extra = {}) {
  const directory = await mkdtemp(path.join(os.tmpdir(), "backchannel-e2e-"));
  const env = { ...environment(directory), ...extra };
  await run(path.join(BIN, "backchannel-server"), ["migrate"], { env, cwd: REPO });
  const port = await freePort();
  const child = spawn(path.join(BIN, "backchannel-server"), ["serve", "--host", "127.0.0.1", "--port", String(port)], {
    env,
    cwd: REPO,
    stdio: ["ignore", "pipe", "pipe"],
  });
  let log = "";
  child.stdout.on("data", (chunk) => { log += chunk; });
  child.stderr.on("data", (chunk) => { log += chunk; });
  const url = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 30_000;
  for (;;) {
    if (child.exitCode !== null) {
      throw new Error(`the server exited early:\n${log}`);
    }
    try {
      if ((await fetch(`${url}/healthz`)).ok) {
        break;
      }
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) {
      child.kill("SIGTERM");
      throw new Error(`the server did not answer /healthz within 30 s:\n${log}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  return {
    url,
    directory,
    env,
    log: () => log,
    async stop() {
      if (child.exitCode === null) {
        const exited = new Promise((resolve) => child.once("exit", resolve));
        child.kill("SIGTERM");
        await exited;
      }
      await rm(directory, { recursive: true, force: true });
    },
  };
}
