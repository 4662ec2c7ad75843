import { spawn } from 'node:child_process';

/** What `docker-credential-<helper> get` prints. A Username of `<token>` marks an identity token. */
export interface HelperCredential {
  ServerURL?: string;
  Username: string;
  Secret: string;
}

/**
 * The docker credential helper protocol: `get`/`erase` take the server URL on
 * stdin, `store` takes a JSON credential; errors come back on stdout.
 */
export async function helperGet(helper: string, serverUrl: string): Promise<HelperCredential | undefined> {
  const { code, stdout } = await run(helper, 'get', serverUrl);
  if (code !== 0) {
    if (/credentials not found/i.test(stdout)) return undefined;
    throw new Error(`docker-credential-${helper} get failed (exit ${code}): ${stdout.trim().slice(0, 200)}`);
  }
  return JSON.parse(stdout) as HelperCredential;
}

export async function helperStore(helper: string, cred: Required<HelperCredential>): Promise<void> {
  const { code, stdout } = await run(helper, 'store', JSON.stringify(cred));
  if (code !== 0) throw new Error(`docker-credential-${helper} store failed (exit ${code}): ${stdout.trim().slice(0, 200)}`);
}

/** Resolves to false when the helper had nothing for that server. */
export async function helperErase(helper: string, serverUrl: string): Promise<boolean> {
  const { code, stdout } = await run(helper, 'erase', serverUrl);
  if (code === 0) return true;
  if (/credentials not found/i.test(stdout)) return false;
  throw new Error(`docker-credential-${helper} erase failed (exit ${code}): ${stdout.trim().slice(0, 200)}`);
}

function run(helper: string, verb: string, input: string): Promise<{ code: number; stdout: string }> {
  if (!/^[A-Za-z0-9_.-]+$/.test(helper)) return Promise.reject(new Error(`invalid credential helper name "${helper}"`));
  return new Promise((resolve, reject) => {
    const child = spawn(`docker-credential-${helper}`, [verb], { stdio: ['pipe', 'pipe', 'inherit'] });
    let stdout = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.on('error', (e) =>
      reject(new Error(`credential helper docker-credential-${helper} cannot run: ${(e as Error).message}`)),
    );
    child.on('close', (code) => resolve({ code: code ?? 1, stdout }));
    child.stdin.end(input);
  });
}
