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
        out((await eraseCredential(registry)) ? `Removing login credentials for ${registry}` : `Not logged in to ${registry}`);
      }),
    );
}
