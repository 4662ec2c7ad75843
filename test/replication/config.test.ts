import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { loadConfig } from '../../src/config/config.js';
import { tempDir } from '../helpers/berth.js';

function load(yaml: string) {
  const file = join(tempDir('berth-repl-config-'), 'berth.yaml');
  writeFileSync(file, yaml);
  return () => loadConfig({ file, env: {} });
}

describe('replication: configuration', () => {
  test('push and sync rules with their defaults', () => {
    const c = load(`replication:
  - repos: "team/**"
    to: { url: https://registry-b.example.com, credentials: { helper: ecr-login } }
  - from: { url: http://127.0.0.1:5001 }
    repos: [library/alpine]
`)();
    assert.deepEqual(c.replication, [
      { repos: ['team/**'], tags: ['**'], to: { url: 'https://registry-b.example.com', credentials: { helper: 'ecr-login' }, prefix: '' }, deletes: false, attempts: 20, maxBackoff: 600_000 },
      { repos: ['library/alpine'], tags: ['**'], from: { url: 'http://127.0.0.1:5001' }, prefix: '', interval: 900_000, attempts: 20, maxBackoff: 600_000 },
    ]);
  });

  test('bad rules stop the start with the key named: a URL carrying a password, a path, a target prefix that is no path, two rules of one name', () => {
    assert.throws(load('replication:\n  - { repos: "a/**", to: { url: "https://robot:secret@registry.example.com" } }\n'), (e: Error) => {
      assert.match(e.message, /replication\.0\.to\.url: a registry URL such as https:\/\/registry\.example\.com \(no path; a login goes under credentials:\)/);
      assert.doesNotMatch(e.message, /secret/);
      return true;
    });
    assert.throws(load('replication:\n  - { repos: "a/**", to: { url: "https://registry.example.com/v2/" } }\n'), /no path/);
    assert.throws(load('replication:\n  - { repos: "a/**", to: { url: "https://registry.example.com", prefix: "Mirror" } }\n'), /replication\.0\.to\.prefix: path components ending in \//);
    assert.throws(
      load('replication:\n  - { name: copy, repos: "a/**", to: { url: "https://b.example.com" } }\n  - { name: copy, repos: "b/**", to: { url: "https://c.example.com" } }\n'),
      /replication\.1\.name: two rules are named copy/,
    );
  });
});
