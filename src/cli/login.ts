/** `podunit login` and `podunit logout`: a registry's credentials in auth.json; a password is never printed or taken as an argument. */
import type { Command } from "./common/command.ts";
import { parseArgs } from "./common/args.ts";
import { configDir } from "./common/config.ts";
import { hasTerminal, openTerminal, passwordFromStdin } from "./common/secret.ts";
import { UsageError } from "../errors.ts";

const LOGIN_OPTIONS = { username: { value: true, short: "u" }, "password-stdin": { value: false } } as const;

function oneRegistry(verb: string, positionals: string[]): string {
  if (positionals.length !== 1) throw new UsageError(`'podunit ${verb}' takes one REGISTRY (HOST[:PORT], e.g. docker.io), not ${positionals.length}.`);
  return positionals[0]!;
}

export const login: Command = {
  name: "login",
  summary: "Check and store credentials for a registry (auth.json in /etc/podunit or $PODUNIT_CONFIG_DIR)",
  usage: "podunit login REGISTRY [--username USER] [--password-stdin]\nWithout --password-stdin the password is read from the terminal, not echoed.",
  options: LOGIN_OPTIONS,
  args: ["registry"],
  async run(args, io) {
    const { options, positionals } = parseArgs("login", args, LOGIN_OPTIONS);
    const registry = oneRegistry("login", positionals);
    const fromStdin = options["password-stdin"] === true;
    let username = options.username as string | undefined;
    if (username === undefined && (fromStdin || !hasTerminal())) {
      throw new UsageError("'podunit login' needs --username when there is no terminal to ask on or the password comes from standard input.");
    }
    if (!fromStdin && !hasTerminal()) throw new UsageError("'podunit login' has no terminal to read the password from.", "Pipe it in with --password-stdin.");
    let password: string;
    if (fromStdin) password = passwordFromStdin();
    else {
      const tty = openTerminal();
      try {
        username ??= (await tty.ask("Username: ", false)).trim();
        password = await tty.ask("Password: ", true);
      } finally {
        tty.close();
      }
    }
    const { login: loginUseCase } = await import("../image/fetch.ts");
    const name = await loginUseCase(registry, { username: username!, password }, { configDir: configDir(io) });
    io.out(`Logged in to ${name} as ${username}.\n`);
    return 0;
  },
};

export const logout: Command = {
  name: "logout",
  summary: "Remove the stored credentials for a registry",
  usage: "podunit logout REGISTRY",
  options: {},
  args: ["registry"],
  async run(args, io) {
    const { positionals } = parseArgs("logout", args, {});
    const registry = oneRegistry("logout", positionals);
    const { logout: logoutUseCase } = await import("../image/fetch.ts");
    io.out(logoutUseCase(registry, { configDir: configDir(io) }) ? `Logged out of ${registry}.\n` : `Not logged in to ${registry}.\n`);
    return 0;
  },
};
