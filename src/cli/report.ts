/**
 * `tck report`: gathers every run directory under results/ (or $TCK_RESULTS_DIR) into results/REPORT.md and
 * results/REPORT.html: published numbers of preset runs beside the kit's by seed document, exploratory (custom)
 * runs apart, profiles, data-free and stand-in marks, figures (embedded in the HTML), notebooks and provenance.
 *
 *   tck report [--json]
 */
import path from 'node:path';
import { writeReport } from '../report/report.js';
import { resultsDir } from '../run/rundir.js';
import { parse, printJson } from './common.js';

const HELP = `tck report: write results/REPORT.md and results/REPORT.html from every run directory

  tck report [--json]

Reads each run directory's provenance.json, config.json, comparison.csv and figures/ under the results
directory (${'$'}TCK_RESULTS_DIR, default results/) and the notebooks executed by npm run notebooks.
Preset runs (profile smoke, quick or paper) fill the seed documents' sections; exploratory runs (profile
custom) get a section of their own, where each published number appears once. REPORT.html embeds the
figures, so it can be mailed or archived alone; REPORT.md links them (keep results/ together).

Options:
  --json     end with one JSON line on stdout
  --quiet    no progress lines
`;

export async function reportCommand(argv: string[]): Promise<number> {
  const { values: v } = parse('report', argv, { json: { type: 'boolean' }, quiet: { type: 'boolean' }, help: { type: 'boolean', short: 'h' } });
  if (v.help) {
    process.stdout.write(HELP);
    return 0;
  }
  const r = writeReport({ root: resultsDir() });
  const docs = Object.fromEntries(Object.entries(r.seedDocuments).map(([k, rows]) => [k, rows.length]));
  const standIn = r.runs.filter((x) => x.standIn).map((x) => x.name);
  const exploratory = r.runs.filter((x) => x.kind === 'exploratory').map((x) => x.name);
  if (!v.quiet) {
    const rel = (p: string) => {
      const r = path.relative(process.cwd(), p);
      return r && !r.startsWith('..') ? r : p;
    };
    process.stderr.write(
      `tck report: ${r.runs.length} run(s)${exploratory.length ? ` (${exploratory.length} exploratory)` : ''}, ${Object.keys(docs).length} seed document(s), ${r.notebooks.length} notebook(s)` +
        `${standIn.length ? `, ${standIn.length} on stand-in data` : ''}; wrote ${rel(r.markdownPath)} and ${rel(r.htmlPath)}\n`,
    );
  }
  if (v.json) {
    printJson({
      command: 'report',
      runs: r.runs.length,
      seedDocuments: docs,
      standInRuns: standIn,
      exploratoryRuns: exploratory,
      exploratoryRows: { listed: r.exploratory.rows.length, equalToPreset: r.exploratory.equalToPreset, duplicates: r.exploratory.duplicates },
      notebooks: r.notebooks.length,
      problems: r.runs.filter((x) => x.problems.length).map((x) => ({ run: x.name, problems: x.problems })),
      markdown: r.markdownPath,
      html: r.htmlPath,
    });
  }
  return 0;
}
