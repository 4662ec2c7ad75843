import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { startBerth, tempDir, type BerthServer } from '../helpers/berth.js';
import { missingTools } from '../helpers/tools.js';
import { requestFrom } from '../helpers/registry-client.js';
import { basic } from '../auth/helpers.js';

const skip = missingTools('htpasswd');

/** Users as `htpasswd -B -C COST` writes them. */
function htpasswd(dir: string, users: Record<string, string>, cost: number): string {
  const path = join(dir, 'htpasswd');
  const lines = Object.entries(users).map(([u, p]) => execFileSync('htpasswd', ['-Bbn', '-C', String(cost), u, p], { encoding: 'utf8' }).trim());
  writeFileSync(path, `${lines.join('\n')}\n`);
  return path;
}

const audit = (server: BerthServer) => server.logs.filter((l) => l.audit === true && l.event === 'login');

describe('logins cannot freeze the registry or lock out a client that knows its password', { skip }, () => {
  let server: BerthServer;

  before(async () => {
    const dir = tempDir('berth-logins-');
    // Cost 12 (a quarter second a check): the burst below arrives well within the time the first checks take.
    const file = htpasswd(dir, { robot: 'robot-Secret-1', carol: 'carol-Secret-2', alice: 'alice-Secret-3' }, 12);
    server = await startBerth({
      config: `auth:
  htpasswd: ${file}
  loginLimit: { perUserAddress: 5, perAddress: 10000, perUser: 5, window: 10m, concurrent: 2, queue: 16 }
`,
    });
  });
  after(() => server?.stop());

  test('300 concurrent logins of an unknown user: the event loop keeps answering, the excess is refused at once', async () => {
    let checkedDone = 0;
    const floods = Array.from({ length: 300 }, (_, i) =>
      fetch(`${server.url}/v2/`, { headers: basic(`nobody${i % 7}`, 'wrong') }).then(async (r) => {
        await r.arrayBuffer();
        if (r.status === 401) checkedDone++;
        return { status: r.status, retryAfter: r.headers.get('retry-after') };
      }),
    );
    // Each check takes tens of milliseconds of bcrypt: while they run in the thread pool, a probe is answered at once.
    const probe = await fetch(`${server.url}/healthz`);
    assert.equal(probe.status, 200);
    const checkedWhenProbed = checkedDone;
    const results = await Promise.all(floods);
    const checked = results.filter((r) => r.status === 401).length;
    assert.ok(checkedWhenProbed < checked / 2, `the probe waited for ${checkedWhenProbed} of ${checked} password checks`);
    const refused = results.filter((r) => r.status === 429);
    assert.equal(refused.length, 300 - checked, 'the rest were refused');
    assert.ok(refused.every((r) => Number(r.retryAfter) > 0), 'with Retry-After');
    // Two checks run and sixteen wait; the burst arrives faster than checks finish, so most find no place.
    const limitedLines = () => audit(server).filter((l) => String(l.who).startsWith('nobody') && l.result === 'limited');
    for (let i = 0; i < 100 && limitedLines().length < refused.length; i++) await sleep(20);
    const busy = limitedLines().filter((l) => l.reason === 'too many logins in progress; try again shortly').length;
    assert.ok(busy > 100, `refused at once for lack of a place: ${busy}`);
    assert.ok(results.every((r) => r.status === 401 || r.status === 429));
  });

  test('a burst of guesses gets no more password checks than the limit: attempts count while in flight', async () => {
    const burst = await Promise.all(
      Array.from({ length: 60 }, (_, i) => requestFrom('127.0.0.5', `${server.url}/v2/`, basic('carol', `guess-${i}`))),
    );
    assert.equal(burst.filter((r) => r.status === 401).length, 5, 'exactly perUserAddress checks; the rest refused unchecked');
    assert.equal(burst.filter((r) => r.status === 429).length, 55);
    // Each one audited (log lines arrive a little after the responses).
    for (let i = 0; i < 100 && audit(server).filter((l) => l.who === 'carol').length < 60; i++) await sleep(20);
    assert.equal(audit(server).filter((l) => l.who === 'carol' && l.result === 'failed').length, 5);
    assert.equal(audit(server).filter((l) => l.who === 'carol' && l.result === 'limited').length, 55);
  });

  test('guesses from one address lock that address out for that user, not the client elsewhere with the right password', async () => {
    for (let i = 0; i < 8; i++) await requestFrom('127.0.0.2', `${server.url}/v2/`, basic('robot', `guess-${i}`));
    const attackerWithPassword = await requestFrom('127.0.0.2', `${server.url}/v2/`, basic('robot', 'robot-Secret-1'));
    assert.equal(attackerWithPassword.status, 429, 'a locked pair stays locked even for the right password: no guess is confirmed');
    const robot = await requestFrom('127.0.0.1', `${server.url}/v2/`, basic('robot', 'robot-Secret-1'));
    assert.equal(robot.status, 200, 'the robot elsewhere is not locked out');
    // From yet another address the attacker is slowed down (the user is under attack), with a reason.
    const elsewhere = await requestFrom('127.0.0.3', `${server.url}/v2/`, basic('robot', 'guess-x'));
    assert.equal(elsewhere.status, 429);
    assert.match(elsewhere.body, /slowed down/);
    assert.equal((await requestFrom('127.0.0.1', `${server.url}/v2/`, basic('robot', 'robot-Secret-1'))).status, 200, 'still in');
    assert.equal((await requestFrom('127.0.0.4', `${server.url}/v2/`, basic('alice', 'alice-Secret-3'))).status, 200, 'other users untouched');
  });
});

describe('an unknown user costs what a known one does', { skip }, () => {
  test('the decoy hash has the median cost of the file (htpasswd -B writes cost 5)', async () => {
    const dir = tempDir('berth-decoy-');
    const file = htpasswd(dir, { a: 'pa', b: 'pb', c: 'pc' }, 5);
    const server = await startBerth({ config: `auth:\n  htpasswd: ${file}\n` });
    try {
      const loaded = server.logs.find((l) => l.msg === 'users loaded');
      assert.equal(loaded?.users, 3);
      assert.equal(loaded?.decoyCost, 5, 'not a fixed cost 10: an unknown user would answer 32 times slower');
    } finally {
      await server.stop();
    }
  });
});
