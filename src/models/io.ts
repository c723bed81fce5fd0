/** Saves and loads tfjs models as `model.json` + `weights.bin` in a directory (no tfjs-node needed). */
import fs from 'node:fs';
import path from 'node:path';
import { tf } from '../engine/backend.js';
import type { LayersModel } from '@tensorflow/tfjs';
import { writeFileAtomic, writeJsonAtomic } from '../util/files.js';

export async function saveModel(model: LayersModel, dir: string): Promise<void> {
  await model.save(
    tf.io.withSaveHandler(async (a) => {
      const weights = a.weightData ? new Uint8Array(tf.io.concatenateArrayBuffers(Array.isArray(a.weightData) ? a.weightData : [a.weightData])) : new Uint8Array();
      writeFileAtomic(path.join(dir, 'weights.bin'), weights);
      writeJsonAtomic(path.join(dir, 'model.json'), {
        modelTopology: a.modelTopology,
        format: 'layers-model',
        generatedBy: a.generatedBy,
        convertedBy: null,
        weightsManifest: [{ paths: ['weights.bin'], weights: a.weightSpecs }],
      });
      return { modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: 'JSON' } };
    }),
  );
}

export async function loadModel(dir: string): Promise<LayersModel> {
  const file = path.join(dir, 'model.json');
  if (!fs.existsSync(file)) throw new Error(`${dir}: no model.json`);
  const json = JSON.parse(fs.readFileSync(file, 'utf8'));
  const bin = fs.readFileSync(path.join(dir, 'weights.bin'));
  const weightData = bin.buffer.slice(bin.byteOffset, bin.byteOffset + bin.byteLength);
  return tf.loadLayersModel(tf.io.fromMemory({ modelTopology: json.modelTopology, weightSpecs: json.weightsManifest[0].weights, weightData }));
}
