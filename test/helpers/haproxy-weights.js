#!/usr/bin/env node
// haproxy-weights <socket> set <group> <percent> | haproxy-weights <socket> read <group>
//
// A router script for the `command` traffic provider, as an operator would write one for an
// HAProxy the orchestrator does not drive itself: group <g> is backend be_<g> with servers `legacy`
// and `domain`; `set` moves the weights through the Runtime API on <socket>, `read` prints the
// domain's share of the weights HAProxy serves. Plain node (no socat), so it runs wherever the
// worker does. The test suites read HAProxy's state back through `serverStates` below.
'use strict';
const net = require('node:net');

/** One Runtime API command on the admin socket; resolves with the whole answer. */
function ask(socket, command, timeoutMs = 5000) {
  return new Promise((resolve, reject) => {
    const conn = net.createConnection(socket);
    let out = '';
    const timer = setTimeout(() => conn.destroy(new Error(`no answer to "${command}" within ${timeoutMs}ms`)), timeoutMs);
    conn.on('connect', () => conn.end(`${command}\n`));
    conn.on('data', (d) => (out += d.toString()));
    conn.on('error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
    conn.on('close', () => {
      clearTimeout(timer);
      resolve(out);
    });
  });
}

/**
 * `show servers state <backend>`: per server its weight (`srv_uweight`), whether it is up
 * (`srv_op_state` 2) and whether it is in maintenance or draining (`srv_admin_state` not 0).
 */
async function serverStates(socket, backend) {
  const answer = await ask(socket, `show servers state ${backend}`);
  const lines = answer.split('\n').filter((l) => l.trim() !== '');
  const header = lines.find((l) => l.startsWith('# be_id'));
  if (!header) throw new Error(`show servers state ${backend}: ${answer.trim() || 'empty answer'}`);
  const columns = header.slice(2).split(' ');
  const at = (name) => columns.indexOf(name);
  const out = {};
  for (const line of lines.filter((l) => !l.startsWith('#'))) {
    const f = line.split(' ');
    out[f[at('srv_name')]] = {
      weight: Number(f[at('srv_uweight')]),
      up: f[at('srv_op_state')] === '2',
      admin: Number(f[at('srv_admin_state')]) !== 0,
    };
  }
  return out;
}

/** The domain's share of the serving weights, in percent. */
async function domainPercent(socket, backend) {
  const s = await serverStates(socket, backend);
  const serving = (name) => (s[name] && s[name].up && !s[name].admin ? s[name].weight : 0);
  const total = serving('domain') + serving('legacy');
  return total === 0 ? 0 : Math.round((serving('domain') * 100) / total);
}

async function main([socket, verb, group, percent]) {
  if (!socket || !/^[a-z][a-z0-9-]*$/.test(group || '') || !['set', 'read'].includes(verb)) {
    console.error('usage: haproxy-weights <socket> set <group> <percent> | haproxy-weights <socket> read <group>');
    return 64;
  }
  const backend = `be_${group}`;
  if (verb === 'read') {
    console.log(await domainPercent(socket, backend));
    return 0;
  }
  const p = Number(percent);
  if (!Number.isInteger(p) || p < 0 || p > 100) {
    console.error(`percent must be a whole number 0..100, got ${percent}`);
    return 64;
  }
  // The side that ends the heavier first, so the pair never passes through 0/0 (HAProxy would
  // answer 503): 100% → 0% sets legacy to 100 before domain to 0.
  const order = p >= 50 ? ['domain', 'legacy'] : ['legacy', 'domain'];
  for (const server of order) {
    const answer = (await ask(socket, `set server ${backend}/${server} weight ${server === 'domain' ? p : 100 - p}`)).trim();
    if (answer !== '') {
      console.error(answer);
      // No such backend or server: the group is not one this HAProxy knows, which no retry mends.
      return /No such/.test(answer) ? 64 : 1;
    }
  }
  return 0;
}

module.exports = { ask, serverStates, domainPercent };

if (require.main === module)
  main(process.argv.slice(2)).then(
    (code) => process.exit(code),
    (err) => {
      console.error(err.message);
      process.exit(1);
    },
  );
