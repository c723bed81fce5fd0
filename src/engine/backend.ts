/**
 * Backend choice. `auto` takes the native TensorFlow binding (`@tensorflow/tfjs-node`, installed under the
 * optional alias `tfjs-node-native`) if it loads, else `wasm` with the kit's training kernels, else `cpu`.
 * The choice comes from, in order: the explicit option, the `TCK_BACKEND` environment variable, `auto`.
 */
import { createRequire } from 'node:module';
import os from 'node:os';
import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';
import { installWasmTrainingKernels, WASM_KERNEL_OVERRIDES } from './wasm-kernels.js';

export type BackendChoice = 'auto' | 'tensorflow' | 'wasm' | 'cpu';
export const BACKEND_CHOICES: readonly BackendChoice[] = ['auto', 'tensorflow', 'wasm', 'cpu'];

export interface EngineInfo {
  backend: string;
  requested: BackendChoice;
  tfjsVersion: string;
  native: { available: boolean; error?: string };
  wasm: { simd: boolean; threads: boolean; trainingKernels: string[] } | null;
  node: string;
  platform: string;
  cpu: string;
  cores: number;
}

const require = createRequire(import.meta.url);
let nativeState: { available: boolean; error?: string } | null = null;
let current: EngineInfo | null = null;

/** Loads the native binding once; it registers the `tensorflow` backend when it loads. */
function loadNative(): { available: boolean; error?: string } {
  if (nativeState) return nativeState;
  try {
    require('tfjs-node-native');
    nativeState = { available: tf.findBackendFactory('tensorflow') != null };
    if (!nativeState.available) nativeState.error = 'tfjs-node-native loaded but registered no "tensorflow" backend';
  } catch (e) {
    const msg = (e as Error).message.split('\n')[0];
    nativeState = { available: false, error: msg };
  }
  return nativeState;
}

function parseChoice(value: string, where: string): BackendChoice {
  if ((BACKEND_CHOICES as readonly string[]).includes(value)) return value as BackendChoice;
  throw new Error(`${where}: unknown backend "${value}"; expected one of ${BACKEND_CHOICES.join(', ')}`);
}

async function trySet(name: string): Promise<boolean> {
  try {
    return await tf.setBackend(name);
  } catch {
    return false;
  }
}

/**
 * Selects and initialises the backend. Safe to call more than once: a later call with another choice
 * switches backends.
 */
export async function initEngine(opts: { backend?: BackendChoice | string } = {}): Promise<EngineInfo> {
  const requested =
    opts.backend != null
      ? parseChoice(String(opts.backend), 'backend option')
      : process.env.TCK_BACKEND
        ? parseChoice(process.env.TCK_BACKEND, 'environment variable TCK_BACKEND')
        : 'auto';
  if (current && current.requested === requested && tf.getBackend() === current.backend) return current;

  const native = requested === 'auto' || requested === 'tensorflow' ? loadNative() : (nativeState ?? { available: false });
  // Kernels must be in place before wasm initialises (the replaced kernel keeps the stock set-up).
  installWasmTrainingKernels();
  const order: string[] =
    requested === 'auto' ? (native.available ? ['tensorflow', 'wasm', 'cpu'] : ['wasm', 'cpu']) : [requested];
  let chosen: string | null = null;
  for (const name of order) {
    if (name === 'tensorflow' && !native.available) continue;
    if (await trySet(name)) {
      chosen = name;
      break;
    }
  }
  if (!chosen) {
    const why = requested === 'tensorflow' ? ` (native binding: ${native.error ?? 'not available'})` : '';
    throw new Error(`could not initialise backend "${requested}"${why}`);
  }
  await tf.ready();
  current = {
    backend: chosen,
    requested,
    tfjsVersion: tf.version.tfjs,
    native,
    wasm:
      chosen === 'wasm'
        ? {
            simd: Boolean(tf.env().getBool('WASM_HAS_SIMD_SUPPORT')),
            threads: Boolean(tf.env().getBool('WASM_HAS_MULTITHREAD_SUPPORT')),
            trainingKernels: [...WASM_KERNEL_OVERRIDES],
          }
        : null,
    node: process.version,
    platform: `${process.platform}-${process.arch}`,
    cpu: os.cpus()[0]?.model ?? 'unknown',
    cores: os.cpus().length,
  };
  return current;
}

/** The engine description that goes into every run's provenance. Throws before `initEngine`. */
export function engineInfo(): EngineInfo {
  if (!current) throw new Error('engineInfo(): call initEngine() first');
  return current;
}

export { tf };
