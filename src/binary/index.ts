/** Seed 002's bit-packed binary networks: engine, majority loss, genetic trainers, augmentation, §5.3's arithmetic. */
export { rowChunks, rowWords, popcount32, wordMask, getBit, setBit, packSigns, packBits, unpackSigns, gatherRows } from './pack.js';
export { seedState, nextU32, below, shuffleInts, bernoulliWord, checkRatio, type Ratio } from './irand.js';
export { xnorModuleBytes, XNOR_SAMPLE_BLOCK } from './wasm.js';
export { forwardLayers, xnorLayerJs, weightRows, sampleRows, wasmKernelAvailable, type KernelChoice, type LayerStack } from './xnor.js';
export { fmix32, countRange, groupCounts, predictMajority, countCorrect, targetRows, TIE_RULES, TieRuleSchema, type TieRule, type MajorityHead } from './majority.js';
export { randomNetwork, cloneNetwork, flipWeights, weightCount, predict, correctCount, binaryArchitecture, checkSizes, type BinaryNetwork, type PackedBatch } from './network.js';
export { SlicedCounter } from './counter.js';
export {
  RatioSchema, NaiveConfigSchema, EliteConfigSchema, CountingConfigSchema, TrainerConfigSchema, BatchPlan, SCORE_SCALE, intDiv, checkTrainerConfig,
  type NaiveConfig, type EliteConfig, type CountingConfig, type TrainerConfig, type TrainerConfigInput, type TrainerKind, type PackedSet,
} from './genetic.js';
export { createTrainer, type GeneticTrainer, type StepReport, type TrainerContext } from './trainer.js';
export { naiveTrainer, type NaiveState } from './naive.js';
export { eliteTrainer, type EliteState } from './elite.js';
export { countingTrainer, markWrong, type CountingState, type WrongMarks } from './counting.js';
export { prototypeProblem, type PrototypeProblem } from './problems.js';
export { GeneticTaskSchema, runGeneticJob, geneticSizes, type GeneticTask, type GeneticTaskInput, type GeneticOutcome, type GeneticCurvePoint } from './job.js';
export { AugmentSchema, augmentImage, augmentEpoch, augmentation, type AugmentConfig } from './augment.js';
export { trainingSavings, weightMemory, CPT_FACTOR, type TrainingSavings } from './speedup.js';
export { binaryInferBench, BINARY_INFER_SIZES, BINARY_INFER_BATCH } from './bench.js';
