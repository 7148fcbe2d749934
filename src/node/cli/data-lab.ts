// `npm run -s data-lab -- COMMAND …`: the Data lab's commands.
//   data-map RUN_DIR   a run's data map (data-map.ts)

import { runDataMap } from './data-map';
import { UsageError, runCli } from './common';

export const HELP = `Usage: npm run -s data-lab -- COMMAND [options]

Commands:
  data-map RUN_DIR   a run's data map: per training image, the confidence, variability and
                     correctness of its label over the epochs (data-map --help)
`;

const [command, ...rest] = process.argv.slice(2);
if (command === 'data-map') {
  await runDataMap(rest);
} else {
  await runCli('data-lab', async () => {
    if (command === undefined || command === '--help' || command === '-h') {
      if (command === undefined) throw new UsageError('name a command: data-map');
      process.stdout.write(HELP);
      return;
    }
    throw new UsageError(`unknown command "${command}"; the commands are: data-map`);
  });
}
