/**
 * The Python CLI (`.venv/bin/backchannel`) as a second client against the same server:
 * each person has their own BACKCHANNEL_HOME; passphrases go in through the environment.
 */
import { execFile } from "node:child_process";
import { mkdir } from "node:fs/promises";
import path from "node:path";
import { promisify } from "node:util";
import { BIN, REPO } from "./server.js";

const run = promisify(execFile);

export function cliUser(server, name, passphrase) {
  const home = path.join(server.directory, `cli-${name}`);
  return {
    name,
    home,
    /** Run one command with --json; its parsed output, or an error with stderr. */
    async json(...args) {
      await mkdir(home, { recursive: true, mode: 0o700 });
      const env = { ...server.env, BACKCHANNEL_HOME: home, BACKCHANNEL_SERVER: server.url, BACKCHANNEL_PASSPHRASE: passphrase };
      try {
        const { stdout } = await run(path.join(BIN, "backchannel"), [...args, "--json"], { env, cwd: REPO });
        return JSON.parse(stdout.trim().split("\n").at(-1));
      } catch (error) {
        throw new Error(`backchannel ${args[0]} failed: ${error.stdout ?? ""}${error.stderr ?? error.message}`);
      }
    },
  };
}
