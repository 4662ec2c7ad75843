import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Digest } from '../../src/oci/digest.js';
import { planDeletes } from '../../src/registry/retention.js';

const DAY = 86_400_000;
const now = 100 * DAY;
// Newest first, as retention reads them.
const tags = ['latest', 'v9', 'v8', 'release-1', 'v7', 'v6'].map((name, i) => ({ name, digest: `sha256:${String(i).repeat(64)}` as Digest, updatedAt: now - i * 10 * DAY }));
const names = (rows: { name: string }[]) => rows.map((r) => r.name);

test('keepLast keeps the newest N tags; keepTags patterns are never deleted', () => {
  assert.deepEqual(names(planDeletes(tags, [{ repositories: '*', keepLast: 3, keepTags: ['release-*'] }], now)), ['v7', 'v6']);
});

test('olderThan alone deletes only tags not updated for that long', () => {
  assert.deepEqual(names(planDeletes(tags, [{ repositories: '*', olderThanMs: 25 * DAY, keepTags: [] }], now)), ['release-1', 'v7', 'v6']);
});

test('keepLast with olderThan: a tag goes only when it is beyond both', () => {
  assert.deepEqual(names(planDeletes(tags, [{ repositories: '*', keepLast: 1, olderThanMs: 35 * DAY, keepTags: ['latest'] }], now)), ['v7', 'v6']);
});

test('several rules: a tag selected by any rule goes unless some rule keeps it by pattern', () => {
  const rules = [
    { repositories: '*', keepLast: 5, keepTags: [] },
    { repositories: '*', olderThanMs: 15 * DAY, keepTags: ['v8'] },
  ];
  assert.deepEqual(names(planDeletes(tags, rules, now)), ['release-1', 'v7', 'v6']);
});
