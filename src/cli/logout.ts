import type { Command } from 'commander';
import { eraseCredential } from '../client/credentials.js';
import { DOCKER_HUB, normaliseRegistryHost } from '../oci/reference.js';
import { out, run } from './common.js';

export function registerLogout(program: Command): void {
  program
    .command('logout')
    .argument('[registry]', 'host[:port] (default: Docker Hub)')
    .description('remove stored credentials for a registry')
    .action(
      run('logout', async (input: string | undefined) => {
        const registry = input ? normaliseRegistryHost(input) : DOCKER_HUB;
        const removed = await eraseCredential(registry);
        out(removed.length ? `Removing login credentials for ${registry} from ${removed.join(', ')}` : `Not logged in to ${registry}`);
      }),
    );
}
