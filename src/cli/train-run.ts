/** A finished `tck train` run read back from its directory (by `tck export` and `tck analyze id`). */
import fs from 'node:fs';
import path from 'node:path';
import type { Architecture } from '../models/arch.js';
import { architectureFileSchema, architectureOf } from '../models/schema.js';
import { KitError } from '../util/errors.js';
import { validateConfig, readConfigFile } from './config.js';

export class TrainRunError extends KitError {
  constructor(message: string) {
    super(message, 'TrainRunError');
  }
}

export interface TrainRun {
  /** config.json as written (the caller validates what it needs of it). */
  config: unknown;
  architecture: Architecture;
  /** The saved tfjs model (`model/`). */
  modelDir: string;
}

/**
 * Reads `config.json`, `architecture.json` (validated) and checks `model/model.json`; a missing file is a
 * TrainRunError naming the directory, the file and `command` (`export`, `analyze id`), plus `hint`.
 */
export function readTrainRun(dir: string, command: string, hint = ''): TrainRun {
  const need = (f: string) => {
    const p = path.join(dir, f);
    if (!fs.existsSync(p)) throw new TrainRunError(`${dir}: no ${f}; ${command} takes the run directory of a finished tck train run${hint}`);
    return p;
  };
  const config = readConfigFile(need('config.json'));
  const archValue = readConfigFile(need('architecture.json'));
  const architecture = architectureOf(validateConfig(architectureFileSchema(archValue), archValue, path.join(dir, 'architecture.json')));
  need(path.join('model', 'model.json'));
  return { config, architecture, modelDir: path.join(dir, 'model') };
}
