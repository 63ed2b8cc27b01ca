import type { Command } from 'commander';
import { action } from '../client/action';
import { parseOptions } from '../client/options';

/** Repeatable options (`--endpoint … --endpoint …`) collect into a list. */
const collect = (value: string, list: string[]) => [...list, value];

export function register(program: Command): void {
  program
    .command('init')
    .description(
      "write a commented plan for your own service (the seed plan's stages per read and write group), checked by the plan loader, then run verify on it",
    )
    .option(
      '--target-id <id>',
      'the service\'s id (letters, digits, ".", "_", "-"); the rollout is rollout-<id>',
    )
    .option('--target-url <url>', "the service's base URL: the probes call it")
    .option('--name <name>', "the plan's name (default <target-id>-rollout)")
    .option('--router <type>', 'how traffic is switched: http, env-file, haproxy, nginx or command')
    .option('--admin-url <url>', 'http: the admin route (default <target-url>/admin/rollout)')
    .option('--token-env <name>', 'http: the variable holding its bearer token (default ADMIN_TOKEN)')
    .option('--env-file <path>', 'env-file: the file of variables the worker edits')
    .option('--restart-command <cmd>', 'env-file: what restarts the service after an edit')
    .option('--health-url <url>', 'env-file: what answers once it is back (default <target-url>/health)')
    .option('--haproxy-socket <path|host:port>', 'haproxy: the Runtime API (a stats socket at level admin)')
    .option('--backend <name|group=name,…>', 'haproxy: the backend of each group (one for all, or per group)')
    .option('--legacy-server <name>', 'haproxy: the legacy server in each backend')
    .option('--domain-server <name>', 'haproxy: the domain server in each backend')
    .option('--nginx-file <path>', 'nginx: the file the provider owns (included inside http {}); written with every group at 0% when missing')
    .option('--nginx-bin <path>', 'nginx: the program that tests and reloads (default nginx)')
    .option('--nginx-prefix <dir>', 'nginx: its -p prefix, for an nginx of your own (not the system one)')
    .option('--nginx-conf <file>', 'nginx: its -c configuration file')
    .option(
      '--status-listen <host:port>',
      "nginx: where the owned file's status server listens (default 127.0.0.1:8099)",
    )
    .option(
      '--upstream <name|group=name,…>',
      'nginx: the upstream of each group (default <target-id>_<group>)',
    )
    .option('--legacy-address <host:port>', 'nginx: the legacy implementation')
    .option('--domain-address <host:port>', 'nginx: the domain implementation')
    .option(
      '--set-command <argv>',
      "command: sets a group's percent, a JSON array or words, with {group} and {percent}",
    )
    .option('--read-command <argv>', 'command: prints the percent in force, with {group}')
    .option('--metrics <source>', "exposition (the service's /metrics) or prometheus (default exposition)")
    .option('--metrics-url <url>', 'exposition: the scrape URL (default <target-url>/metrics)')
    .option('--prometheus-url <url>', 'prometheus: the server')
    .option('--selector <matchers>', 'prometheus: label matchers added to every query, e.g. job="orders-api"')
    .option(
      '--preset <name>',
      'how the metrics are named: default, opentelemetry, micrometer, haproxy, envoy or traefik',
    )
    .option(
      '--impl <[label=L,]domain=D,legacy=L>',
      "how the implementations are told apart: a label's values, or job/instance",
    )
    .option(
      '--endpoint <"METHOD /path">',
      'an endpoint to roll out (repeat); GET/HEAD go to group read, the others to write',
      collect,
      [],
    )
    .option(
      '--group <name=METHOD /path,…>',
      'a group of your own (repeat), instead of read/write by method',
      collect,
      [],
    )
    .option(
      '--param <name=value>',
      "a fixed value for a GET endpoint's {name} parameter in the probes (repeat)",
      collect,
      [],
    )
    .option('--out <file>', 'where to write the plan', 'rollout-plan.yaml')
    .option('--force', 'overwrite --out when it exists')
    .option(
      '--yes',
      'never ask: a missing answer is an error naming its flag (also when stdin is not a terminal)',
    )
    .option('--interactive', 'ask for missing answers on stdin even when it is not a terminal')
    .option('--no-verify', 'write the plan and stop (no verify run)')
    .addHelpText(
      'after',
      `
Exit codes: 2 an answer missing or invalid, or --out exists (nothing is written; the plan's own
problems are listed with their paths). Once the plan is written, init runs \`rollout verify\` on it
and exits with verify's code (0 pass, 1 rollback or unreachable, 2 policy, 5 hold or inconclusive);
with --no-verify, 0. Docs: docs/plan.md, docs/providers.md ("Start from your service").`,
    )
    .action(
      action(async (raw: unknown) => {
        const o = parseOptions('init', raw);
        const { runInit } = await import('./init-run');
        return runInit(o);
      }),
    );
}
