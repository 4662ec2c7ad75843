import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { Exit } from '../../src/cli/exit.js';
import { htpasswdFile } from '../auth/helpers.js';
import { startBerth, tempDir, type BerthServer } from '../helpers/berth.js';
import { berth } from '../helpers/cli.js';
import { Terminal } from '../helpers/terminal.js';
import { missingTools } from '../helpers/tools.js';

const PASSWORD = 'login-Secret-42';
let basicServer: BerthServer;
let tokenServer: BerthServer;
const env = () => ({ BERTH_HOME: tempDir('berth-home-'), DOCKER_CONFIG: tempDir('berth-dc-') });

before(async () => {
  const dir = tempDir('berth-login-');
  const users = htpasswdFile(dir, { ci: PASSWORD, victim: PASSWORD, target: PASSWORD });
  const limit = 'loginLimit: { perUserAddress: 2, perAddress: 1000, window: 10m }';
  [basicServer, tokenServer] = await Promise.all([
    startBerth({ config: `auth:\n  htpasswd: ${users}\n  ${limit}\naccess:\n  - { repos: "**", users: [ci], actions: ["*"] }\n` }),
    startBerth({ config: `auth:\n  htpasswd: ${users}\n  ${limit}\n  token: { issuer: berth, expiry: 5m }\naccess:\n  - { repos: "**", users: [ci], actions: ["*"] }\n` }),
  ]);
});
after(() => Promise.all([basicServer.stop(), tokenServer.stop()]));

describe('berth login', () => {
  test('on a terminal it asks for the username and, without echo, the password', { skip: missingTools('tmux') }, async () => {
    const e = env();
    const term = new Terminal(['login', basicServer.host], e);
    try {
      await term.waitFor(/^Username: ?$/m);
      // A typo corrected with backspace makes readline redraw the line: the prompt must survive that.
      term.keys('c', 'x', 'BSpace');
      term.type('i');
      await term.waitFor(/^Password: ?$/m);
      term.type(PASSWORD);
      const screen = await term.waitFor(/EXIT=\d+/);
      assert.match(screen, /Username: ci\nPassword: ?\nLogin Succeeded \(credentials saved in .*config\.json\)\nEXIT=0/);
      assert.ok(!screen.includes(PASSWORD), 'the password is not echoed');
    } finally {
      term.close();
    }
    const auths = (JSON.parse(readFileSync(join(e.DOCKER_CONFIG, 'config.json'), 'utf8')) as { auths: Record<string, unknown> }).auths;
    assert.deepEqual(Object.keys(auths), [basicServer.host]);
  });

  test('-p works but warns, as docker does', async () => {
    const r = await berth(['login', basicServer.host, '-u', 'ci', '-p', PASSWORD], env());
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stderr, 'WARNING! Using --password via the CLI is insecure. Use --password-stdin.\n');
  });

  for (const [mode, server, user] of [['Basic', () => basicServer, 'victim'], ['token', () => tokenServer, 'target']] as const) {
    test(`a login lockout (${mode}) is reported with its Retry-After, and not retried`, async () => {
      const e = env();
      for (let i = 0; i < 2; i++) {
        const wrong = await berth(['login', server().host, '-u', user, '--password-stdin'], e, { input: 'wrong\n' });
        assert.equal(wrong.code, Exit.auth, wrong.stderr);
      }
      const locked = await berth(['login', server().host, '-u', user, '--password-stdin'], e, { input: `${PASSWORD}\n` });
      assert.equal(locked.code, Exit.auth, locked.stderr);
      assert.match(locked.stderr, /refuses further logins for now \(HTTP 429: too many failed attempts\); try again in 10 minutes\n$/);
      assert.doesNotMatch(locked.stderr, /retrying/);
      const attempts = server().logs.filter((l) => l.msg === 'request' && l.status === 429).length;
      assert.equal(attempts, 1, 'the locked-out login was tried once');
    });
  }
});
