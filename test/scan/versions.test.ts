import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { compareApk } from '../../src/scan/versions/apk.js';
import { compareDeb } from '../../src/scan/versions/dpkg.js';
import { comparePep440, compareSemver, type Compare } from '../../src/scan/versions/index.js';
import { evaluate } from '../../src/scan/vulndb/ranges.js';
import type { AffectedPackage } from '../../src/scan/vulndb/osv.js';

/** Every adjacent pair must sort strictly ascending, and the order must be the same whichever side is asked. */
function assertAscending(compare: Compare, versions: string[]): void {
  for (let i = 0; i + 1 < versions.length; i++) {
    const [a, b] = [versions[i]!, versions[i + 1]!];
    assert.equal(compare(a, b), -1, `${a} < ${b}`);
    assert.equal(compare(b, a), 1, `${b} > ${a}`);
  }
  const shuffled = [...versions].reverse();
  assert.deepEqual(shuffled.sort(compare), versions);
}

describe('version orders, from their specifications\' own examples', () => {
  test('dpkg (Debian Policy 5.6.12): ~ sorts before anything, even the end; epochs; revisions', () => {
    // Policy: "~~, ~~a, ~, the empty part, a".
    assertAscending(compareDeb, ['1.0~~', '1.0~~a', '1.0~', '1.0', '1.0a']);
    assertAscending(compareDeb, ['1.0~rc1', '1.0', '1.0-1', '1.0-2', '1.0+dfsg-1', '1.0.1-1']);
    assertAscending(compareDeb, ['2.36-9+deb12u3', '2.36-9+deb12u13', '2.36-9+deb12u14', '2.37-1']);
    assertAscending(compareDeb, ['9.9', '1:0.1', '2:0.0.1']);
    assert.equal(compareDeb('1:1.2.13.dfsg-1', '1:1.2.13.dfsg-1'), 0);
    assert.equal(compareDeb('0:1.0', '1.0'), 0, 'epoch 0 is the default');
    assert.throws(() => compareDeb('a:1.0', '1.0'), /epoch must be a number/);
  });

  test('apk (apk-tools, after Gentoo PMS 3.3): suffixes, letters, leading zeros, revisions', () => {
    assertAscending(compareApk, ['1.0_alpha', '1.0_alpha1', '1.0_beta', '1.0_pre', '1.0_rc1', '1.0', '1.0-r1', '1.0_git20230717', '1.0_p1', '1.0a', '1.0.1']);
    assertAscending(compareApk, ['1.01', '1.1', '1.2.9', '1.2.10']);
    assertAscending(compareApk, ['9.16.45-r0', '9.16.48-r0', '9.16.48-r1']);
    assertAscending(compareApk, ['1.2.4_git20230717-r4', '1.2.5']);
    assert.equal(compareApk('1.010', '1.01'), 0, 'a component with a leading zero compares as a fraction');
    assert.throws(() => compareApk('1.0_bogus', '1.0'), /unknown suffix/);
  });

  test('PEP 440: the specification\'s own example ordering', () => {
    assertAscending(comparePep440, [
      '1.dev0', '1.0.dev456', '1.0a1', '1.0a2.dev456', '1.0a12.dev456', '1.0a12', '1.0b1.dev456', '1.0b2', '1.0b2.post345.dev456',
      '1.0b2.post345', '1.0rc1.dev456', '1.0rc1', '1.0', '1.0+abc.5', '1.0+abc.7', '1.0+5', '1.0.post456.dev34', '1.0.post456', '1.0.15', '1.1.dev1',
    ]);
  });

  test('semver (npm, and Go without its v): prereleases and pseudo-versions', () => {
    assertAscending(compareSemver, ['1.0.0-alpha', '1.0.0-alpha.1', '1.0.0-alpha.beta', '1.0.0-beta', '1.0.0-beta.2', '1.0.0-beta.11', '1.0.0-rc.1', '1.0.0']);
    assertAscending(compareSemver, ['v0.0.0-20220722155237-a158d28d115b', 'v0.1.0', 'v0.4.0', '1.19.0-0', '1.19.4']);
  });
});

describe('OSV range evaluation (osv-schema "Evaluation")', () => {
  const pkg = (ranges: AffectedPackage['ranges'], versions: string[] = []): AffectedPackage => ({ ecosystem: 'npm', name: 'x', ranges, versions });
  const affected = (v: string, p: AffectedPackage) => evaluate(v, p, compareSemver, { count: 0 });

  test('introduced/fixed pairs, several in one range, last_affected, limit, and the versions list', () => {
    const two = pkg([{ type: 'SEMVER', events: [{ introduced: '0' }, { fixed: '1.18.6' }, { introduced: '1.19.0-0' }, { fixed: '1.19.1' }] }]);
    assert.deepEqual(affected('1.18.5', two), { affected: true, fixed: '1.18.6' });
    assert.deepEqual(affected('1.18.6', two), { affected: false });
    assert.deepEqual(affected('1.19.0', two), { affected: true, fixed: '1.19.1' });
    assert.deepEqual(affected('1.20.0', two), { affected: false });
    const last = pkg([{ type: 'SEMVER', events: [{ introduced: '1.0.0' }, { last_affected: '1.4.0' }] }]);
    assert.deepEqual([affected('1.4.0', last).affected, affected('1.4.1', last).affected, affected('0.9.0', last).affected], [true, false, false]);
    // The schema's limit example: introduced 0, limit 2.0.0, so 2.x is outside the range even unfixed.
    const limited = pkg([{ type: 'SEMVER', events: [{ introduced: '0' }, { limit: '2.0.0' }] }]);
    assert.deepEqual([affected('1.9.9', limited).affected, affected('2.0.0', limited).affected], [true, false]);
    const listed = pkg([], ['3.1.4']);
    assert.deepEqual([affected('3.1.4', listed).affected, affected('3.1.5', listed).affected], [true, false]);
  });

  test('a range whose versions are outside the grammar is skipped and counted, not guessed', () => {
    const unparsable = { count: 0 };
    const verdict = evaluate('1.0.0', pkg([{ type: 'ECOSYSTEM', events: [{ introduced: '0' }, { fixed: 'not-a-version' }] }]), compareSemver, unparsable);
    assert.deepEqual([verdict.affected, unparsable.count], [false, 1]);
  });
});
