/** `tck steps`: the steps of reproduce.sh (src/experiments/registry.ts), one per line: `name|tck arguments`. */
import { REPRODUCE_STEPS } from '../experiments/registry.js';
import { parse } from './common.js';

export async function stepsCommand(argv: string[]): Promise<number> {
  const { values: v } = parse('steps', argv, { json: { type: 'boolean' }, help: { type: 'boolean', short: 'h' } });
  if (v.help) {
    process.stdout.write('tck steps [--json]: the experiments reproduce.sh runs, in order, as `name|tck arguments` (the profile is appended)\n');
    return 0;
  }
  if (v.json) process.stdout.write(JSON.stringify(REPRODUCE_STEPS) + '\n');
  else for (const s of REPRODUCE_STEPS) process.stdout.write(`${s.name}|${s.argv.join(' ')}\n`);
  return 0;
}
