/**
 * The `tck` command line. Every failure exits non-zero with a message saying what went wrong and where;
 * unexpected errors also print their stack when TCK_DEBUG is set.
 */
import { trainCommand } from './train.js';
import { dataCommand } from './data.js';
import { benchCommand } from './bench.js';
import { estimateCommand } from './estimate.js';
import { reportCommand } from './report.js';
import { exportCommand } from './export.js';
import { jobsCommand } from './jobs.js';
import { nasCommand } from './nas.js';
import { sweepCommand } from './sweep.js';
import { binaryCommand } from './binary.js';
import { analyzeCommand } from './analyze.js';
import { compressCommand } from './compress.js';
import { workerCommand } from './worker.js';
import { stepsCommand } from './steps.js';
import { kitVersion } from '../run/provenance.js';
import { isKitError } from '../util/errors.js';

const COMMANDS: Record<string, { run: (argv: string[]) => Promise<number>; help: string }> = {
  data: { run: dataCommand, help: 'list, fetch, import and verify datasets' },
  train: { run: trainCommand, help: 'train a model on a dataset (resumable run directory)' },
  bench: { run: benchCommand, help: 'measure training and inference throughput (and PyTorch where available)' },
  estimate: { run: estimateCommand, help: 'parameters, MACs, storage, memory, arena, cycles, printed-electronics complexity' },
  export: { run: exportCommand, help: 'the integer-only model of a trained run (JSON and C header), checked against tfjs' },
  report: { run: reportCommand, help: 'write results/REPORT.md and REPORT.html from every run directory' },
  jobs: { run: jobsCommand, help: 'run a list of training job specs as one resumable experiment (pool, in-process or BullMQ)' },
  nas: { run: nasCommand, help: 'seed 000 NAS: NSGA-II over MLP / CNN spaces, accuracy x complexity (resumable, parallel)' },
  sweep: { run: sweepCommand, help: 'seed 000 experiment 1: the LeNet5 / VGG7 compression sweep (weights x activations, Pareto front)' },
  binary: { run: binaryCommand, help: 'seed 002: genetic training of bit-packed binary networks, binary ResNet-18 with cyclic precision' },
  compress: { run: compressCommand, help: 'seed 004: QuantNet quantization, ID-based mixed precision, pruning, clustering, pipelines' },
  analyze: { run: analyzeCommand, help: 'analyze id: per-layer intrinsic dimension (TwoNN, PCA) of a trained run' },
  worker: { run: workerCommand, help: 'a BullMQ worker: run training jobs from a Redis queue on this machine' },
  steps: { run: stepsCommand, help: 'the steps reproduce.sh runs' },
};

function usage(): string {
  const { name, version } = kitVersion();
  const lines = Object.entries(COMMANDS).map(([k, c]) => `  ${k.padEnd(8)} ${c.help}`);
  return `tck (${name} ${version}): reproducible compression experiments for tiny networks\n\nUsage: tck <command> [options]   (tck <command> --help)\n\n${lines.join('\n')}\n`;
}


export async function main(argv: string[]): Promise<number> {
  const [cmd, ...rest] = argv;
  if (!cmd || cmd === '--help' || cmd === '-h' || cmd === 'help') {
    process.stdout.write(usage());
    return cmd ? 0 : 2;
  }
  if (cmd === '--version') {
    process.stdout.write(`${kitVersion().version}\n`);
    return 0;
  }
  const c = COMMANDS[cmd];
  if (!c) {
    process.stderr.write(`tck: unknown command ${JSON.stringify(cmd)}\n\n${usage()}`);
    return 2;
  }
  try {
    return await c.run(rest);
  } catch (e) {
    const err = e as Error;
    process.stderr.write(`tck ${cmd}: error: ${err.message}\n`);
    // The kit's errors (KitError) carry a located message already; anything else is a bug worth a stack trace.
    if (!isKitError(err) || process.env.TCK_DEBUG) process.stderr.write(`${err.stack}\n`);
    return err.name === 'UsageError' ? 2 : 1;
  }
}
