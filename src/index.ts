/**
 * tiny-compression-kit: the library behind `tck` and the notebooks. Import the pieces from here:
 *
 *   import { initEngine, loadView, architectureByName, buildModel, fit, evaluate } from 'tiny-compression-kit';
 */
export { initEngine, engineInfo, tf, BACKEND_CHOICES, type BackendChoice, type EngineInfo } from './engine/backend.js';
export { rngStream, rngFromState, withSeededMathRandom, type Rng, type StreamName } from './engine/random.js';
export { runBench, type BenchResult } from './bench/workloads.js';
export { syntheticDataset, SyntheticSchema, type SyntheticSpec } from './data/synthetic.js';

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
export { readModelWeights, writeModelWeights, inheritWeights, encodeWeights, decodeWeights, type ModelWeights, type Inheritance, type EncodedWeights } from './models/weights.js';
export { ArchitectureSchema, LayerSpecSchema, GenomeFileSchema, architectureFileSchema, architectureOf } from './models/schema.js';

// The fast path (src/fast/): the kit's own trainer for the seeds' dense and convolutional networks behind the same Architecture.
export { fastTrainee, fastPathSupport } from './fast/net.js';
export { fit, fitTrainee, modelTrainee, TrainingError, type Trainee, type FitOptions, type FitResult, type EpochLog, type FitEvent, type FitState, type EarlyStoppingConfig } from './train/fit.js';
export { evaluate, predictClasses, confusionMatrix, type Evaluation } from './train/evaluate.js';
export { createOptimizer, type OptimizerConfig, type Optimizer } from './train/optimizers.js';
export { learningRateAt, type ScheduleConfig } from './train/schedules.js';
export { summarizeFolds, cvSplits, type CvResult, type FoldResult, type CvSplit } from './train/cv.js';

// The experiment engine: trainings as data, executors (in-process, worker threads, BullMQ), the ledger.
export { JobSpecSchema, parseJobSpec, jobKey, jobLabel, trainSeedOf, type JobSpec, type JobSpecInput } from './experiments/job.js';
export { runJob, trainingPath, loadJobData, jobArchitecture, deterministicPart, type JobResult, type JobMetrics, type JobContext, type EpochRecord } from './experiments/run-job.js';
export { HookSpecSchema, InitSchema, makeHooks, prepareModel, type HookSpec, type InitSpec } from './experiments/hooks.js';
export { executeJob, ExecutorError, type JobOutcome, type JobMeta } from './experiments/outcome.js';
export { createExecutor, inProcessExecutor, defaultThreads, type Executor, type ExecutorChoice, type QueuedJob, type JobProgress } from './experiments/executor.js';
export { openLedger, type Ledger, type LedgerEntry } from './experiments/ledger.js';
export { runJobs, type JobRecord, type JobsSummary, type RunJobsOptions } from './experiments/runner.js';
export { crossValidate, cvJobs, summarizeCv, SEED000_PROTOCOL, type CvProtocol } from './experiments/cv.js';
export { PRESETS, REPRODUCE_STEPS, presetsOf, presetSettings, type PresetDef, type ReproduceStep } from './experiments/registry.js';
// Seed 000 experiment 1, the compression sweep (tck sweep, notebooks/01-compression-sweep.ipynb).
export {
  SweepConfigSchema, SWEEP_DEFAULTS, SWEEP_DATA, SWEEP_WEIGHTS, SWEEP_ACTIVATIONS, sweepData, sweepArchitecture, sweepWeightQuantizer, sweepInputBits,
  sweepCost, sweepReferenceBits, sweepPlan, sweepCombinations, summarizeSweep, onParetoFront, SWEEP_COLUMNS, checkSweepFindings, formatSweepFindings,
  sweepComparison, sweepSpec, sweepFigures, runSweep, checkSweepData, sweepTitle, sweepSettingsNote,
  runSweepPreset, sweepPresetConfig, sweepStandIn, SWEEP_STAND_INS, measuredTiming, estimateSweepSeconds, sweepWork, type SweepPaperEstimate,
  type SweepConfig, type SweepWeights, type SweepActivation, type SweepRow, type SweepFinding, type SweepPlan, type SweepResult, type SweepCost,
} from './experiments/sweep/index.js';

export { openRun, defaultRunDir, resultsDir, type Run, type RunOptions, type ComparisonRow } from './run/rundir.js';
export { checkpointDir, encodeCheckpoint, decodeCheckpoint, CheckpointError, type CheckpointDir } from './run/checkpoint.js';
export { createProgress, formatDuration, type Progress } from './run/progress.js';
export { kitVersion, gitInfo, type Provenance } from './run/provenance.js';

export { renderFigure, renderSvg, svgToPng, figure, figureHtml, labelSpec, historySpec, historyFigure, FigureError, type Figure, type FigureOptions, type FigureLabel, type VegaLiteSpec, type HistoryRow } from './report/figures.js';
export { closeDomain, perClassSpec, perClassFigure, summarizeSeeds, seedSpreadSpec, seedSpreadFigure, type PerClassOptions, type SeedSpreadOptions, type SeedSummaryRow } from './report/figures.js';
export { CompressionSchema, applyCompression, quantizerByName, affineWeights, CompressionError, type Compression, type CompressionParts } from './experiments/compression.js';
export { THEME, OKABE_ITO, FONT_FAMILY, SEQUENTIAL_SCHEME } from './report/theme.js';
export { toDataFrame, frameRows, writeTable, readTable, readCsvRows, markdownTable, htmlTable, formatValue, type Table, type Row } from './report/tables.js';
export { notebookProfile, PROFILES, type Profile } from './run/profile.js';
export { esmImport } from './report/esm.js';
export { writeReport, collectRuns, collectNotebooks, isStandInRun, STAND_IN_MARK, type ReportResult, type ReportRun, type ReportComparison, type NotebookEntry } from './report/report.js';

// Hardware estimators (issue 5): counts, storage, Listing 4.2 memory, TFLM arena, cycles, PE complexity, energy.
export {
  estimate, resolveBits, BitsError, compressionForBits, compressionForQuantizer, weightedLayerIndices, weightedLayerNames, archActivation,
  PE_COMPRESSIONS, PE_ACTIVATIONS, layerCounts, countTotals, memoryReduction, peakMemory, tensorBytes, RUNTIME_OVERHEADS,
  planBuffers, planArena, graphLifetimes, graphFromArchitecture, architectureArena, ArenaError,
  peComplexityReference, peComplexityCorrected, compressionCoefficient, activationCoefficient, nonZeroFraction, PeComplexityError,
  estimateCycles, cyclesPerMacc, datatypeForBits, DEFAULT_CYCLE_PARAMS, TABLE_DATATYPES,
  multiplicationEnergyReduction, architectureEnergyReduction, C1_FX16_VS_FP32, binaryOps,
  comparisonRows, publishedModel, table51Kit, table52Kit, table46Bits, TABLE_5_1, TABLE_5_2, TABLE_4_1, TABLE_4_6,
  type Estimate, type LayerEstimate, type EstimateOptions, type LayerBits, type BitsConfig, type BitsInput, type PeCompression, type PeActivation,
  type LayerCounts, type CountTotals, type PeakMemory, type PeakMemoryOptions, type RuntimeOverhead, type RuntimeName,
  type TensorGraph, type TensorSpec, type OpSpec, type BufferRequest, type PlacedBuffer, type ArenaPlan,
  type PeComplexity, type PeLayerTerm, type CycleParams, type CycleEstimate, type Datatype, type BinaryLayerOps, type EnergyReductionInput,
} from './hw/index.js';

// Compression library (issue 4): quantizers, quantized layers, clustering, pruning, PTQ, integer export.
export * from './quant/index.js';
export * from './compress/index.js';

// Shared utilities: the base error class, JSON hashing, atomic files, statistics.
export * from './util/index.js';

// Seed 002 (issue 14): the bit-packed XNOR-popcount engine, the majority loss, the genetic trainers, the binary ResNet.
export * from './binary/index.js';
export { resnet18, type ResNetOptions } from './models/resnet.js';
export { buildGraphModel } from './models/build.js';
export {
  BinaryConfigSchema, GeneticExperimentSchema, ResNetExperimentSchema, binaryJobs, summarizeBinary, runBinary, runBinaryPreset, binaryPresetConfig, binaryFigures, checkBinaryData,
  SEED002_PUBLISHED, SEED002_EPOCHS, RESNET_VARIANTS, variantEpochs,
  type BinaryConfig, type GeneticExperiment, type ResNetExperiment, type BinaryResult, type BinaryRow, type CurveRow, type BinarySummary, type BinaryPresetRun, type ResNetVariant,
} from './experiments/binary.js';

// Seed 000 NAS (issue 11): NSGA-II, the random-search baseline, hypervolume, ZDT problems, the seed-000 search spaces.
export * from './search/index.js';
export {
  NasConfigSchema, NAS_DEFAULTS, nasSetup, prepareNas, runNas, runNasPreset, nasPresetConfig, writeNasResults, nasFigures, nasComparison, candidateRow, distinctFront, paretoFront, nasHypervolume, TABLE_2_4_HOURS,
  type NasConfig, type NasSetup, type NasResult, type NasSummary, type CandidateData, type HistoryRow as NasHistoryRow, type NasPresetRun,
} from './experiments/nas.js';

// Seed 004 (issue 13): intrinsic dimension (TwoNN, PCA), layer significance, the compression study of QuantNet.
export * from './analysis/index.js';
export {
  CompressStudyConfigSchema, STUDY_DEFAULTS, STUDY_PARTS, STAND_IN_VIEWS, compressPresetConfig, runCompressPreset, compressExperiment, checkCompressData, compressDataPresent, tableMarkdown,
  TABLE_4_3, TABLE_4_4, TABLE_4_5, TABLE_4_6 as TABLE_4_6_ACCURACIES, TABLE_4_7, TABLE_4_8, TABLE_4_9, MIXED_DESIGNS, QUANTNET, WEIGHTED, designTag, precisionsOf, mixedPrecisionArchitecture, storage as parameterStorage, STORAGE_RULES,
  type CompressStudyConfig, type CompressExperimentResult, type CompressPresetRun,
} from './experiments/compress/index.js';
