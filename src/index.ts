/**
 * tiny-compression-kit: the library behind `tck` and the notebooks. Import the pieces from here:
 *
 *   import { initEngine, loadView, architectureByName, buildModel, fit, evaluate } from 'tiny-compression-kit';
 */
export { initEngine, engineInfo, tf, BACKEND_CHOICES, type BackendChoice, type EngineInfo } from './engine/backend.ts';
export { rngStream, rngFromState, withSeededMathRandom, type Rng, type StreamName } from './engine/random.ts';
export { runBench, type BenchResult } from './engine/bench.ts';

export type { Dataset, DatasetSplits } from './data/types.ts';
export { DataError, numSamples, sampleSize } from './data/types.ts';
export { REGISTRY, getEntry, loadDataset, type DatasetEntry, type LoadOptions } from './data/registry.ts';
export { VIEWS, loadView, resolveView, type DatasetView, type LoadedView } from './data/views.ts';
export * from './data/split.ts';
export * from './data/preprocess.ts';
export { dataDir } from './data/paths.ts';

export * from './models/arch.ts';
export * from './models/zoo.ts';
export { buildModel, BATCHNORM_DEFAULTS } from './models/build.ts';
export { summarize, formatSummary, type ModelSummary, type SummaryRow } from './models/summary.ts';
export { saveModel, loadModel } from './models/io.ts';

export { fit, TrainingError, type FitOptions, type FitResult, type EpochLog, type FitEvent, type FitState, type EarlyStoppingConfig } from './train/fit.ts';
export { evaluate, predictClasses, confusionMatrix, type Evaluation } from './train/evaluate.ts';
export { createOptimizer, type OptimizerConfig, type Optimizer } from './train/optimizers.ts';
export { learningRateAt, type ScheduleConfig } from './train/schedules.ts';
export { crossValidate, summarizeFolds, type CvOptions, type CvResult, type FoldResult } from './train/cv.ts';

export { openRun, defaultRunDir, resultsDir, type Run, type RunOptions, type ComparisonRow } from './run/rundir.ts';
export { checkpointDir, encodeCheckpoint, decodeCheckpoint, type CheckpointDir } from './run/checkpoint.ts';
export { createProgress, formatDuration, type Progress } from './run/progress.ts';
export { kitVersion, gitInfo, type Provenance } from './run/provenance.ts';
export { toCsv, writeFileAtomic, writeJsonAtomic } from './run/files.ts';
