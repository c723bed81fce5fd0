/**
 * Seed 000's qualitative findings of experiment 1 (§3.1, Figs. 3.1 and 3.2), checked against a computed sweep
 * table. Each check says whether the finding holds in this table, and why, with the numbers; a finding that the
 * table cannot decide (a combination missing or failed) is `null`, never `true`. The seed publishes no accuracy
 * table, only these statements and the wall time of Table 2.4, so they are what `comparison.csv` compares.
 *
 * Where a statement is vague, the reading used here is stated in the check's text and kept as a named
 * constant: "close behind" is within `SWEEP_CLOSE_BEHIND_PP` percentage points of the mean accuracy; "about 2.3
 * points" is 2.3 +- `SWEEP_DROP_TOLERANCE_PP`; "drastically smaller complexity" is at most half; "its ReLU
 * counterpart" is the ReLU model with the same weight compression.
 */
import type { ComparisonRow } from '../../run/rundir.js';
import type { SweepRow } from './summary.js';
import type { SweepActivation, SweepWeights } from './config.js';

/** "Close behind" (§3.1): the mean accuracy of models without activation within this many points of ReLU's. */
export const SWEEP_CLOSE_BEHIND_PP = 5;
/** Fig. 3.2: the cheap non-ReLU Pareto point is 2.3 points below its ReLU counterpart; "about" = within this. */
export const SWEEP_PAPER_DROP_PP = 2.3;
export const SWEEP_DROP_TOLERANCE_PP = 1;

export interface SweepFinding {
  id: 'relu-leads' | 'none-close-behind-cheaper' | 'uncompressed-costliest' | 'ste-beats-reste' | 'pareto-mostly-relu' | 'cheap-non-relu-pareto-point';
  /** Where the seed says it. */
  source: string;
  /** The seed's statement. */
  claim: string;
  /** Whether this table shows it; null when the table cannot decide. */
  holds: boolean | null;
  /** The numbers behind the verdict. */
  detail: string;
  /** The published value and the kit's, for comparison.csv. */
  paperValue: string | number;
  kitValue: string | number | null;
}

const pct = (x: number) => `${x.toFixed(2)}%`;
const acc = (r: SweepRow | undefined) => (r && r.status === 'ok' && r.cvBest !== null ? 100 * r.cvBest : null);

function mean(xs: number[]): number {
  return xs.reduce((a, b) => a + b, 0) / xs.length;
}

/** The findings of §3.1 checked against `rows` (accuracy: cvBest, what the reference reports as "best"). */
export function checkSweepFindings(rows: SweepRow[]): SweepFinding[] {
  const at = (w: SweepWeights, a: SweepActivation) => rows.find((r) => r.weights === w && r.activation === a);
  const weights = [...new Set(rows.map((r) => r.weights))];
  const activations = [...new Set(rows.map((r) => r.activation))];
  const complete = rows.every((r) => acc(r) !== null);
  const failed = rows.filter((r) => acc(r) === null).map((r) => `${r.weights}/${r.activation}`);
  const undecided = (what: string) => `cannot be decided: ${what}`;
  const meanAcc = (a: SweepActivation) => mean(weights.map((w) => acc(at(w, a))!));
  const out: SweepFinding[] = [];

  // 1. ReLU leads (§3.1, first bullet).
  {
    const claim = 'Models that have a ReLU activation function are leading in terms of accuracy.';
    const source = 'seed 000 §3.1, Fig. 3.1';
    if (!activations.includes('relu') || activations.length < 2 || !complete) {
      out.push({ id: 'relu-leads', source, claim, holds: null, detail: undecided(complete ? 'the sweep needs ReLU and another activation' : `failed combinations ${failed.join(', ')}`), paperValue: 'holds', kitValue: null });
    } else {
      const best = rows.reduce((b, r) => (acc(r)! > acc(b)! ? r : b));
      const means = activations.map((a) => ({ a, m: meanAcc(a) })).sort((x, y) => y.m - x.m);
      const holds = best.activation === 'relu' && means[0].a === 'relu';
      const detail = `most accurate: ${best.weights}/${best.activation} (${pct(acc(best)!)}); mean cvBest over the weight compressions: ${means.map((x) => `${x.a} ${pct(x.m)}`).join(', ')}`;
      out.push({ id: 'relu-leads', source, claim, holds, detail, paperValue: 'holds', kitValue: holds ? 'holds' : 'does not hold' });
    }
  }

  // 2. No activation close behind, and cheaper (§3.1, second bullet).
  {
    const claim = 'Models without activation function follow closely behind ReLU in terms of accuracy, being less complex, but performing a bit worse.';
    const source = 'seed 000 §3.1, Fig. 3.1';
    if (!activations.includes('relu') || !activations.includes('none') || !complete) {
      out.push({ id: 'none-close-behind-cheaper', source, claim, holds: null, detail: undecided(complete ? 'the sweep needs ReLU and no activation' : `failed combinations ${failed.join(', ')}`), paperValue: 'holds', kitValue: null });
    } else {
      const means = activations.map((a) => ({ a, m: meanAcc(a) })).sort((x, y) => y.m - x.m);
      const gap = meanAcc('relu') - meanAcc('none');
      const second = means.findIndex((x) => x.a === 'none') === 1 && means[0].a === 'relu';
      const cheaper = weights.every((w) => at(w, 'none')!.complexityReference < at(w, 'relu')!.complexityReference);
      const holds = second && gap > 0 && gap <= SWEEP_CLOSE_BEHIND_PP && cheaper;
      const detail =
        `mean cvBest ReLU ${pct(meanAcc('relu'))}, none ${pct(meanAcc('none'))} (gap ${gap.toFixed(2)} points; "close" read as 0 < gap <= ${SWEEP_CLOSE_BEHIND_PP}); ` +
        `none ranks ${means.findIndex((x) => x.a === 'none') + 1} of ${means.length} activations; cheaper than ReLU for every compression: ${cheaper ? 'yes' : 'no'}`;
      out.push({ id: 'none-close-behind-cheaper', source, claim, holds, detail, paperValue: 'holds', kitValue: holds ? 'holds' : 'does not hold' });
    }
  }

  // 3. Uncompressed models are the most complex (§3.1, third bullet): a property of the heuristic, checked on the table.
  {
    const claim = 'Models without FC/Conv compression have the highest complexity metric value.';
    const source = 'seed 000 §3.1, Fig. 3.1';
    if (!weights.includes('none') || weights.length < 2) {
      out.push({ id: 'uncompressed-costliest', source, claim, holds: null, detail: undecided('the sweep needs uncompressed and compressed weights'), paperValue: 'holds', kitValue: null });
    } else {
      const per = activations.map((a) => {
        const top = weights.map((w) => at(w, a)!).reduce((b, r) => (r.complexityReference > b.complexityReference ? r : b));
        return { a, top: top.weights };
      });
      const holds = per.every((p) => p.top === 'none');
      const detail = `costliest compression per activation (seed-000 heuristic): ${per.map((p) => `${p.a}: ${p.top}`).join(', ')}`;
      out.push({ id: 'uncompressed-costliest', source, claim, holds, detail, paperValue: 'holds', kitValue: holds ? 'holds' : 'does not hold' });
    }
  }

  // 4. STE against ReSTE (§3.1, fourth bullet).
  {
    const claim = 'While complexity is the same, models binarized with STE are more accurate than those using ReSTE in every configuration of compression techniques.';
    const source = 'seed 000 §3.1, Fig. 3.1';
    const pairs = weights.map((w) => ({ w, ste: at(w, 'binary'), reste: at(w, 'binary-reste') })).filter((p) => p.ste && p.reste);
    if (!pairs.length || pairs.some((p) => acc(p.ste) === null || acc(p.reste) === null)) {
      out.push({ id: 'ste-beats-reste', source, claim, holds: null, detail: undecided(pairs.length ? 'a binary-activation combination failed' : 'the sweep needs both binary activations'), paperValue: `${weights.length} of ${weights.length}`, kitValue: null });
    } else {
      const wins = pairs.filter((p) => acc(p.ste)! > acc(p.reste)!);
      const sameCost = pairs.every((p) => p.ste!.complexityReference === p.reste!.complexityReference);
      const holds = wins.length === pairs.length && sameCost;
      const detail = `STE more accurate in ${wins.length} of ${pairs.length} compressions (STE minus ReSTE: ${pairs.map((p) => `${p.w} ${(acc(p.ste)! - acc(p.reste)!).toFixed(2)}`).join(', ')} points); same complexity: ${sameCost ? 'yes' : 'no'}`;
      out.push({ id: 'ste-beats-reste', source, claim, holds, detail, paperValue: `${pairs.length} of ${pairs.length}`, kitValue: `${wins.length} of ${pairs.length}` });
    }
  }

  // 5. and 6. The Pareto front (Fig. 3.2).
  const front = rows.filter((r) => r.pareto);
  {
    const claim = '3/4 solutions of the Pareto front have a ReLU activation function.';
    const source = 'seed 000 §3.1, Fig. 3.2';
    if (!complete || !activations.includes('relu')) {
      out.push({ id: 'pareto-mostly-relu', source, claim, holds: null, detail: undecided(complete ? 'the sweep needs ReLU' : `failed combinations ${failed.join(', ')}`), paperValue: '3 of 4', kitValue: null });
    } else {
      const relu = front.filter((r) => r.activation === 'relu').length;
      const holds = relu > front.length / 2 && relu < front.length;
      const detail = `${relu} of ${front.length} Pareto points use ReLU (read as: most, but not all, as the seed's 3 of 4): ${front.map((r) => `${r.weights}/${r.activation}`).join(', ')}`;
      out.push({ id: 'pareto-mostly-relu', source, claim, holds, detail, paperValue: '3 of 4', kitValue: `${relu} of ${front.length}` });
    }
  }
  {
    const claim = 'A non-ReLU solution on the Pareto front has a drastically smaller complexity, with a 2.3% accuracy drop compared with its ReLU counterpart.';
    const source = 'seed 000 §3.1, Fig. 3.2';
    const nonRelu = front.filter((r) => r.activation !== 'relu').sort((a, b) => acc(b)! - acc(a)!);
    const p = nonRelu[0];
    const counterpart = p && at(p.weights, 'relu');
    if (!complete || !activations.includes('relu')) {
      out.push({ id: 'cheap-non-relu-pareto-point', source, claim, holds: null, detail: undecided(complete ? 'the sweep needs ReLU' : `failed combinations ${failed.join(', ')}`), paperValue: SWEEP_PAPER_DROP_PP, kitValue: null });
    } else if (!p || !counterpart) {
      out.push({ id: 'cheap-non-relu-pareto-point', source, claim, holds: false, detail: 'no non-ReLU combination is on the Pareto front', paperValue: SWEEP_PAPER_DROP_PP, kitValue: null });
    } else {
      const drop = acc(counterpart)! - acc(p)!;
      const ratio = p.complexityReference / counterpart.complexityReference;
      const holds = ratio <= 0.5 && Math.abs(drop - SWEEP_PAPER_DROP_PP) <= SWEEP_DROP_TOLERANCE_PP;
      const detail =
        `most accurate non-ReLU Pareto point ${p.weights}/${p.activation} (${pct(acc(p)!)}, complexity ${p.complexityReference}) against ${counterpart.weights}/relu ` +
        `(${pct(acc(counterpart)!)}, complexity ${counterpart.complexityReference}): ${drop.toFixed(2)} points lower (paper ${SWEEP_PAPER_DROP_PP} +- ${SWEEP_DROP_TOLERANCE_PP}) at ${(100 * ratio).toFixed(1)}% of the complexity (read as "drastically smaller": at most 50%)`;
      out.push({ id: 'cheap-non-relu-pareto-point', source, claim, holds, detail, paperValue: SWEEP_PAPER_DROP_PP, kitValue: Number(drop.toFixed(2)) });
    }
  }
  return out;
}

/** One line per finding: HOLDS / DOES NOT HOLD / UNDECIDED, the claim and the numbers. */
export function formatSweepFindings(findings: SweepFinding[]): string {
  return findings.map((f) => `${f.holds === null ? 'UNDECIDED    ' : f.holds ? 'HOLDS        ' : 'DOES NOT HOLD'}  ${f.claim}\n               ${f.detail}`).join('\n');
}

export interface SweepComparisonContext {
  profile: string;
  model: 'lenet5' | 'vgg7';
  standIn: boolean;
  /** Wall time of the sweep's trainings in this run, seconds (null when nothing ran now). */
  wallSeconds: number | null;
  /** What else the note should say (reduced settings of the profile). */
  note?: string;
  /** The paper profile's estimated wall time on this machine from this run's timing (run.ts), if any. */
  paperEstimate?: { seconds: number; threads: number } | null;
}

/** comparison.csv: each finding (published statement beside the kit's verdict) and the wall time of Table 2.4. */
export function sweepComparison(findings: SweepFinding[], c: SweepComparisonContext): ComparisonRow[] {
  const mark = [c.standIn ? 'STAND-IN data (Fashion-MNIST padded to 32x32x3, not CIFAR-10)' : '', c.note ?? ''].filter(Boolean).join('; ');
  const rows: ComparisonRow[] = findings.map((f) => ({
    seed_document: 'seed 000',
    table_or_figure: f.source.replace(/^seed 000 /, ''),
    quantity: `${c.model === 'lenet5' ? 'LeNet5' : 'VGG7'}: ${f.claim}`,
    paper_value: f.paperValue,
    kit_value: f.kitValue,
    profile: c.profile,
    note: [f.holds === null ? 'undecided' : f.holds ? 'holds' : 'does not hold', f.detail, mark].filter(Boolean).join('; '),
  }));
  rows.push({
    seed_document: 'seed 000',
    table_or_figure: 'Table 2.4',
    quantity: c.model === 'lenet5' ? 'wall time of experiment 1 on LeNet5 / mini-MNIST 32x32 (hours)' : 'wall time of experiment 1 on VGG7 / mini-CIFAR10 (hours)',
    paper_value: c.model === 'lenet5' ? 11 : 'did not finish (§2.2)',
    kit_value: c.wallSeconds === null ? null : Number((c.wallSeconds / 3600).toFixed(3)),
    profile: c.profile,
    note: [
      c.model === 'lenet5' ? 'paper: one NVIDIA A5000 GPU, batch 50' : 'paper: the VGG7 sweep was started late and not included',
      c.wallSeconds === null ? 'every job was taken from the ledger of an earlier attempt' : 'kit: this run on this machine (resumed runs count only the last attempt)',
      mark,
    ].filter(Boolean).join('; '),
  });
  if (c.paperEstimate) {
    rows.push({
      seed_document: 'seed 000',
      table_or_figure: 'Table 2.4',
      quantity: `${c.model === 'lenet5' ? 'LeNet5' : 'VGG7'}: estimated wall time of the paper profile on this machine (hours)`,
      paper_value: c.model === 'lenet5' ? 11 : 'did not finish (§2.2)',
      kit_value: Number((c.paperEstimate.seconds / 3600).toFixed(1)),
      profile: c.profile,
      note: [
        `estimate: this run's training seconds per sample, epoch and MAC, scaled to the paper settings (all epochs trained) on ${c.paperEstimate.threads} thread(s), under the machine's load at the time`,
        c.profile === 'smoke' ? 'from smoke timing, mostly start-up, so far too high' : '',
        mark,
      ].filter(Boolean).join('; '),
    });
  }
  return rows;
}
