import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { closeSync, existsSync, mkdirSync, mkdtempSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { AbortMultipartUploadCommand, CreateBucketCommand, CreateMultipartUploadCommand, DeleteObjectCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { freePort } from './postgres.js';
import type { S3Server } from './s3.js';

const run = promisify(execFile);

/** The commands the cluster runs on and their Debian packages (Ceph 16 on bookworm). */
export const RGW_TOOLS = { 'ceph-mon': 'ceph-mon', 'ceph-osd': 'ceph-osd', ceph: 'ceph-common', radosgw: 'radosgw' };
/** Generous: on a loaded 2-core machine pool creation alone has taken 10 s. */
const START_TIMEOUT_MS = 120_000;

export interface RgwServer extends S3Server {
  /** Wall time from nothing to a bucket taking writes, for the record. */
  startMs: number;
}

/**
 * A throwaway Ceph cluster on loopback serving S3 through the RADOS Gateway:
 * one monitor, one OSD on memstore (objects in the OSD's memory, so nothing
 * outlives the cluster), pools of size 1, no cephx, `radosgw` with the beast
 * frontend, one user with generated keys and one empty bucket. Runs as
 * whoever runs the tests (root in CI, no systemd); everything lives in one temp dir.
 * `keepAlive: false` lets the test process exit while the daemons run (they are killed on exit).
 */
export async function startRgw(opts: { bucket?: string; keepAlive?: boolean } = {}): Promise<RgwServer> {
  const started = Date.now();
  const bucket = opts.bucket ?? 'registry';
  const dir = mkdtempSync(join(tmpdir(), 'berth-rgw-'));
  for (const sub of ['run', 'log', 'mon', 'osd/osd.0']) mkdirSync(join(dir, sub), { recursive: true });
  const [monPort, rgwPort] = await Promise.all([freePort(), freePort()]);
  const conf = join(dir, 'ceph.conf');
  const fsid = randomUUID();
  writeFileSync(conf, cephConf(dir, fsid, monPort, rgwPort));
  const daemons: { name: string; child: ChildProcess }[] = [];
  // A daemon that dies while starting fails the start at once, with whatever step was waiting on it.
  const abort = new AbortController();
  const stopSync = () => {
    for (const d of daemons) d.child.kill('SIGKILL');
    rmSync(dir, { recursive: true, force: true });
  };
  process.once('exit', stopSync);
  const daemon = (name: string, bin: string, args: string[]) => {
    const out = openSync(join(dir, 'log', `${name}.out`), 'a');
    const child = spawn(bin, ['-c', conf, '-f', ...args], { stdio: ['ignore', out, out] });
    closeSync(out);
    daemons.push({ name, child });
    child.once('error', (e) => abort.abort(e));
    child.once('exit', (code, signal) => abort.abort(new Error(`${name} exited (${signal ?? code})`)));
    if (opts.keepAlive === false) child.unref();
  };
  const tool = async (bin: string, args: string[]) => {
    try {
      return (await run(bin, ['-c', conf, ...args], { timeout: START_TIMEOUT_MS, signal: abort.signal })).stdout;
    } catch (e) {
      if (abort.signal.aborted) throw abort.signal.reason;
      if ((e as { code?: string }).code === 'ENOENT') throw new Error(`${bin} not found: apt-get install -y ${Object.values(RGW_TOOLS).join(' ')}`);
      throw new Error(`${bin} ${args.join(' ')} failed: ${(e as { stderr?: string }).stderr?.trim() || (e as Error).message}`);
    }
  };
  try {
    await tool('monmaptool', ['--create', '--addv', 'a', `[v1:127.0.0.1:${monPort}]`, '--fsid', fsid, join(dir, 'monmap')]);
    await tool('ceph-mon', ['--mkfs', '-i', 'a', '--monmap', join(dir, 'monmap')]);
    daemon('mon.a', 'ceph-mon', ['-i', 'a']);
    // A fresh cluster hands out id 0, which the OSD's data dir above is named for.
    const id = (await tool('ceph', ['osd', 'create'])).trim();
    if (id !== '0') throw new Error(`ceph osd create gave id ${id}, expected 0`);
    await tool('ceph', ['osd', 'crush', 'add', 'osd.0', '1', 'root=default', 'host=localhost']);
    await tool('ceph-osd', ['-i', '0', '--mkfs']);
    daemon('osd.0', 'ceph-osd', ['-i', '0']);
    // Creates RGW's pools (waiting for the OSD to take them), so the gateway starts on a ready zone.
    const accessKeyId = `BERTH${randomUUID().replaceAll('-', '').slice(0, 15).toUpperCase()}`;
    const secretAccessKey = randomUUID();
    await tool('radosgw-admin', ['user', 'create', '--uid', 'berth', '--display-name', 'Berth tests', '--access-key', accessKeyId, '--secret', secretAccessKey]);
    daemon('rgw', 'radosgw', ['-n', 'client.rgw']);
    const endpoint = `http://127.0.0.1:${rgwPort}`;
    const client = new S3Client({ endpoint, region: 'us-east-1', forcePathStyle: true, credentials: { accessKeyId, secretAccessKey } });
    try {
      await untilAnswers(() => client.send(new CreateBucketCommand({ Bucket: bucket })), abort.signal);
      await warmUp(client, bucket);
    } finally {
      client.destroy();
    }
    const startMs = Date.now() - started;
    return {
      endpoint,
      bucket,
      accessKeyId,
      secretAccessKey,
      startMs,
      async stop() {
        process.removeListener('exit', stopSync);
        await Promise.all(daemons.map((d) => stopDaemon(d.child)));
        rmSync(dir, { recursive: true, force: true });
      },
    };
  } catch (e) {
    process.removeListener('exit', stopSync);
    for (const d of daemons) d.child.kill('SIGKILL');
    throw new Error(`Ceph RGW cluster failed to start (kept in ${dir}): ${(e as Error).message}\n${logTails(dir, daemons.map((d) => d.name))}`);
  }
}

/**
 * RGW creates the pools for objects and for multipart state on first use,
 * which takes seconds: pay that here, not in the first test (or bench round).
 */
async function warmUp(client: S3Client, bucket: string): Promise<void> {
  const Key = 'berth-rgw-warm-up';
  await client.send(new PutObjectCommand({ Bucket: bucket, Key, Body: Buffer.from('x') }));
  await client.send(new DeleteObjectCommand({ Bucket: bucket, Key }));
  const { UploadId } = await client.send(new CreateMultipartUploadCommand({ Bucket: bucket, Key }));
  await client.send(new AbortMultipartUploadCommand({ Bucket: bucket, Key, UploadId }));
}

function cephConf(dir: string, fsid: string, monPort: number, rgwPort: number): string {
  return `[global]
fsid = ${fsid}
mon host = v1:127.0.0.1:${monPort}
ms bind msgr2 = false
auth cluster required = none
auth service required = none
auth client required = none
mon allow pool size one = true
osd pool default size = 1
osd pool default min size = 1
osd pool default pg num = 1
osd pool default pgp num = 1
osd pool default pg autoscale mode = off
osd crush chooseleaf type = 0
osd objectstore = memstore
memstore device bytes = ${4 * 2 ** 30}
# Pool creation waits on monitor proposals: propose at once instead of once a second.
paxos propose interval = 0.05
paxos min wait = 0.01
run dir = ${dir}/run
admin socket = ${dir}/run/$name.asok
log file = ${dir}/log/$name.log
mon data = ${dir}/mon/$name
osd data = ${dir}/osd/$name
# A booting OSD's own updates of its CRUSH entry race its first monitor map: sent
# before it, they carry a zero fsid and the monitor refuses them ('wrong fsid'),
# which kills the OSD. The helper places the OSD in CRUSH itself instead.
osd class update on start = false
osd crush update on start = false
[client.rgw]
rgw frontends = beast endpoint=127.0.0.1:${rgwPort}
# A deleted object's data waits for the gateway's GC, by default two hours after
# the delete and swept once an hour. Every committed upload deletes its parts, so
# a full bench run would fill the memstore with them (the OSD then blocks writes).
rgw gc obj min wait = 0
rgw gc processor period = 5
`;
}

/** Retries until the gateway answers (connection refused while it starts), failing at once if a daemon died. */
async function untilAnswers(attempt: () => Promise<unknown>, died: AbortSignal): Promise<void> {
  const deadline = Date.now() + START_TIMEOUT_MS;
  for (;;) {
    died.throwIfAborted();
    try {
      await attempt();
      return;
    } catch (e) {
      if (!isConnectionError(e)) throw e;
      if (Date.now() > deadline) throw new Error(`radosgw did not answer within ${START_TIMEOUT_MS / 1000} s`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
}

function isConnectionError(e: unknown): boolean {
  const code = (e as { code?: string }).code;
  return code === 'ECONNREFUSED' || code === 'ECONNRESET';
}

async function stopDaemon(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((r) => child.once('exit', r));
  // memstore keeps nothing worth a clean shutdown.
  child.kill('SIGKILL');
  await exited;
}

/** The last lines each daemon logged, for a start that failed. */
function logTails(dir: string, names: string[]): string {
  return names
    .flatMap((name) =>
      [`${name}.out`, `${name === 'rgw' ? 'client.rgw' : name}.log`]
        .map((f) => join(dir, 'log', f))
        .filter((f) => existsSync(f))
        .map((f) => `--- ${f}\n${readFileSync(f, 'utf8').trimEnd().split('\n').slice(-15).join('\n')}`),
    )
    .join('\n');
}
