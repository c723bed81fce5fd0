/**
 * tiny-compression-kit: the library behind `tck` and the notebooks. Import the pieces from here:
 *
 *   import { initEngine, loadView, architectureByName, buildModel, fit, evaluate } from 'tiny-compression-kit';
 */
export { initEngine, engineInfo, tf, BACKEND_CHOICES, type BackendChoice, type EngineInfo } from './engine/backend.js';
export { rngStream, rngFromState, withSeededMathRandom, type Rng, type StreamName } from './engine/random.js';
export { runBench, type BenchResult } from './engine/bench.js';

export type { Dataset, DatasetSplits } from './data/types.js';
export { DataError, numSamples, sampleSize } from './data/types.js';
export { REGISTRY, getEntry, loadDataset, type DatasetEntry, type LoadOptions } from './data/registry.js';
export { VIEWS, loadView, resolveView, type DatasetView, type LoadedView } from './data/views.js';
export * from './data/split.js';
export * from './data/preprocess.js';
export { dataDir } from './data/paths.js';

export * from './models/arch.js';
export * from './models/zoo.js';
export { buildModel, BATCHNORM_DEFAULTS } from './models/build.js';
export { summarize, formatSummary, type ModelSummary, type SummaryRow } from './models/summary.js';
export { saveModel, loadModel } from './models/io.js';

export { fit, TrainingError, type FitOptions, type FitResult, type EpochLog, type FitEvent, type FitState, type EarlyStoppingConfig } from './train/fit.js';
export { evaluate, predictClasses, confusionMatrix, type Evaluation } from './train/evaluate.js';
export { createOptimizer, type OptimizerConfig, type Optimizer } from './train/optimizers.js';
export { learningRateAt, type ScheduleConfig } from './train/schedules.js';
export { crossValidate, summarizeFolds, type CvOptions, type CvResult, type FoldResult } from './train/cv.js';

export { openRun, defaultRunDir, resultsDir, type Run, type RunOptions, type ComparisonRow } from './run/rundir.js';
export { checkpointDir, encodeCheckpoint, decodeCheckpoint, type CheckpointDir } from './run/checkpoint.js';
export { createProgress, formatDuration, type Progress } from './run/progress.js';
export { kitVersion, gitInfo, type Provenance } from './run/provenance.js';
export { toCsv, writeFileAtomic, writeJsonAtomic } from './run/files.js';
