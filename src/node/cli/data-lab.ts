// `npm run -s data-lab -- COMMAND …`: tools that look at the data through a model.

import { UsageError, runCli } from './common';
import { NEIGHBOURS_HELP, runNeighbours } from './neighbours';

const NAME = 'data-lab';

export const HELP = `Usage: npm run -s data-lab -- COMMAND [options]

Commands:
  neighbours   the training images nearest to one image, by the model's embedding

Run npm run -s data-lab -- COMMAND --help for a command's options.
`;

async function main(argv: string[]): Promise<void> {
  const [command, ...rest] = argv;
  if (command === undefined) throw new UsageError('name a command: neighbours');
  if (command === '--help' || command === '-h') {
    process.stdout.write(HELP);
    return;
  }
  switch (command) {
    case 'neighbours':
      if (rest.includes('--help') || rest.includes('-h')) {
        process.stdout.write(NEIGHBOURS_HELP);
        return;
      }
      return runNeighbours(rest);
    default:
      throw new UsageError(`unknown command "${command}"; the commands are: neighbours`);
  }
}

await runCli(NAME, () => main(process.argv.slice(2)));
