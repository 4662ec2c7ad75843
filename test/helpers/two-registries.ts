import { startBerth, type BerthServer, type StartOptions } from './berth.js';
import { startDistribution, type Distribution } from './distribution-auth.js';
import { sha256 } from './layout-image.js';
import { mustBytes, type Tools } from './tools.js';

/** A berth serve and a CNCF Distribution side by side: every verb test runs against both. */
export interface TwoRegistries {
  berth: BerthServer;
  distribution: Distribution;
  both(): { name: string; host: string }[];
  stop(): Promise<void>;
}

export async function startTwoRegistries(berthOptions: StartOptions = {}): Promise<TwoRegistries> {
  const [berth, distribution] = await Promise.all([startBerth(berthOptions), startDistribution()]);
  return {
    berth,
    distribution,
    both: () => [
      { name: 'berth serve', host: berth.host },
      { name: 'Distribution', host: distribution.host },
    ],
    stop: async () => {
      await Promise.all([berth.stop(), distribution.stop()]);
    },
  };
}

/** skopeo over plain HTTP with the tools' private state: the independent reader. */
export const skopeoBytes = (tools: Tools, ...args: string[]): Promise<Buffer> => mustBytes('skopeo', ['--tls-verify=false', ...args], { env: tools.env });

/** The digest of the manifest bytes the registry serves under `ref`, as skopeo reads them. */
export const skopeoDigest = async (tools: Tools, ref: string): Promise<string> => sha256(await skopeoBytes(tools, 'inspect', '--raw', `docker://${ref}`));
