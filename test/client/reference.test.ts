import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { apiHost, familiarReference, formatReference, isLoopbackRegistry, parseReference } from '../../src/oci/reference.js';

const D = `sha256:${'a'.repeat(64)}`;

// Input -> normalised form, as `docker pull`/`docker tag` (distribution/reference ParseNormalizedNamed + TagNameOnly) read them.
const NORMALISED: [string, string][] = [
  ['alpine', 'docker.io/library/alpine:latest'],
  ['alpine:3.19', 'docker.io/library/alpine:3.19'],
  ['library/alpine', 'docker.io/library/alpine:latest'],
  ['docker.io/alpine', 'docker.io/library/alpine:latest'],
  ['docker.io/library/alpine:latest', 'docker.io/library/alpine:latest'],
  ['index.docker.io/library/alpine', 'docker.io/library/alpine:latest'],
  ['index.docker.io/alpine', 'docker.io/library/alpine:latest'],
  ['registry-1.docker.io/user/app', 'docker.io/user/app:latest'],
  ['user/app', 'docker.io/user/app:latest'],
  ['user/app:v1', 'docker.io/user/app:v1'],
  ['a/b/c', 'docker.io/a/b/c:latest'],
  ['localhost/app', 'localhost/app:latest'],
  ['localhost:5000/app', 'localhost:5000/app:latest'],
  ['127.0.0.1:5000/app', '127.0.0.1:5000/app:latest'],
  ['[::1]:5000/app:v2', '[::1]:5000/app:v2'],
  ['quay.io/prometheus/prometheus', 'quay.io/prometheus/prometheus:latest'],
  ['public.ecr.aws/aws-observability/aws-for-fluent-bit:latest', 'public.ecr.aws/aws-observability/aws-for-fluent-bit:latest'],
  [`ghcr.io/o/r@${D}`, `ghcr.io/o/r@${D}`],
  [`alpine@${D}`, `docker.io/library/alpine@${D}`],
  [`alpine:3.19@${D}`, `docker.io/library/alpine:3.19@${D}`],
  ['my-registry.example.com:443/team/app:1.0.0-rc.1', 'my-registry.example.com:443/team/app:1.0.0-rc.1'],
  ['foo_bar/a__b/c-d--e.f', 'docker.io/foo_bar/a__b/c-d--e.f:latest'],
  ['Host/app', 'Host/app:latest'],
];

// Input -> the part the error message must name.
const INVALID: [string, RegExp][] = [
  ['', /empty/],
  ['Alpine', /must be lowercase/],
  ['user/App', /must be lowercase/],
  ['alpine:', /tag ""/],
  ['alpine:-x', /tag "-x"/],
  [`alpine:${'t'.repeat(129)}`, /tag/],
  ['alpine@sha256:abc', /digest "sha256:abc"/],
  [`alpine@md5:${'a'.repeat(32)}`, /not supported/],
  ['a'.repeat(64), /image ID/],
  ['host:5000/', /missing repository/],
  ['host:port/app', /registry "host:port"/],
  ['-bad.example.com/app', /registry/],
  ['user//app', /path component ""/],
  ['user/app-', /path component "app-"/],
  [`x.io/${'a'.repeat(260)}`, /longer than 255/],
];

describe('docker reference normalisation', () => {
  for (const [input, want] of NORMALISED) {
    test(`${input || '(empty)'} -> ${want}`, () => assert.equal(formatReference(parseReference(input)), want));
  }

  for (const [input, why] of INVALID) {
    test(`rejects ${input.slice(0, 40) || '(empty)'}`, () => assert.throws(() => parseReference(input), why));
  }

  test('the digest is what gets pulled when both tag and digest are given', () => {
    const r = parseReference(`alpine:3.19@${D}`);
    assert.equal(r.digest, D);
    assert.equal(r.tag, '3.19');
  });

  test('Docker Hub is reached at registry-1.docker.io; other hosts as written', () => {
    assert.equal(apiHost(parseReference('alpine').registry), 'registry-1.docker.io');
    assert.equal(apiHost(parseReference('quay.io/a/b').registry), 'quay.io');
  });

  test('familiar forms are what docker prints', () => {
    assert.equal(familiarReference(parseReference('docker.io/library/alpine')), 'alpine:latest');
    assert.equal(familiarReference(parseReference('index.docker.io/user/app:1')), 'user/app:1');
    assert.equal(familiarReference(parseReference('localhost:5000/app')), 'localhost:5000/app:latest');
  });

  test('only loopback registries may fall back to plain HTTP by default', () => {
    for (const r of ['localhost:5000', 'localhost', '127.0.0.1:5000', '127.1.2.3', '[::1]:5000']) assert.ok(isLoopbackRegistry(r), r);
    for (const r of ['docker.io', '10.0.0.1:5000', 'localhost.example.com', '128.0.0.1']) assert.ok(!isLoopbackRegistry(r), r);
  });
});
