/**
 * The one registry of presets and profiles, as data. The CLI resolves `--preset/--profile` here, the notebooks
 * read their settings here (`presetSettings('notebook', 'quickstart', profile)`), and `reproduce.sh` asks
 * `tck steps` for its list of steps instead of keeping its own. An experiment adds its presets and its steps
 * here.
 */
import type { Profile } from '../run/profile.js';
import { PROFILES } from '../run/profile.js';
import { KitError } from '../util/errors.js';

/** A named config: the preset's settings, and what each profile changes (smoke: seconds, quick: minutes, paper: the seed's). */
export interface PresetDef<C = Record<string, unknown>> {
  description: string;
  config: Partial<C>;
  profiles: Record<Profile, Partial<C>>;
}

export type PresetTable<C = Record<string, unknown>> = Record<string, PresetDef<C>>;

const smokeSubset = { subset: { n: 2000, mode: 'stratified' as const } };

/** Presets of every command, by command name. */
export const PRESETS: Record<string, PresetTable> = {
  train: {
    'lenet5-mnist': {
      description: 'LeNet-5 (seed 001, 28x28, no padding) on MNIST, Adam 1e-3, batch 50',
      config: { model: 'lenet5', dataset: 'mnist' },
      profiles: { smoke: { epochs: 1, ...smokeSubset }, quick: { epochs: 3 }, paper: { epochs: 10 } },
    },
    'lenet5-fashion-mnist': {
      description: 'LeNet-5 on Fashion-MNIST, Adam 1e-3, batch 50',
      config: { model: 'lenet5', dataset: 'fashion-mnist' },
      profiles: { smoke: { epochs: 1, ...smokeSubset }, quick: { epochs: 3 }, paper: { epochs: 10 } },
    },
  },
  notebook: {
    quickstart: {
      description: 'the quickstart notebook: LeNet-5 on an MNIST subset',
      config: { model: 'lenet5', dataset: 'mnist', batchSize: 50, optimizer: { name: 'adam', lr: 1e-3 }, seed: 1 },
      profiles: { smoke: { trainSamples: 1000, epochs: 1 }, quick: { trainSamples: 10000, epochs: 2 }, paper: { trainSamples: 60000, epochs: 10 } },
    },
  },
};

/** The presets of `command` (an error listing the commands that have presets when it has none). */
export function presetsOf<C = Record<string, unknown>>(command: string): PresetTable<C> {
  const t = PRESETS[command];
  if (!t) throw new KitError(`no presets for command ${command}; commands with presets: ${Object.keys(PRESETS).join(', ')}`, 'UsageError');
  return t as PresetTable<C>;
}

/** A preset's settings at a profile (the profile's values over the preset's). */
export function presetSettings<C = Record<string, unknown>>(command: string, preset: string, profile: Profile): Partial<C> {
  const p = presetsOf<C>(command)[preset];
  if (!p) throw new KitError(`unknown ${command} preset ${JSON.stringify(preset)}; known: ${Object.keys(presetsOf(command)).join(', ')}`, 'UsageError');
  if (!(PROFILES as readonly string[]).includes(profile)) throw new KitError(`unknown profile ${JSON.stringify(profile)}; profiles: ${PROFILES.join(', ')}`, 'UsageError');
  return { ...p.config, ...p.profiles[profile] };
}

/** One step of reproduce.sh: a `tck` command line, run with `--profile <p>` appended. */
export interface ReproduceStep {
  name: string;
  argv: string[];
  description: string;
}

/** What `reproduce.sh` runs, in order (before the notebooks and the report). */
export const REPRODUCE_STEPS: ReproduceStep[] = [
  { name: 'estimate-lenet5', argv: ['estimate', '--model', 'lenet5'], description: 'seed 001 Tables 5.1 and 5.2 (MNIST)' },
  { name: 'estimate-lenet5-cifar10', argv: ['estimate', '--model', 'lenet5-cifar10'], description: 'seed 001 Table 5.1 (CIFAR-10)' },
  { name: 'estimate-quantnet', argv: ['estimate', '--model', 'quantnet'], description: 'seed 004 Tables 4.1 and 4.6' },
  { name: 'train-lenet5-mnist', argv: ['train', '--preset', 'lenet5-mnist'], description: 'LeNet-5 baseline on MNIST (seed 001)' },
  { name: 'train-lenet5-fashion-mnist', argv: ['train', '--preset', 'lenet5-fashion-mnist'], description: 'LeNet-5 baseline on Fashion-MNIST (seed 001)' },
];
